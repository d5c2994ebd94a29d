//! The bridge's one tokio runtime, and panic containment for futures.
//!
//! Requests start on the Go caller's thread and only come here when their
//! future has to wait (see `request.rs`). One runtime serves every component
//! so that a collector with many Rust processors still has one set of
//! worker threads, sized to the machine.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Runtime};

/// Overrides the number of worker threads (default: one per core).
pub const WORKER_THREADS_ENV: &str = "OTELCOL_RUST_WORKER_THREADS";

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, started on first use.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let mut builder = Builder::new_multi_thread();
        if let Some(n) = std::env::var(WORKER_THREADS_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
        {
            builder.worker_threads(n);
        }
        builder
            .thread_name("otelcol-rust")
            .enable_time()
            .build()
            .expect("the bridge cannot run without its tokio runtime")
    })
}

/// Replaces the default panic hook (several lines, optionally a backtrace,
/// for every panic) with one error record naming where it happened, in the
/// logger of the component whose request panicked (stderr until Go has set
/// up logging). The panic is then contained and reported as the request's
/// error.
pub fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = panic_message(info.payload());
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "unknown location".to_string());
            if log::log_enabled!(log::Level::Error) {
                log::error!(location = location.as_str(); "Rust processor panicked (contained): {message}");
            } else {
                eprintln!("otelcol-rust: contained panic at {location}: {message}");
            }
        }));
    });
}

/// Turns a panic inside a future into an `Err` carrying the panic payload.
pub struct CatchUnwind<F>(pub F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Drops a value, containing a panic in its destructor.
pub fn drop_contained<T>(value: T) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
}
