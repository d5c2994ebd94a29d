//! The final manifest and the stock Collector builder.
//!
//! The user's manifest without its `rust` section, plus one `processors`
//! entry per generated component package and a `replaces` entry per
//! generated module (they are local directories, never fetched). ocb then
//! builds it as it builds any manifest. Two things are added: the build
//! tag `otelcolrust_builder` in `dist.build_tags` (the bridge package then
//! leaves its own archive out) and `-X` of the archive's hash in the linker
//! flags (Go's build cache does not look at archives named in cgo flags; a
//! changed hash makes it relink). ocb passes `build_tags` as `go build
//! -tags`, which replaces any `-tags` of GOFLAGS, so the tags written there
//! are the manifest's, GOFLAGS' and the builder's together.

use std::path::Path;
use std::process::Command;

use serde_yaml::{Mapping, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::files::{slash, write_if_changed};
use crate::golang::{Module, COMPONENTS_MODULE};
use crate::manifest::Manifest;

/// The build tag that makes the bridge package leave its archive out.
pub const BUILD_TAG: &str = "otelcolrust_builder";

/// The manifest ocb builds: the user's, plus the generated modules.
/// `goflags` is the GOFLAGS ocb will run with (their `-tags` are kept).
pub fn final_manifest(manifest: &Manifest, modules: &[Module], goflags: &str) -> Result<String> {
    let mut ocb = manifest.ocb.clone();
    if let Some(Value::Mapping(dist)) = ocb.get_mut("dist") {
        let user = dist.get("build_tags").and_then(Value::as_str).unwrap_or("");
        let tags = build_tags(user, goflags);
        dist.insert("build_tags".into(), tags.into());
    }
    let mut processors = take_sequence(&mut ocb, "processors", manifest)?;
    let mut replaces = take_sequence(&mut ocb, "replaces", manifest)?;
    for m in modules {
        for import in &m.packages {
            let mut entry = Mapping::new();
            entry.insert("gomod".into(), format!("{} {}", m.path, m.version).into());
            entry.insert("import".into(), import.clone().into());
            processors.push(Value::Mapping(entry));
        }
        replaces.push(format!("{} => {}", m.path, slash(&m.dir)).into());
    }
    ocb.insert("processors".into(), Value::Sequence(processors));
    ocb.insert("replaces".into(), Value::Sequence(replaces));
    let body = serde_yaml::to_string(&ocb).map_err(|e| Error::Manifest {
        path: manifest.path.clone(),
        message: e.to_string(),
    })?;
    Ok(format!("# {}\n{body}", crate::cargo::GENERATED))
}

fn take_sequence(ocb: &mut Mapping, key: &str, manifest: &Manifest) -> Result<Vec<Value>> {
    match ocb.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(s)) => Ok(s),
        Some(_) => Err(Error::Manifest {
            path: manifest.path.clone(),
            message: format!("{key}: not a list"),
        }),
    }
}

/// The linker flags: the user's, then the archive's hash for the bridge.
pub fn ldflags(user: Option<&str>, archive: &Path) -> Result<String> {
    let bytes = std::fs::read(archive).map_err(Error::io(archive))?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let x = format!("-X {COMPONENTS_MODULE}/bridge.rustLibrary={}", &hash[..16]);
    Ok(match user {
        Some(u) if !u.trim().is_empty() => format!("{u} {x}"),
        _ => x,
    })
}

/// The build tags of the manifest (`dist.build_tags`, separated by commas
/// or spaces), then those of GOFLAGS' `-tags=`, then the builder's, each
/// once, separated by commas.
pub fn build_tags(manifest: &str, goflags: &str) -> String {
    let from_goflags = goflags.split_whitespace().filter_map(|f| {
        f.strip_prefix("-tags=")
            .or_else(|| f.strip_prefix("--tags="))
    });
    let mut tags: Vec<&str> = Vec::new();
    for tag in manifest
        .split([',', ' '])
        .chain(from_goflags.flat_map(|t| t.split(',')))
        .chain([BUILD_TAG])
    {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags.join(",")
}

/// Writes the final manifest to `path` and runs `ocb` on it.
pub fn run(ocb: &str, path: &Path, text: &str, ldflags: &str, extra: &[String]) -> Result<()> {
    write_if_changed(path, text.as_bytes())?;
    crate::cargo::run(
        Command::new(ocb)
            .arg("--config")
            .arg(path)
            .arg("--ldflags")
            .arg(ldflags)
            .args(extra)
            .env("CGO_ENABLED", "1")
            .stdout(std::process::Stdio::inherit()),
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn tags_are_the_manifests_goflags_and_the_builders() {
        assert_eq!(build_tags("", ""), "otelcolrust_builder");
        assert_eq!(
            build_tags("a b", "-buildmode=pie -tags=b,c"),
            "a,b,c,otelcolrust_builder"
        );
    }

    #[test]
    fn the_final_manifest_lists_the_generated_packages() {
        let m = Manifest::parse(
            Path::new("/p/m.yaml"),
            "dist: { name: c }\nprocessors:\n  - gomod: a.b/batch v1.0.0\nreplaces:\n  - x => ../x\nrust:\n  processors: { p: \"1\" }\n",
        )
        .expect("valid");
        let modules = [Module {
            path: "ex.com/c/p".into(),
            version: "v1.0.0".into(),
            dir: PathBuf::from("/out/go/p"),
            packages: vec!["ex.com/c/p/processor/pprocessor".into()],
        }];
        let text = final_manifest(&m, &modules, "-tags=x").expect("written");
        assert!(!text.contains("rust:"), "{text}");
        assert!(text.contains("build_tags: x,otelcolrust_builder"), "{text}");
        assert!(text.contains("gomod: a.b/batch v1.0.0"), "{text}");
        assert!(
            text.contains("gomod: ex.com/c/p v1.0.0\n  import: ex.com/c/p/processor/pprocessor"),
            "{text}"
        );
        assert!(
            text.contains("- x => ../x\n- ex.com/c/p => /out/go/p"),
            "{text}"
        );
    }
}
