//! The processors this build of the bridge can create: the
//! distribution's list ([`otelcol_rust_processors::registry`], shared with
//! the cgo-free Rust process) and, in test builds, the bridge's test-only
//! processors.

use otelcol_rust_engine::ProcessorFactory;

/// Every registered processor, in the order `components` lists them.
#[cfg(not(feature = "testing"))]
pub static PROCESSORS: &[&ProcessorFactory] = otelcol_rust_processors::registry!();

/// Every registered processor, in the order `components` lists them.
#[cfg(feature = "testing")]
pub static PROCESSORS: &[&ProcessorFactory] =
    otelcol_rust_processors::registry!(&crate::testing::NOOP, &crate::testing::SCRIPTED);

/// The factory registered under `name`.
pub fn find(name: &str) -> Option<&'static ProcessorFactory> {
    PROCESSORS.iter().copied().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::effective;

    /// Every processor's effective configuration is a configuration it
    /// accepts and that gives itself back: Go keeps it, prints it and
    /// reads it again.
    #[test]
    fn effective_configurations_round_trip() {
        let mut samples: Vec<(&str, serde_json::Value)> = PROCESSORS
            .iter()
            .map(|f| (f.name, (f.example_config)()))
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
