//! `otelcol-rust-server`: the Rust processors of otelcol-rust for a
//! collector built without cgo.
//!
//! Many collectors cannot link native code (the official releases are
//! built with `CGO_ENABLED=0`, some platforms forbid cgo). For them the
//! same processors, from the same engine and processor crates, run in this
//! process, and a pure-Go component of the collector
//! (`components/rustprocess`) talks to it over a Unix domain socket with
//! the gRPC service of `proto/otelcolrust/v1/processors.proto`.
//!
//! ```text
//! otelcol-rust-server serve --socket PATH [--exit-on-stdin-eof]
//! otelcol-rust-server validate TYPE      # JSON config on stdin; effective config on stdout
//! ```
//!
//! `serve` listens on `PATH` (created with mode 0600, so only the
//! collector's user can connect) until SIGTERM or SIGINT or, with
//! `--exit-on-stdin-eof` (how the collector starts it), until its standard
//! input closes: the collector holds the other end of that pipe, so the
//! server never outlives it, even when the collector is killed; SIGINT
//! and SIGHUP are then ignored, as the collector decides when it stops. `validate` answers the collector's
//! configuration checks (`otelcol validate`, startup) without a server.

mod failure;
mod instances;
mod logs;
mod service;

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;

/// The generated messages and server of the gRPC service.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("otelcolrust.v1");
}

/// What can stop the server from starting or serving.
#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error(
        "usage: otelcol-rust-server serve --socket PATH [--exit-on-stdin-eof] | validate TYPE"
    )]
    Usage,
    #[error("socket {path}: {source}")]
    Socket {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    #[error("serving: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("validate") if args.len() == 2 => return validate(&args[1]),
        _ => Err(ServeError::Usage),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("otelcol-rust-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a JSON configuration on stdin and prints its effective form, or
/// the error (naming the field) on stderr with exit code 1.
fn validate(processor_type: &str) -> ExitCode {
    let mut config = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut config) {
        eprintln!("reading the configuration: {e}");
        return ExitCode::from(2);
    }
    match instances::effective(processor_type, &config) {
        Ok(effective) => {
            println!("{effective}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &[String]) -> Result<(), ServeError> {
    let mut socket = None;
    let mut exit_on_eof = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--socket" => socket = it.next().map(PathBuf::from),
            "--exit-on-stdin-eof" => exit_on_eof = true,
            _ => return Err(ServeError::Usage),
        }
    }
    let socket = socket.ok_or(ServeError::Usage)?;
    logs::install();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("otelcol-rust-server")
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        // A socket left by a server that died is in the way.
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).map_err(|source| ServeError::Socket {
            path: socket.clone(),
            source,
        })?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| ServeError::Socket {
                path: socket.clone(),
                source,
            },
        )?;
        log::info!(socket:% = socket.display(); "otelcol-rust-server listening");
        let service = pb::processors_server::ProcessorsServer::new(service::Service::default())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let result = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown(exit_on_eof))
            .await;
        let _ = std::fs::remove_file(&socket);
        result.map_err(ServeError::from)
    })
}

/// Resolves when the server should stop: SIGTERM, or the end of stdin
/// when the collector holds it. A collector's server ignores SIGINT and
/// SIGHUP, which a terminal or a reload sends to the whole process group:
/// the collector decides when its server stops. A server run by hand stops
/// on SIGINT too.
async fn shutdown(exit_on_eof: bool) {
    use tokio::io::AsyncReadExt as _;
    use tokio::signal::unix::{signal, SignalKind};
    let stdin_closed = async {
        if !exit_on_eof {
            return std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let interrupt = async {
        if exit_on_eof {
            // Handled (so they do not kill the process), never acted on.
            let _interrupt = signal(SignalKind::interrupt());
            let _hangup = signal(SignalKind::hangup());
            std::future::pending::<()>().await
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    tokio::select! {
        _ = stdin_closed => {}
        _ = term => {}
        _ = interrupt => {}
    }
}
