//! `otelcol-rust-builder`: a Collector with Rust processors from any
//! crates, the way ocb builds one with Go components from any modules.
//!
//! A Go user adds a component to a custom collector with one `gomod:` line
//! in an ocb manifest. This command gives a Rust processor crate the same
//! standing: the manifest gets a `rust` section listing processor crates
//! as Cargo lists dependencies (a version, a git source or a path), and
//! the builder
//!
//! 1. writes a staticlib crate that depends on the bridge and on those
//!    crates and registers their factories ([`cargo`]), and builds it;
//! 2. writes a Go module per crate with a component package per processor,
//!    and a module that links the archive through its own cgo flags
//!    ([`golang`]);
//! 3. writes ocb's manifest, the user's plus those modules, and runs the
//!    stock ocb on it ([`ocb`]).
//!
//! Everything it writes is a function of its input: a second run on the
//! same manifest writes the same files. `new` writes a processor crate from
//! a template ([`scaffold`]).

mod cargo;
mod error;
mod files;
mod golang;
mod manifest;
mod ocb;
mod scaffold;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use error::{Error, Result};

/// How to call the builder.
pub const USAGE: &str = "\
usage:
  otelcol-rust-builder --config <manifest.yaml> [--ocb <path>] [--ldflags <flags>] [--skip-ocb] [-- <ocb flags>...]
      builds the collector of an ocb manifest with a `rust` section
  otelcol-rust-builder new <processor_type> [--dir <dir>] [--engine-path <path> | --engine-version <version>]
      writes a new processor crate (config, factory, tests, README) into <dir>
      (default: the type with '-' for '_')
  otelcol-rust-builder --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("otelcol-rust-builder: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("--version") => {
            println!("otelcol-rust-builder {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some("new") => new(&args[1..]),
        _ => build(args),
    }
}

/// The value after flag `args[i]`.
fn value(args: &[String], i: usize) -> Result<&str> {
    args.get(i + 1)
        .map(String::as_str)
        .ok_or_else(|| Error::Usage(format!("{} needs a value", args[i])))
}

fn new(args: &[String]) -> Result<()> {
    let mut typ = None;
    let mut dir = None;
    let mut engine = scaffold::EngineSource::Version(env!("CARGO_PKG_VERSION").to_string());
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--dir" => {
                dir = Some(PathBuf::from(value(args, i)?));
                i += 1;
            }
            "--engine-path" => {
                engine = scaffold::EngineSource::Path(value(args, i)?.to_string());
                i += 1;
            }
            "--engine-version" => {
                engine = scaffold::EngineSource::Version(value(args, i)?.to_string());
                i += 1;
            }
            a if a.starts_with('-') => return Err(Error::Usage(format!("unknown flag {a}"))),
            a if typ.is_none() => typ = Some(a.to_string()),
            a => return Err(Error::Usage(format!("unexpected {a}"))),
        }
        i += 1;
    }
    let typ = typ.ok_or_else(|| Error::Usage("new: the processor type is missing".into()))?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(scaffold::crate_name(&typ)));
    scaffold::write(&dir, &typ, &engine)?;
    eprintln!(
        "otelcol-rust-builder: wrote {} ({} processor); `cargo test` there, then list it under rust.processors",
        dir.display(),
        typ
    );
    Ok(())
}

/// The options of a build.
struct BuildOptions {
    config: PathBuf,
    ocb: String,
    ldflags: Option<String>,
    skip_ocb: bool,
    ocb_args: Vec<String>,
}

fn build_options(args: &[String]) -> Result<BuildOptions> {
    let mut o = BuildOptions {
        config: PathBuf::new(),
        ocb: "builder".into(),
        ldflags: None,
        skip_ocb: false,
        ocb_args: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--config" => {
                o.config = PathBuf::from(value(args, i)?);
                i += 1;
            }
            "--ocb" => {
                o.ocb = value(args, i)?.to_string();
                i += 1;
            }
            "--ldflags" => {
                o.ldflags = Some(value(args, i)?.to_string());
                i += 1;
            }
            "--skip-ocb" => o.skip_ocb = true,
            "--" => {
                o.ocb_args = args[i + 1..].to_vec();
                break;
            }
            a => return Err(Error::Usage(format!("unknown argument {a}"))),
        }
        i += 1;
    }
    if o.config.as_os_str().is_empty() {
        return Err(Error::Usage("--config is required".into()));
    }
    Ok(o)
}

fn build(args: &[String]) -> Result<()> {
    let opts = build_options(args)?;
    let manifest = manifest::Manifest::load(&opts.config)?;
    let out = match &manifest.rust.output_path {
        Some(p) => manifest.resolve(p),
        // ocb reads dist.output_path relative to where it runs.
        None => manifest.dist_output_path.join("rust"),
    };
    std::fs::create_dir_all(&out).map_err(Error::io(&out))?;
    let out = files::absolute(&out)?;

    let krate = cargo::GeneratedCrate::new(&manifest, &out);
    cargo::write_cargo_toml(&manifest, &krate)?;
    let crates = cargo::resolve(&manifest, &krate)?;
    cargo::write_sources(&krate, &crates)?;
    step(&format!("building {} (cargo)", krate.package));
    cargo::build(&krate)?;
    let described: Vec<golang::Described> = serde_json::from_value(cargo::describe(&krate)?)
        .map_err(|e| Error::Output {
            what: "the registry description",
            message: e.to_string(),
        })?;

    let prefix = manifest
        .rust
        .go_module
        .clone()
        .unwrap_or_else(|| format!("otelcol-rust.local/{}", manifest.dist_name));
    let archive = files::absolute(&krate.archive())?;
    let modules = golang::write_modules(&out.join("go"), &prefix, &archive, &crates, &described)?;
    for m in &modules[1..] {
        step(&format!("{} {}: {}", m.path, m.version, m.packages.len()));
    }
    let goflags = std::env::var("GOFLAGS").unwrap_or_default();
    let text = ocb::final_manifest(&manifest, &modules, &goflags)?;
    let final_path = out.join("builder-config.yaml");
    if opts.skip_ocb {
        files::write_if_changed(&final_path, text.as_bytes())?;
        step(&format!("wrote {}", final_path.display()));
        return Ok(());
    }
    let ldflags = ocb::ldflags(opts.ldflags.as_deref(), &archive)?;
    step(&format!(
        "building the collector (ocb {})",
        Path::new(&opts.ocb).display()
    ));
    ocb::run(&opts.ocb, &final_path, &text, &ldflags, &opts.ocb_args)
}

fn step(what: &str) {
    eprintln!("otelcol-rust-builder: {what}");
}
