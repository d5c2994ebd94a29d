//! The manifest: an ocb manifest with one more top-level section, `rust`.
//!
//! Everything ocb reads keeps its meaning and passes through untouched;
//! the builder only reads `dist` (for names and versions) and takes the
//! `rust` section out before handing the manifest to ocb:
//!
//! ```yaml
//! rust:
//!   processors:                # crates, spelt as Cargo.toml's [dependencies]
//!     my-processor: { path: ./my-processor }
//!     other-processor: "0.3"
//!     third: { git: https://example.com/third.git, tag: v1.0.0 }
//!   bridge: { path: ../otelcol-rust/rust/bridge }   # default: the builder's version
//!   patch:                     # [patch.crates-io], for a local engine
//!     otelcol-rust-engine: { path: ../otelcol-rust/rust/engine }
//!   lockfile: Cargo.lock       # a Cargo.lock to start from
//!   target_dir: target         # Cargo's target directory
//!   go_module: example.com/mycol   # prefix of the generated Go modules
//!   output_path: _build/rust   # where the generated crate and modules go
//! ```
//!
//! Relative paths in the `rust` section are relative to the manifest's
//! directory, as Cargo reads paths relative to the Cargo.toml naming them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use crate::error::{Error, Result};

/// The manifest as read: ocb's part verbatim, and the Rust section.
#[derive(Debug)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// Its directory, absolute: the base of the Rust section's paths.
    pub dir: PathBuf,
    /// Everything but `rust`, in the order written.
    pub ocb: Mapping,
    /// `dist.name`.
    pub dist_name: String,
    /// `dist.version` (`0.0.1` when absent).
    pub dist_version: String,
    /// `dist.output_path` (`./_build` when absent, ocb's default).
    pub dist_output_path: PathBuf,
    /// The `rust` section.
    pub rust: RustSection,
}

/// The `rust` section of a manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RustSection {
    /// The processor crates, each as Cargo.toml's `[dependencies]` writes
    /// it: a version requirement, or a table (`version`, `path`, `git`,
    /// `branch`, `tag`, `rev`, `package`, `features`,
    /// `default-features`, `registry`).
    pub processors: Mapping,
    /// Where `otelcol-rust-bridge` comes from, in the same spelling;
    /// by default the version of this builder.
    #[serde(default)]
    pub bridge: Option<Value>,
    /// `[patch.crates-io]` entries of the generated crate.
    #[serde(default)]
    pub patch: Option<Mapping>,
    /// A Cargo.lock copied into the generated crate before each build.
    #[serde(default)]
    pub lockfile: Option<PathBuf>,
    /// Cargo's target directory (default: `target` in the output folder).
    #[serde(default)]
    pub target_dir: Option<PathBuf>,
    /// Prefix of the generated Go modules (default
    /// `otelcol-rust.local/<dist.name>`).
    #[serde(default)]
    pub go_module: Option<String>,
    /// The builder's output folder (default: `rust` under
    /// `dist.output_path`).
    #[serde(default)]
    pub output_path: Option<PathBuf>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Self::parse(path, &text)
    }

    /// Parses `text`, the manifest at `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
        let bad = |message: String| Error::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let mut ocb: Mapping = serde_yaml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let rust = ocb.remove("rust").ok_or_else(|| {
            bad("no `rust` section: nothing for otelcol-rust-builder to add".into())
        })?;
        let rust: RustSection =
            serde_yaml::from_value(rust).map_err(|e| bad(format!("rust: {e}")))?;
        if rust.processors.is_empty() {
            return Err(bad("rust.processors: lists no crate".into()));
        }
        for key in rust.processors.keys() {
            let name = key.as_str().unwrap_or_default();
            if !crate_name_ok(name) {
                return Err(bad(format!("rust.processors: {key:?} is not a crate name")));
            }
        }
        let dist = ocb.get("dist").and_then(Value::as_mapping);
        let field = |name: &str| dist.and_then(|d| d.get(name)).and_then(Value::as_str);
        let dist_name = field("name")
            .ok_or_else(|| bad("dist.name: required".into()))?
            .to_string();
        if !crate_name_ok(&dist_name) {
            return Err(bad(format!(
                "dist.name: {dist_name:?} must be letters, digits, '-' and '_'"
            )));
        }
        let dir = crate::files::absolute(path.parent().unwrap_or(Path::new(".")))?;
        let dir = if dir.as_os_str().is_empty() {
            crate::files::absolute(Path::new("."))?
        } else {
            dir
        };
        Ok(Manifest {
            path: path.to_path_buf(),
            dir,
            dist_version: field("version").unwrap_or("0.0.1").to_string(),
            dist_output_path: PathBuf::from(field("output_path").unwrap_or("./_build")),
            dist_name,
            ocb,
            rust,
        })
    }

    /// A path of the Rust section, made absolute.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.dir.join(path)
    }
}

/// Whether `name` can be a Cargo package name (and a bare TOML key).
pub fn crate_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rust_section_and_keeps_the_rest() {
        let m = Manifest::parse(
            Path::new("/x/builder.yaml"),
            "dist:\n  name: mycol\n  version: 1.2.3\nreceivers: []\nrust:\n  processors:\n    a: { path: ./a }\n    b: \"0.3\"\n",
        )
        .expect("valid");
        assert_eq!(m.dist_name, "mycol");
        assert_eq!(m.dist_version, "1.2.3");
        assert!(m.ocb.get("rust").is_none());
        assert!(m.ocb.get("receivers").is_some());
        let keys: Vec<_> = m.rust.processors.keys().filter_map(Value::as_str).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn an_unknown_field_names_its_path() {
        let err = Manifest::parse(
            Path::new("m.yaml"),
            "dist: { name: c }\nrust:\n  processors: { a: \"1\" }\n  colour: blue\n",
        )
        .expect_err("unknown field");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn a_manifest_without_rust_section_is_refused() {
        let err = Manifest::parse(Path::new("m.yaml"), "dist: { name: c }\n").expect_err("no rust");
        assert!(err.to_string().contains("rust"), "{err}");
    }
}
