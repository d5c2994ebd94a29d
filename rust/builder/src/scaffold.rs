//! `otelcol-rust-builder new`: a processor crate from a template.
//!
//! The template is a complete processor (it sets an attribute), with its
//! configuration, factory, `PROCESSORS` list, unit tests on the engine's
//! testing harness and a README, because a newcomer learns more from a
//! small working processor to change than from an empty one. The
//! repository builds and runs the same template as its out-of-tree
//! example (`testdata/example-processor`), so the template is known to
//! compile and pass its tests.

use std::path::Path;

use crate::error::{Error, Result};

const CARGO_TOML: &str = include_str!("../templates/processor/Cargo.toml");
const LIB_RS: &str = include_str!("../templates/processor/src/lib.rs");
const README: &str = include_str!("../templates/processor/README.md");

/// Where the new crate's engine comes from.
#[derive(Debug, Clone)]
pub enum EngineSource {
    /// The engine of this builder's version, from the crate registry.
    Version(String),
    /// A local checkout of the engine crate.
    Path(String),
}

impl EngineSource {
    fn spec(&self) -> String {
        match self {
            EngineSource::Version(v) => format!("{{ version = {} }}", quote(v)),
            EngineSource::Path(p) => format!("{{ path = {} }}", quote(p)),
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The files of a new crate for the processor type `typ`, by relative
/// path: `Cargo.toml`, `src/lib.rs`, `README.md`.
pub fn render(typ: &str, engine: &EngineSource) -> Result<Vec<(&'static str, String)>> {
    if typ.is_empty()
        || !typ.starts_with(|c: char| c.is_ascii_lowercase())
        || !typ
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::Usage(format!(
            "{typ:?} is not a processor type: lower-case letters, digits and '_', starting with a letter"
        )));
    }
    let fill = |t: &str| {
        t.replace("__TYPE__", typ)
            .replace("__CRATE__", &crate_name(typ))
            .replace("__ENGINE__", &engine.spec())
    };
    Ok(vec![
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(LIB_RS)),
        ("README.md", fill(README)),
    ])
}

/// The crate of the processor type `typ` (`example_tag` -> `example-tag`).
pub fn crate_name(typ: &str) -> String {
    typ.replace('_', "-")
}

/// Writes the new crate into `dir`, which must not exist yet.
pub fn write(dir: &Path, typ: &str, engine: &EngineSource) -> Result<()> {
    if dir.exists() {
        return Err(Error::Usage(format!("{} exists already", dir.display())));
    }
    for (name, text) in render(typ, engine)? {
        crate::files::write_if_changed(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's out-of-tree example is this template, for the type
    /// `example_tag` with the engine from the repository: building and
    /// testing it (make test) builds and tests the template.
    #[test]
    fn the_example_processor_is_the_template() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/example-processor");
        let files = render(
            "example_tag",
            &EngineSource::Path("../../rust/engine".into()),
        )
        .expect("rendered");
        for (name, text) in files {
            let on_disk = std::fs::read_to_string(root.join(name)).expect("example file");
            assert_eq!(
                on_disk, text,
                "testdata/example-processor/{name} differs from the template"
            );
        }
    }

    #[test]
    fn a_type_that_is_not_one_is_refused() {
        assert!(render("Example-Tag", &EngineSource::Version("0.1.0".into())).is_err());
        assert!(render("", &EngineSource::Version("0.1.0".into())).is_err());
    }
}
