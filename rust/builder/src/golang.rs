//! The generated Go modules: the component packages ocb imports.
//!
//! One module per processor crate, `<go_module>/<crate>`, whose version is
//! the crate's (`components` lists a component with its module and
//! version, so the crate and its version are what a user sees), holding
//! one package per processor, `processor/<type without _>processor`, as
//! Collector components are laid out. Each is a thin shell over
//! `bridge.NewProcessorFactory` of the otelcol-rust components module,
//! like the packages this repository generates for its own processors.
//!
//! One more module, `<go_module>/link`, holds the staticlib itself (a
//! hard link to Cargo's output, or a copy) and a cgo directive that names
//! it relative to the module, so the archive is found through the module
//! and not through a path into the otelcol-rust repository or Cargo's
//! target directory. Every component package imports it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cargo::{ResolvedCrate, GENERATED};
use crate::error::{Error, Result};
use crate::files::write_if_changed;

/// The Go module of the otelcol-rust bridge.
pub const COMPONENTS_MODULE: &str = "github.com/otelcol-rust/otelcol-rust/components";

/// The Go version the generated modules declare: the bridge module's.
const GO_VERSION: &str = "1.26.0";

/// A processor as the describe program prints it.
#[derive(Debug, Clone, Deserialize)]
pub struct Described {
    /// The crate it comes from.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Its Collector type.
    pub name: String,
    /// One line about it.
    pub description: String,
    /// `development`, `alpha`, `beta` or `stable`.
    pub stability: String,
    /// `traces`, `metrics`, `logs`.
    pub signals: Vec<String>,
    /// A small valid configuration.
    pub example_config: serde_json::Value,
    /// Its README.
    pub readme: String,
}

/// A Go module the builder wrote, for the final manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module path.
    pub path: String,
    /// Its version (`v` + the crate's).
    pub version: String,
    /// Where it is.
    pub dir: PathBuf,
    /// Import paths of its component packages.
    pub packages: Vec<String>,
}

/// The Go package name of a processor type (`rust_attributes` ->
/// `rustattributesprocessor`).
pub fn package_name(typ: &str) -> String {
    format!("{}processor", typ.replace('_', ""))
}

/// A crate version as a Go module version (`0.3.1` -> `v0.3.1`; build
/// metadata dropped, Go has no place for it).
pub fn go_version(crate_version: &str) -> String {
    let v = crate_version.split('+').next().unwrap_or(crate_version);
    format!("v{v}")
}

/// Writes every module under `dir` (which it empties first) and returns
/// them, the link module first.
pub fn write_modules(
    dir: &Path,
    prefix: &str,
    archive: &Path,
    crates: &[ResolvedCrate],
    processors: &[Described],
) -> Result<Vec<Module>> {
    let mut types = BTreeMap::new();
    for p in processors {
        if !p
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::Registry(format!(
                "{}: the type {:?} is not a Collector component type",
                p.crate_name, p.name
            )));
        }
        if let Some(other) = types.insert(package_name(&p.name), &p.crate_name) {
            return Err(Error::Registry(format!(
                "{} and {} both register a processor of type {:?} (or one whose package name is the same)",
                other, p.crate_name, p.name
            )));
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(Error::io(dir))?;
    }
    let link_path = format!("{prefix}/link");
    let link_dir = dir.join("link");
    write_if_changed(&link_dir.join("go.mod"), go_mod(&link_path, &[]).as_bytes())?;
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Registry(format!("{}: not an archive", archive.display())))?;
    place_archive(archive, &link_dir.join(&name))?;
    write_if_changed(&link_dir.join("link.go"), link_go(&name).as_bytes())?;
    let mut modules = vec![Module {
        path: link_path.clone(),
        version: "v0.0.0".into(),
        dir: link_dir,
        packages: Vec::new(),
    }];
    for c in crates {
        let path = format!("{prefix}/{}", c.package);
        let mdir = dir.join(&c.package);
        let mut packages = Vec::new();
        for p in processors.iter().filter(|p| p.crate_name == c.package) {
            let pkg = package_name(&p.name);
            let import = format!("{path}/processor/{pkg}");
            write_package(
                &mdir.join("processor").join(&pkg),
                &import,
                &link_path,
                c,
                p,
            )?;
            packages.push(import);
        }
        if packages.is_empty() {
            return Err(Error::Registry(format!(
                "{} {} registers no processor: its PROCESSORS list is empty",
                c.package, c.version
            )));
        }
        let requires = [
            (COMPONENTS_MODULE, "v0.0.0"),
            (link_path.as_str(), "v0.0.0"),
        ];
        write_if_changed(&mdir.join("go.mod"), go_mod(&path, &requires).as_bytes())?;
        modules.push(Module {
            path,
            version: go_version(&c.version),
            dir: mdir,
            packages,
        });
    }
    Ok(modules)
}

/// Puts the archive into the link module: a hard link where the file
/// system allows one (no copy of a large file), a copy otherwise. The
/// module then holds what it links, wherever Cargo's target directory is.
fn place_archive(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map(|_| ()).map_err(Error::io(from))
}

fn go_mod(path: &str, requires: &[(&str, &str)]) -> String {
    let mut t = format!("// {GENERATED}\n\nmodule {path}\n\ngo {GO_VERSION}\n");
    if !requires.is_empty() {
        t.push_str("\nrequire (\n");
        for (m, v) in requires {
            t.push_str(&format!("\t{m} {v}\n"));
        }
        t.push_str(")\n");
    }
    t
}

fn link_go(archive: &str) -> String {
    format!(
        "// {GENERATED}\n\n\
         // Package link links the Rust staticlib otelcol-rust-builder built for\n\
         // this collector: the otelcol-rust bridge and every processor crate of\n\
         // the manifest. The bridge package is built with the tag\n\
         // otelcolrust_builder, which leaves its own archive out, and cgo\n\
         // gathers these flags into the binary's one external link.\n\
         package link\n\n\
         /*\n#cgo LDFLAGS: ${{SRCDIR}}/{archive} -ldl -lm -lpthread\n*/\nimport \"C\"\n"
    )
}

fn stability_constant(s: &str) -> &'static str {
    match s {
        "development" => "component.StabilityLevelDevelopment",
        "alpha" => "component.StabilityLevelAlpha",
        "beta" => "component.StabilityLevelBeta",
        "stable" => "component.StabilityLevelStable",
        "deprecated" => "component.StabilityLevelDeprecated",
        _ => "component.StabilityLevelUnmaintained",
    }
}

fn write_package(
    dir: &Path,
    import: &str,
    link: &str,
    c: &ResolvedCrate,
    p: &Described,
) -> Result<()> {
    let pkg = package_name(&p.name);
    let header = format!(
        "// Code generated by otelcol-rust-builder from {} {}. DO NOT EDIT.",
        c.package, c.version
    );
    let doc = format!(
        "{header}\n\n// Package {pkg} is the Collector component of the Rust processor\n// {} (crate {} {}): {}\npackage {pkg} // import \"{import}\"\n",
        p.name,
        c.package,
        c.version,
        one_line(&p.description)
    );
    let mut fields = Vec::new();
    for signal in &p.signals {
        fields.push(match signal.as_str() {
            "traces" => "Traces:",
            "metrics" => "Metrics:",
            "logs" => "Logs:",
            other => {
                return Err(Error::Registry(format!(
                    "{}: unknown signal {other:?}",
                    p.name
                )));
            }
        });
    }
    // Aligned as gofmt aligns the values of a composite literal.
    let width = fields.iter().map(|f| f.len()).max().unwrap_or(0);
    let stabilities: String = fields
        .iter()
        .map(|f| format!("\t\t{f:<width$} {},\n", stability_constant(&p.stability)))
        .collect();
    let factory = format!(
        "{header}\n\npackage {pkg} // import \"{import}\"\n\n\
         import (\n\
         \t\"go.opentelemetry.io/collector/component\"\n\
         \t\"go.opentelemetry.io/collector/processor\"\n\n\
         \t\"{COMPONENTS_MODULE}/bridge\"\n\n\
         \t// The collector's Rust staticlib.\n\
         \t_ \"{link}\"\n\
         )\n\n\
         // Config is the configuration of the {typ} processor. The Rust\n\
         // processor owns its schema and validates it.\n\
         type Config = bridge.Config\n\n\
         // Type is the processor's component type.\n\
         var Type = component.MustNewType(\"{typ}\")\n\n\
         // NewFactory returns the factory of the {typ} processor.\n\
         func NewFactory() processor.Factory {{\n\
         \treturn bridge.NewProcessorFactory(Type, bridge.Stabilities{{\n{stabilities}\t}})\n}}\n",
        typ = p.name
    );
    let metadata = metadata_yaml(c, p)?;
    let example =
        serde_yaml::to_string(&serde_json::json!({ p.name.clone(): p.example_config }))
            .map_err(|e| Error::Registry(format!("{}: example configuration: {e}", p.name)))?;
    let readme = readme(c, p);
    write_if_changed(&dir.join("doc.go"), doc.as_bytes())?;
    write_if_changed(&dir.join("factory.go"), factory.as_bytes())?;
    write_if_changed(&dir.join("metadata.yaml"), metadata.as_bytes())?;
    write_if_changed(
        &dir.join("testdata/config.yaml"),
        format!("# {GENERATED}\n{example}").as_bytes(),
    )?;
    write_if_changed(&dir.join("README.md"), readme.as_bytes())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// metadata.yaml as mdatagen reads it, for documentation and tooling.
fn metadata_yaml(c: &ResolvedCrate, p: &Described) -> Result<String> {
    let doc = serde_json::json!({
        "type": p.name,
        "description": p.description,
        "status": {
            "class": "processor",
            "stability": { p.stability.clone(): p.signals },
            "codeowners": { "active": [] },
        },
        "tests": { "config": p.example_config },
    });
    let body = serde_yaml::to_string(&doc)
        .map_err(|e| Error::Registry(format!("{}: metadata: {e}", p.name)))?;
    Ok(format!(
        "# Code generated by otelcol-rust-builder from {} {}. DO NOT EDIT.\n{body}",
        c.package, c.version
    ))
}

fn readme(c: &ResolvedCrate, p: &Described) -> String {
    let body = p.readme.trim();
    let (title, body) = match body.strip_prefix("# ") {
        Some(rest) => {
            let (t, b) = rest.split_once('\n').unwrap_or((rest, ""));
            (format!("# {t}"), b.trim())
        }
        None => (format!("# {} processor", p.name), body),
    };
    format!(
        "{title}\n\n<!-- Generated by otelcol-rust-builder. DO NOT EDIT. -->\n\n\
         | | |\n|---|---|\n| type | `{}` |\n| crate | `{}` {} |\n| stability | {}: {} |\n\n\
         This processor runs in Rust, inside the Collector, through the otelcol-rust bridge. \
         Its configuration is validated by the Rust processor; errors name the offending field.\n\n{body}\n",
        p.name,
        c.package,
        c.version,
        p.stability,
        p.signals.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described() -> Vec<Described> {
        serde_json::from_value(serde_json::json!([{
            "crate": "my-proc", "crate_version": "0.2.0", "name": "my_tag",
            "description": "Tags.", "stability": "alpha", "signals": ["traces", "logs"],
            "example_config": {"key": "a"}, "readme": "# My tag\n\nText.\n",
        }]))
        .expect("valid")
    }

    fn crates() -> Vec<ResolvedCrate> {
        vec![ResolvedCrate {
            key: "my-proc".into(),
            package: "my-proc".into(),
            version: "0.2.0".into(),
        }]
    }

    use crate::files::slash;

    fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).expect("dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    let rel = p.strip_prefix(base).expect("under base");
                    out.insert(slash(rel), std::fs::read(&p).expect("file"));
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(dir, dir, &mut out);
        out
    }

    #[test]
    fn writes_one_module_per_crate_and_the_same_files_twice() {
        let base =
            std::env::temp_dir().join(format!("otelcol-rust-builder-test-{}", std::process::id()));
        let dir = base.join("go");
        let archive = base.join("target/release/libx.a");
        write_if_changed(&archive, b"!<arch>\n").expect("archive");
        let modules = write_modules(&dir, "example.com/c", &archive, &crates(), &described())
            .expect("written");
        assert_eq!(modules[1].path, "example.com/c/my-proc");
        assert_eq!(modules[1].version, "v0.2.0");
        assert_eq!(
            modules[1].packages,
            ["example.com/c/my-proc/processor/mytagprocessor"]
        );
        let first = tree(&dir);
        let link = String::from_utf8(first["link/link.go"].clone()).expect("utf-8");
        assert!(
            link.contains("#cgo LDFLAGS: ${SRCDIR}/libx.a -ldl"),
            "{link}"
        );
        assert_eq!(first["link/libx.a"], b"!<arch>\n");
        let factory =
            String::from_utf8(first["my-proc/processor/mytagprocessor/factory.go"].clone())
                .expect("utf-8");
        assert!(
            factory.contains("Traces: component.StabilityLevelAlpha"),
            "{factory}"
        );
        assert!(
            factory.contains("Logs:   component.StabilityLevelAlpha"),
            "{factory}"
        );
        assert!(!factory.contains("Metrics:"), "{factory}");
        write_modules(&dir, "example.com/c", &archive, &crates(), &described()).expect("again");
        assert_eq!(first, tree(&dir));
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn two_crates_with_one_type_are_refused() {
        let mut procs = described();
        procs.push(Described {
            crate_name: "other".into(),
            ..procs[0].clone()
        });
        let err = write_modules(
            Path::new("/nonexistent"),
            "x.y/z",
            Path::new("/a.a"),
            &crates(),
            &procs,
        )
        .expect_err("duplicate");
        assert!(err.to_string().contains("my_tag"), "{err}");
    }
}
