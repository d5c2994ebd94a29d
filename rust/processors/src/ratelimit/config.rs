//! The configuration of `rust_ratelimit` and its checks.
//!
//! Field names and meanings follow elastic's `ratelimitprocessor` (local
//! mode); see the README for the differences.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use otelcol_rust_engine::ConfigError;
use serde::{Deserialize, Serialize};

use super::bucket::Limits;
use super::duration::GoDuration;
use super::limit_key::{canonical_key, key_template};

/// The key of every request when `metadata_keys` is empty (elastic's).
pub const DEFAULT_KEY: &str = "default";

/// Default bound on the number of buckets (`max_buckets`).
pub const DEFAULT_MAX_BUCKETS: usize = 10_000;

/// The `rust_ratelimit` configuration, as written in the Collector YAML.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Client metadata keys whose values make the limit key; one bucket per
    /// distinct key. Empty: one bucket for everything.
    #[serde(default)]
    pub metadata_keys: Vec<String>,
    /// What a token stands for.
    #[serde(default)]
    pub strategy: Strategy,
    /// Refill rate, tokens per second (> 0). Required.
    #[serde(deserialize_with = "otelcol_rust_engine::config::float")]
    pub rate: f64,
    /// Bucket capacity in tokens (>= 1). Required.
    pub burst: u64,
    /// What happens to a request over the limit.
    #[serde(default)]
    pub throttle_behavior: ThrottleBehavior,
    /// Fixed retry delay to suggest when throttling. Unset: the time until
    /// the bucket holds the request's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_delay: Option<GoDuration>,
    /// Per-key rate and burst, keyed by limit key (see the README).
    #[serde(default)]
    pub overrides: BTreeMap<String, Override>,
    /// A JSON file with more overrides, in the same shape as `overrides`
    /// (read when the configuration is checked).
    #[serde(default)]
    pub overrides_file: Option<String>,
    /// Bound on the number of buckets; the least recently used one goes
    /// when a new key arrives at the bound.
    #[serde(default = "default_max_buckets")]
    pub max_buckets: usize,
    /// Refuse requests that lack any of the `metadata_keys` instead of
    /// limiting them together in one bucket.
    #[serde(default)]
    pub reject_missing_metadata: bool,
    /// Also report the processor's counters per tenant (limit key). Off by
    /// default: one series per tenant can be many.
    #[serde(default)]
    pub metrics_per_tenant: bool,
    /// elastic's limiter type. Only `local` exists here.
    #[serde(default, rename = "type")]
    pub limiter_type: LimiterType,
    /// Accepted for compatibility; no effect (in elastic it applies to the
    /// gubernator type only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_interval: Option<GoDuration>,
    /// elastic's gubernator-only dynamic limits: accepted only when not
    /// enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_limits: Option<DynamicLimits>,
    /// elastic's gubernator-only classes: refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<serde_json::Value>,
    /// elastic's gubernator-only default class: refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_class: Option<serde_json::Value>,
    /// elastic's gubernator-only class resolver: refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_resolver: Option<serde_json::Value>,
}

fn default_max_buckets() -> usize {
    DEFAULT_MAX_BUCKETS
}

/// Per-key settings; unset fields keep the top-level value.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Refill rate for this key (> 0).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "otelcol_rust_engine::config::optional_float"
    )]
    pub rate: Option<f64>,
    /// Capacity for this key (>= 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// Accepted for compatibility; no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_interval: Option<GoDuration>,
    /// Accepted for compatibility; no effect (limits are always static here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_only: Option<bool>,
    /// Accepted for compatibility; no effect (limits are always static here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_dynamic: Option<bool>,
}

/// elastic's `dynamic_limits` section, accepted so that configurations
/// written for elastic's processor load, as long as it is disabled.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicLimits {
    /// Must be false (or absent).
    #[serde(default)]
    pub enabled: bool,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_multiplier: Option<f64>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_window_multiplier: Option<f64>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_duration: Option<GoDuration>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_configurator: Option<String>,
}

/// What a token stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// One token per request.
    #[default]
    Requests,
    /// One token per span, metric data point or log record.
    Records,
    /// One token per byte of the OTLP protobuf encoding.
    Bytes,
}

impl Strategy {
    /// The unit, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Requests => "requests",
            Strategy::Records => "records",
            Strategy::Bytes => "bytes",
        }
    }
}

/// What happens to a request over the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThrottleBehavior {
    /// Refuse it at once with `RESOURCE_EXHAUSTED` / HTTP 429.
    #[default]
    Error,
    /// Hold it until its tokens are available, then forward it.
    Delay,
}

/// elastic's limiter types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LimiterType {
    /// In-memory buckets in this Collector.
    #[default]
    Local,
    /// elastic's distributed limiter; not implemented (refused).
    Gubernator,
}

/// A checked configuration, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Lowercase, in configuration order.
    pub metadata_keys: Vec<String>,
    pub strategy: Strategy,
    pub behavior: ThrottleBehavior,
    pub limits: Limits,
    pub retry_delay: Option<Duration>,
    /// By canonical limit key.
    pub overrides: HashMap<String, Limits>,
    pub max_buckets: usize,
    pub reject_missing_metadata: bool,
    pub metrics_per_tenant: bool,
}

fn positive_rate(path: &str, rate: f64) -> Result<(), ConfigError> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::at(
            path,
            format!("must be a finite number greater than zero, got {rate}"),
        ))
    }
}

fn positive_burst(path: &str, burst: u64) -> Result<(), ConfigError> {
    if burst >= 1 {
        Ok(())
    } else {
        Err(ConfigError::at(path, "must be at least 1"))
    }
}

fn positive_duration(path: &str, d: Option<GoDuration>) -> Result<(), ConfigError> {
    match d {
        Some(GoDuration(d)) if d.is_zero() => {
            Err(ConfigError::at(path, "must be greater than zero"))
        }
        _ => Ok(()),
    }
}

const GUBERNATOR_ONLY: &str =
    "belongs to elastic's gubernator rate limiter, which rust_ratelimit does not implement";

impl Config {
    /// Checks the configuration; errors name the offending field.
    pub(crate) fn check(self) -> Result<Settings, ConfigError> {
        if self.limiter_type == LimiterType::Gubernator {
            return Err(ConfigError::at(
                "type",
                "only \"local\" is supported: rust_ratelimit does not implement elastic's gubernator (distributed) limiter",
            ));
        }
        if let Some(dl) = &self.dynamic_limits {
            if dl.enabled {
                return Err(ConfigError::at("dynamic_limits.enabled", GUBERNATOR_ONLY));
            }
        }
        for (field, value) in [
            ("classes", &self.classes),
            ("default_class", &self.default_class),
            ("class_resolver", &self.class_resolver),
        ] {
            if value.as_ref().is_some_and(|v| !v.is_null()) {
                return Err(ConfigError::at(field, GUBERNATOR_ONLY));
            }
        }
        positive_rate("rate", self.rate)?;
        positive_burst("burst", self.burst)?;
        positive_duration("retry_delay", self.retry_delay)?;
        positive_duration("throttle_interval", self.throttle_interval)?;
        if self.max_buckets == 0 {
            return Err(ConfigError::at("max_buckets", "must be at least 1"));
        }
        let mut metadata_keys = Vec::with_capacity(self.metadata_keys.len());
        for (i, key) in self.metadata_keys.iter().enumerate() {
            if key.is_empty() {
                return Err(ConfigError::at(
                    format!("metadata_keys[{i}]"),
                    "must not be empty",
                ));
            }
            if key.contains([':', ';', ',']) {
                return Err(ConfigError::at(
                    format!("metadata_keys[{i}]"),
                    "must not contain ':', ';' or ',' (they separate the parts of the limit key)",
                ));
            }
            let key = key.to_ascii_lowercase();
            if metadata_keys.contains(&key) {
                return Err(ConfigError::at(
                    format!("metadata_keys[{i}]"),
                    format!("{key:?} is listed twice (keys are case-insensitive)"),
                ));
            }
            metadata_keys.push(key);
        }
        if self.reject_missing_metadata && metadata_keys.is_empty() {
            return Err(ConfigError::at(
                "reject_missing_metadata",
                "needs metadata_keys: without them no request can lack metadata",
            ));
        }
        let limits = Limits {
            rate: self.rate,
            burst: self.burst as f64,
        };
        // The Collector's YAML parser checks a map's keys for duplicates
        // in quadratic time: 50,000 inline overrides took it 14 s before
        // any processor saw them. A file is parsed here, in linear time.
        let from_file = match &self.overrides_file {
            Some(path) => read_overrides_file(path)?,
            None => BTreeMap::new(),
        };
        let mut overrides = HashMap::with_capacity(self.overrides.len() + from_file.len());
        let inline = self.overrides.iter().map(|(k, o)| ("overrides", k, o));
        let filed = from_file.iter().map(|(k, o)| ("overrides_file", k, o));
        for (section, key, o) in inline.chain(filed) {
            let path = |field: &str| format!("{section}.{key}.{field}");
            let canonical = canonical_key(key, &metadata_keys).ok_or_else(|| {
                ConfigError::at(
                    format!("{section}.{key}"),
                    format!(
                        "the key does not have the form of a limit key for metadata_keys {:?}: expected {}",
                        self.metadata_keys,
                        key_template(&metadata_keys)
                    ),
                )
            })?;
            if let Some(rate) = o.rate {
                positive_rate(&path("rate"), rate)?;
            }
            if let Some(burst) = o.burst {
                positive_burst(&path("burst"), burst)?;
            }
            positive_duration(&path("throttle_interval"), o.throttle_interval)?;
            let resolved = Limits {
                rate: o.rate.unwrap_or(limits.rate),
                burst: o.burst.map_or(limits.burst, |b| b as f64),
            };
            if overrides.insert(canonical.clone(), resolved).is_some() {
                return Err(ConfigError::at(
                    format!("{section}.{key}"),
                    format!("another override has the same limit key {canonical:?} (metadata key names are case-insensitive)"),
                ));
            }
        }
        Ok(Settings {
            metadata_keys,
            strategy: self.strategy,
            behavior: self.throttle_behavior,
            limits,
            retry_delay: self.retry_delay.map(|d| d.0),
            overrides,
            max_buckets: self.max_buckets,
            reject_missing_metadata: self.reject_missing_metadata,
            metrics_per_tenant: self.metrics_per_tenant,
        })
    }
}

/// Reads `overrides_file`: a JSON object of limit key to `{rate, burst}`,
/// as `overrides` is written.
fn read_overrides_file(path: &str) -> Result<BTreeMap<String, Override>, ConfigError> {
    let text = std::fs::read(path)
        .map_err(|e| ConfigError::at("overrides_file", format!("cannot read {path:?}: {e}")))?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        ConfigError::at("overrides_file", format!("{path:?} is not valid JSON: {e}"))
    })?;
    otelcol_rust_engine::parse_config(&value).map_err(|e| {
        ConfigError::at(
            if e.path.is_empty() {
                "overrides_file".to_string()
            } else {
                format!("overrides_file.{}", e.path)
            },
            format!("in {path:?}: {}", e.message),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use otelcol_rust_engine::parse_config;
    use serde_json::json;

    fn settings(value: serde_json::Value) -> Result<Settings, ConfigError> {
        parse_config::<Config>(&value)?.check()
    }

    fn err(value: serde_json::Value) -> ConfigError {
        settings(value).expect_err("invalid configuration")
    }

    /// Tens of thousands of overrides from a file check in well under a
    /// second, and a duplicate across the file and the inline map is an
    /// error naming it.
    #[test]
    fn overrides_file() {
        let dir = std::env::temp_dir().join(format!("ratelimit-overrides-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("overrides.json");
        let entries: serde_json::Map<String, serde_json::Value> = (0..50_000)
            .map(|i| (format!("x-tenant:t{i}"), json!({"rate": i + 1})))
            .collect();
        std::fs::write(&path, serde_json::to_vec(&entries).unwrap()).unwrap();
        let s = settings(json!({
            "metadata_keys": ["x-tenant"], "rate": 1, "burst": 1,
            "overrides": {"x-tenant:inline": {"burst": 5}},
            "overrides_file": path,
        }))
        .unwrap();
        assert_eq!(s.overrides.len(), 50_001);
        assert_eq!(s.overrides["x-tenant:t41"].rate, 42.0);

        let e = err(json!({
            "metadata_keys": ["x-tenant"], "rate": 1, "burst": 1,
            "overrides": {"x-tenant:t7": {"burst": 5}},
            "overrides_file": path,
        }));
        assert_eq!(e.path, "overrides_file.x-tenant:t7");
        std::fs::write(&path, br#"{"x-tenant:a": {"rate": 0}}"#).unwrap();
        let e = err(
            json!({"metadata_keys": ["x-tenant"], "rate": 1, "burst": 1, "overrides_file": path}),
        );
        assert_eq!(e.path, "overrides_file.x-tenant:a.rate");
        std::fs::write(&path, br#"{"x-tenant:a": {"colour": 1}}"#).unwrap();
        let e = err(
            json!({"metadata_keys": ["x-tenant"], "rate": 1, "burst": 1, "overrides_file": path}),
        );
        assert!(e.path.starts_with("overrides_file"), "{e}");
        let e = err(json!({"rate": 1, "burst": 1, "overrides_file": dir.join("missing.json")}));
        assert_eq!(e.path, "overrides_file");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defaults() {
        let s = settings(json!({"rate": 100, "burst": 200})).unwrap();
        assert!(s.metadata_keys.is_empty());
        assert_eq!(s.strategy, Strategy::Requests);
        assert_eq!(s.behavior, ThrottleBehavior::Error);
        assert_eq!(
            s.limits,
            Limits {
                rate: 100.0,
                burst: 200.0
            }
        );
        assert_eq!(s.retry_delay, None);
        assert!(s.overrides.is_empty());
        assert_eq!(s.max_buckets, DEFAULT_MAX_BUCKETS);
        assert!(!s.reject_missing_metadata);
    }

    #[test]
    fn everything_set() {
        let s = settings(json!({
            "metadata_keys": ["X-Tenant-Id", "x-env"],
            "strategy": "bytes",
            "rate": 0.5,
            "burst": 10,
            "throttle_behavior": "delay",
            "retry_delay": "1m30s",
            "overrides": {
                "X-Tenant-ID:Acme;x-env:prod": {"rate": 2, "burst": 20, "throttle_interval": "10s"},
                "x-tenant-id:beta;X-ENV:a,b": {"burst": 3, "static_only": true, "disable_dynamic": true}
            },
            "max_buckets": 5,
            "reject_missing_metadata": true,
            "type": "local",
            "throttle_interval": "1s",
            "dynamic_limits": {"enabled": false, "window_multiplier": 1.3, "window_duration": "2m"}
        }))
        .unwrap();
        assert_eq!(s.metadata_keys, ["x-tenant-id", "x-env"]);
        assert_eq!(s.strategy, Strategy::Bytes);
        assert_eq!(s.behavior, ThrottleBehavior::Delay);
        assert_eq!(s.retry_delay, Some(Duration::from_secs(90)));
        assert_eq!(
            s.overrides["x-tenant-id:Acme;x-env:prod"],
            Limits {
                rate: 2.0,
                burst: 20.0
            }
        );
        assert_eq!(
            s.overrides["x-tenant-id:beta;x-env:a,b"],
            Limits {
                rate: 0.5,
                burst: 3.0
            }
        );
        assert_eq!(s.max_buckets, 5);
        assert!(s.reject_missing_metadata);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!({"burst": 1}), "", "missing field `rate`"),
            (json!({"rate": 1}), "", "missing field `burst`"),
            (json!({"rate": 0, "burst": 1}), "rate", "greater than zero"),
            (
                json!({"rate": -2.5, "burst": 1}),
                "rate",
                "greater than zero",
            ),
            (json!({"rate": 1, "burst": 0}), "burst", "at least 1"),
            (json!({"rate": 1, "burst": -1}), "burst", "invalid value"),
            (json!({"rate": 1, "burst": 1.5}), "burst", "invalid type"),
            (json!({"rate": "fast", "burst": 1}), "rate", "invalid type"),
            (
                json!({"rate": 1, "burst": 1, "strategy": "spans"}),
                "strategy",
                "unknown variant `spans`",
            ),
            (
                json!({"rate": 1, "burst": 1, "throttle_behavior": "drop"}),
                "throttle_behavior",
                "unknown variant `drop`",
            ),
            (
                json!({"rate": 1, "burst": 1, "burts": 1}),
                "burts",
                "unknown field `burts`",
            ),
            (
                json!({"rate": 1, "burst": 1, "retry_delay": "soon"}),
                "retry_delay",
                "invalid duration",
            ),
            (
                json!({"rate": 1, "burst": 1, "retry_delay": 5}),
                "retry_delay",
                "invalid type",
            ),
            (
                json!({"rate": 1, "burst": 1, "retry_delay": "0s"}),
                "retry_delay",
                "greater than zero",
            ),
            (
                json!({"rate": 1, "burst": 1, "throttle_interval": "0"}),
                "throttle_interval",
                "greater than zero",
            ),
            (
                json!({"rate": 1, "burst": 1, "max_buckets": 0}),
                "max_buckets",
                "at least 1",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["a", ""]}),
                "metadata_keys[1]",
                "must not be empty",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["a:b"]}),
                "metadata_keys[0]",
                "must not contain",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["Tenant", "tenant"]}),
                "metadata_keys[1]",
                "listed twice",
            ),
            (
                json!({"rate": 1, "burst": 1, "reject_missing_metadata": true}),
                "reject_missing_metadata",
                "needs metadata_keys",
            ),
            (
                json!({"rate": 1, "burst": 1, "type": "gubernator"}),
                "type",
                "only \"local\"",
            ),
            (
                json!({"rate": 1, "burst": 1, "type": "redis"}),
                "type",
                "unknown variant",
            ),
            (
                json!({"rate": 1, "burst": 1, "dynamic_limits": {"enabled": true}}),
                "dynamic_limits.enabled",
                "gubernator",
            ),
            (
                json!({"rate": 1, "burst": 1, "dynamic_limits": {"enabld": true}}),
                "dynamic_limits.enabld",
                "unknown field `enabld`",
            ),
            (
                json!({"rate": 1, "burst": 1, "classes": {"trial": {"rate": 1}}}),
                "classes",
                "gubernator",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["x-tenant-id"],
                       "overrides": {"x-tenant-id:a": {"rate": 0}}}),
                "overrides.x-tenant-id:a.rate",
                "greater than zero",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["x-tenant-id"],
                       "overrides": {"x-tenant-id:a": {"burst": 0}}}),
                "overrides.x-tenant-id:a.burst",
                "at least 1",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["x-tenant-id"],
                       "overrides": {"x-tenant-id:a": {"rates": 2}}}),
                "overrides.x-tenant-id:a.rates",
                "unknown field `rates`",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["x-tenant-id"],
                       "overrides": {"acme": {"rate": 2}}}),
                "overrides.acme",
                "expected \"x-tenant-id:<values>\"",
            ),
            (
                json!({"rate": 1, "burst": 1, "overrides": {"x-tenant-id:acme": {"rate": 2}}}),
                "overrides.x-tenant-id:acme",
                "expected \"default\"",
            ),
            (
                json!({"rate": 1, "burst": 1, "metadata_keys": ["x-tenant-id"],
                       "overrides": {"x-tenant-id:a": {"rate": 2}, "X-Tenant-Id:a": {"rate": 3}}}),
                "overrides.x-tenant-id:a",
                "same limit key",
            ),
        ];
        for (value, path, message) in cases {
            let e = err(value.clone());
            assert_eq!(e.path, path, "{value}: {e}");
            assert!(e.message.contains(message), "{value}: {e}");
        }
    }
}
