//! The processors this build of the bridge can create.
//!
//! An explicit list, not a linker-section registry: the bridge is linked
//! into the Go binary as a static archive, and a linker is free to drop
//! archive members nobody references, registrations included. Nobody edits
//! the list by hand, though. Each processor crate names its own factories
//! (`pub static PROCESSORS: &[&ProcessorFactory]`), and the list is the
//! concatenation of those, in one of two ways:
//!
//! * with the `builtin` feature (the default, this repository's own
//!   build), the bridge registers `otelcol_rust_processors::PROCESSORS`
//!   (plus the test processors under `testing`);
//! * without it, the staticlib crate that `otelcol-rust-builder` generates
//!   for a custom collector depends on this crate as an rlib and names the
//!   crates of its manifest with [`register_processors!`](crate::register_processors),
//!   which defines the one function this module calls to get them.

use otelcol_rust_engine::ProcessorFactory;

/// The processors one crate contributes, under that crate's name and
/// version (what `components` shows for them).
#[derive(Debug)]
pub struct Registration {
    /// The Cargo package name of the crate (`otelcol-rust-processors`).
    pub crate_name: &'static str,
    /// Its version, as Cargo resolved it.
    pub crate_version: &'static str,
    /// Its factories, in the order `components` lists them.
    pub processors: &'static [&'static ProcessorFactory],
}

#[cfg(feature = "builtin")]
static BUILTIN: &[Registration] = &[
    Registration {
        crate_name: "otelcol-rust-processors",
        crate_version: env!("CARGO_PKG_VERSION"),
        processors: otelcol_rust_processors::PROCESSORS,
    },
    #[cfg(feature = "testing")]
    Registration {
        crate_name: "otelcol-rust-bridge",
        crate_version: env!("CARGO_PKG_VERSION"),
        processors: crate::testing::PROCESSORS,
    },
];

/// Every registration this build carries, in order.
#[cfg(feature = "builtin")]
pub fn registrations() -> &'static [Registration] {
    BUILTIN
}

/// Every registration this build carries, in order: the ones the crate
/// that links this bridge named with [`register_processors!`](crate::register_processors).
#[cfg(not(feature = "builtin"))]
pub fn registrations() -> &'static [Registration] {
    extern "Rust" {
        fn otelcol_rust_bridge_registrations() -> &'static [Registration];
    }
    // SAFETY: the symbol is defined exactly once, by the
    // `register_processors!` expansion in the crate that builds the
    // staticlib, with this very signature; it takes nothing and returns a
    // reference to a static. A build that forgot the macro fails to link
    // rather than running without processors.
    unsafe { otelcol_rust_bridge_registrations() }
}

/// Every registered processor with the registration it came from, in the
/// order `components` lists them.
pub fn processors() -> impl Iterator<Item = (&'static Registration, &'static ProcessorFactory)> {
    registrations()
        .iter()
        .flat_map(|r| r.processors.iter().map(move |f| (r, *f)))
}

/// The factory registered under `name` (the first one, should two crates
/// use the same type; `otelcol-rust-builder` refuses such a build).
pub fn find(name: &str) -> Option<&'static ProcessorFactory> {
    processors().map(|(_, f)| f).find(|f| f.name == name)
}

/// Names the processor crates a staticlib registers with the bridge: one
/// `crate_name = "version" => path::TO::PROCESSORS` entry per crate.
///
/// `otelcol-rust-builder` writes this call into the crate it generates; a
/// staticlib crate written by hand that links the bridge without its
/// `builtin` feature must make it exactly once, or the link fails.
///
/// ```ignore
/// otelcol_rust_bridge::register_processors! {
///     "my-processor" = "0.3.1" => my_processor::PROCESSORS,
/// }
/// ```
#[macro_export]
macro_rules! register_processors {
    ($($name:literal = $version:literal => $list:path),* $(,)?) => {
        #[no_mangle]
        fn otelcol_rust_bridge_registrations() -> &'static [$crate::registry::Registration] {
            static REGISTRATIONS: &[$crate::registry::Registration] = &[$(
                $crate::registry::Registration {
                    crate_name: $name,
                    crate_version: $version,
                    processors: $list,
                }
            ),*];
            REGISTRATIONS
        }
    };
}

#[cfg(all(test, feature = "builtin"))]
mod tests {
    use super::*;
    use crate::control::effective;

    /// Every processor's effective configuration is a configuration it
    /// accepts and that gives itself back: Go keeps it, prints it and
    /// reads it again.
    #[test]
    fn effective_configurations_round_trip() {
        let mut samples: Vec<(&str, serde_json::Value)> = processors()
            .map(|(_, f)| (f.name, (f.example_config)()))
            .collect();
        samples.push((
            "rust_attributes",
            serde_json::json!({"actions": [
                {"key": "a", "value": 1.5, "action": "INSERT"},
                {"key": "b", "from_context": "metadata.x", "default_value": true, "action": "upsert"},
                {"key": "c", "from_attribute": "d", "action": "update"},
                {"pattern": "^x", "action": "Hash"},
            ]}),
        ));
        samples.push((
            "rust_ratelimit",
            serde_json::json!({
                "rate": 100, "burst": 10, "metadata_keys": ["X-Tenant"],
                "retry_delay": "1500ms", "throttle_interval": "1m",
                "overrides": {"x-tenant:a": {"rate": 1.5}},
                "dynamic_limits": {"enabled": false},
            }),
        ));
        for (name, sample) in samples {
            let first = effective(name, &sample.to_string())
                .unwrap_or_else(|e| panic!("{name}: {sample}: {e}"));
            let second = effective(name, &first).unwrap_or_else(|e| panic!("{name}: {first}: {e}"));
            assert_eq!(first, second, "{name}");
        }
    }

    #[test]
    fn effective_configuration_writes_defaults_out() {
        let got: serde_json::Value = serde_json::from_str(
            &effective(
                "rust_ratelimit",
                r#"{"rate": 10, "burst": 5, "retry_delay": "90s"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(got["strategy"], "requests");
        assert_eq!(got["throttle_behavior"], "error");
        assert_eq!(got["max_buckets"], 10_000);
        assert_eq!(got["type"], "local");
        assert_eq!(got["retry_delay"], "90s");
        assert!(got.get("classes").is_none(), "{got}");

        let got: serde_json::Value = serde_json::from_str(
            &effective(
                "rust_attributes",
                r#"{"actions": [{"key": "k", "value": 42, "action": "INSERT"}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            got,
            serde_json::json!({"actions": [{"key": "k", "value": 42, "action": "insert"}]})
        );
        assert!(effective("rust_attributes", r#"{"actions": []}"#).is_err());
    }
}
