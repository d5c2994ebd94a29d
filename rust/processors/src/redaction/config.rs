//! Configuration of `rust_redaction`: contrib `redactionprocessor`
//! v0.161.0's configuration, field for field.
//!
//! A section written for contrib loads unchanged. One of contrib's
//! features is not in this processor yet, the database sanitizer
//! (DataDog's SQL, Redis, Memcached and JSON obfuscators): its fields are
//! accepted, but enabling an obfuscator is refused with the path of its
//! `enabled` field, never silently ignored.
//!
//! Checks run in contrib's order, so the first complaint is the one the Go
//! processor would give: the HMAC key, then the pattern lists in the order
//! `newRedaction` compiles them (`ignored_key_patterns`, `blocked_values`,
//! `blocked_key_patterns`, `allowed_values`).

use std::collections::HashSet;

use otelcol_rust_engine::ConfigError;
use serde::{Deserialize, Deserializer, Serialize};

use super::hash::Hasher;
use super::patterns::{mask_all_regex, BlockedValues, PatternSet};
use super::redact::{Redactor, Summary};
use super::url::UrlSanitizer;

/// The processor's configuration section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Keep every key: only values are checked.
    #[serde(deserialize_with = "or_default")]
    pub allow_all_keys: bool,
    /// The keys kept; every other key (not ignored) is removed. Empty
    /// removes every key unless `allow_all_keys`.
    #[serde(deserialize_with = "or_default")]
    pub allowed_keys: Vec<String>,
    /// Keys whose value is masked (or hashed) whole.
    #[serde(deserialize_with = "or_default")]
    pub blocked_key_patterns: Vec<String>,
    /// `md5`, `sha1`, `sha3`, `hmac-sha256`, `hmac-sha512` (any case), or
    /// empty for the `****` mask.
    #[serde(deserialize_with = "or_default")]
    pub hash_function: String,
    /// The HMAC key, at least 32 bytes for hmac-sha256 and 64 for
    /// hmac-sha512.
    #[serde(deserialize_with = "or_default")]
    pub hmac_key: String,
    /// Keys left as they are, kept even when not allowed.
    #[serde(deserialize_with = "or_default")]
    pub ignored_keys: Vec<String>,
    /// Patterns of keys left as they are.
    #[serde(deserialize_with = "or_default")]
    pub ignored_key_patterns: Vec<String>,
    /// Check values of every type through their string form, not only
    /// strings.
    #[serde(deserialize_with = "or_default")]
    pub redact_all_types: bool,
    /// Patterns masked (or hashed) wherever they match in a value.
    #[serde(deserialize_with = "or_default")]
    pub blocked_values: Vec<String>,
    /// Patterns that leave a value they match untouched.
    #[serde(deserialize_with = "or_default")]
    pub allowed_values: Vec<String>,
    /// Contrib's database sanitizer: not supported yet.
    #[serde(deserialize_with = "or_default")]
    pub db_sanitizer: DbSanitizerConfig,
    /// `debug`, `info`; anything else writes no summary attributes.
    #[serde(deserialize_with = "or_default")]
    pub summary: String,
    /// Contrib's URL sanitizer.
    #[serde(deserialize_with = "or_default")]
    pub url_sanitizer: UrlSanitizerConfig,
}

/// `db_sanitizer`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbSanitizerConfig {
    /// DataDog's SQL obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub sql: DbSection,
    /// The Redis obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub redis: DbSection,
    /// The Valkey obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub valkey: DbSection,
    /// The Memcached obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub memcached: DbSection,
    /// The MongoDB JSON obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub mongo: DbSection,
    /// The OpenSearch JSON obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub opensearch: DbSection,
    /// The Elasticsearch JSON obfuscator.
    #[serde(deserialize_with = "or_default")]
    pub es: DbSection,
    /// Accepted as contrib accepts it; no effect without an obfuscator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanitize_span_name: Option<bool>,
}

/// One obfuscator of `db_sanitizer`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbSection {
    /// Turn the obfuscator on (refused: not supported yet).
    #[serde(deserialize_with = "or_default")]
    pub enabled: bool,
    /// The attributes it reads.
    #[serde(deserialize_with = "or_default")]
    pub attributes: Vec<String>,
}

/// `url_sanitizer`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UrlSanitizerConfig {
    /// Replace the variable parts of URLs with `*`.
    #[serde(deserialize_with = "or_default")]
    pub enabled: bool,
    /// The attributes whose values are URLs to sanitize.
    #[serde(deserialize_with = "or_default")]
    pub attributes: Vec<String>,
    /// Sanitize span names too (contrib's default when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanitize_span_name: Option<bool>,
}

/// A YAML key with no value (`allowed_keys:`) arrives as JSON `null`;
/// mapstructure leaves the Go field at its zero value, and so does this.
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The keys contrib adds to `allowed_keys`, so that a second pass keeps
/// the summary of the first. `redaction.allowed.*` and the body summary
/// are not among them (contrib's choice, reproduced).
pub(crate) const SUMMARY_ALLOW_LIST: [&str; 5] = [
    "redaction.redacted.keys",
    "redaction.redacted.count",
    "redaction.masked.keys",
    "redaction.masked.count",
    "redaction.ignored.count",
];

impl Config {
    /// Checks the configuration and compiles it.
    pub(crate) fn compile(&self) -> Result<Redactor, ConfigError> {
        self.check_unsupported()?;
        let hasher = self.hasher()?;
        let ignored_key_patterns =
            PatternSet::compile("ignored_key_patterns", &self.ignored_key_patterns)?;
        let blocked_values = BlockedValues::compile("blocked_values", &self.blocked_values)?;
        let blocked_key_patterns =
            PatternSet::compile("blocked_key_patterns", &self.blocked_key_patterns)?;
        let allowed_values = PatternSet::compile("allowed_values", &self.allowed_values)?;
        let mut allowed_keys: HashSet<Box<[u8]>> = self
            .allowed_keys
            .iter()
            .map(|k| k.as_bytes().into())
            .collect();
        allowed_keys.extend(SUMMARY_ALLOW_LIST.iter().map(|k| k.as_bytes().into()));
        Ok(Redactor {
            allow_all_keys: self.allow_all_keys,
            allowed_keys,
            ignored_keys: self
                .ignored_keys
                .iter()
                .map(|k| k.as_bytes().into())
                .collect(),
            ignored_key_patterns,
            blocked_key_patterns,
            blocked_values,
            allowed_values,
            hasher,
            redact_all_types: self.redact_all_types,
            summary: match self.summary.as_str() {
                "debug" => Summary::Debug,
                "info" => Summary::Info,
                // Contrib compares exactly: "DEBUG", "silent", "" and
                // anything else write nothing.
                _ => Summary::Silent,
            },
            mask_all: mask_all_regex(),
            url: self.url_sanitizer.enabled.then(|| {
                UrlSanitizer::new(
                    &self.url_sanitizer.attributes,
                    self.url_sanitizer.sanitize_span_name.unwrap_or(true),
                )
            }),
        })
    }

    fn check_unsupported(&self) -> Result<(), ConfigError> {
        let db = &self.db_sanitizer;
        for (name, section) in [
            ("sql", &db.sql),
            ("redis", &db.redis),
            ("valkey", &db.valkey),
            ("memcached", &db.memcached),
            ("mongo", &db.mongo),
            ("opensearch", &db.opensearch),
            ("es", &db.es),
        ] {
            if section.enabled {
                return Err(ConfigError::at(
                    format!("db_sanitizer.{name}.enabled"),
                    "database sanitization is not supported by rust_redaction yet: \
                     use contrib's redaction processor for it, or set this to false",
                ));
            }
        }
        Ok(())
    }

    /// `hash_function` and `hmac_key`, checked as contrib's `UnmarshalText`
    /// and `Validate` check them.
    fn hasher(&self) -> Result<Hasher, ConfigError> {
        let name = self.hash_function.to_lowercase();
        let hasher = match name.as_str() {
            "" => return Ok(Hasher::None),
            "md5" => Hasher::Md5,
            "sha1" => Hasher::Sha1,
            "sha3" => Hasher::Sha3,
            "hmac-sha256" | "hmac-sha512" => {
                let key = self.hmac_key.as_bytes();
                if key.is_empty() {
                    return Err(ConfigError::at(
                        "hmac_key",
                        format!("hmac_key must not be empty when hash_function is {name:?}"),
                    ));
                }
                let min = if name == "hmac-sha256" { 32 } else { 64 };
                if key.len() < min {
                    return Err(ConfigError::at(
                        "hmac_key",
                        format!(
                            "hmac_key must be at least {min} bytes long for {name:?}, got {} bytes",
                            key.len()
                        ),
                    ));
                }
                if name == "hmac-sha256" {
                    Hasher::hmac_sha256(key)
                } else {
                    Hasher::hmac_sha512(key)
                }
            }
            _ => {
                return Err(ConfigError::at(
                    "hash_function",
                    format!(
                        "unknown HashFunction {name}, allowed functions are sha1, sha3, md5, hmac-sha256 and hmac-sha512"
                    ),
                ))
            }
        };
        Ok(hasher)
    }
}

#[cfg(test)]
mod tests {
    use otelcol_rust_engine::parse_config;
    use serde_json::json;

    use super::*;

    fn check(value: serde_json::Value) -> Result<Redactor, ConfigError> {
        parse_config::<Config>(&value)?.compile()
    }

    fn error(value: serde_json::Value) -> ConfigError {
        check(value).expect_err("refused")
    }

    #[test]
    fn contrib_defaults_and_empty_values_load() {
        assert!(check(json!({})).is_ok());
        assert!(check(json!({
            "allowed_keys": null, "summary": null, "db_sanitizer": null,
            "url_sanitizer": {"attributes": null, "sanitize_span_name": null},
        }))
        .is_ok());
        assert!(check((super::super::FACTORY.example_config)()).is_ok());
        assert!(check((super::super::FACTORY.default_config)()).is_ok());
    }

    #[test]
    fn hash_functions_as_contrib_names_them() {
        for name in ["md5", "MD5", "Sha1", "sha3", "", "SHA3"] {
            assert!(check(json!({"hash_function": name})).is_ok(), "{name}");
        }
        let err = error(json!({"hash_function": "Sha256"}));
        assert_eq!(err.path, "hash_function");
        assert_eq!(
            err.message,
            "unknown HashFunction sha256, allowed functions are sha1, sha3, md5, hmac-sha256 and hmac-sha512"
        );
    }

    #[test]
    fn hmac_keys_are_checked_as_contrib_validates_them() {
        let err = error(json!({"hash_function": "hmac-sha256"}));
        assert_eq!(
            err.to_string(),
            "hmac_key: hmac_key must not be empty when hash_function is \"hmac-sha256\""
        );
        let err = error(json!({"hash_function": "hmac-sha512", "hmac_key": "short"}));
        assert_eq!(
            err.message,
            "hmac_key must be at least 64 bytes long for \"hmac-sha512\", got 5 bytes"
        );
        assert!(check(json!({"hash_function": "HMAC-SHA256", "hmac_key": "k".repeat(32)})).is_ok());
    }

    #[test]
    fn patterns_fail_in_contribs_order_with_their_path() {
        let err = error(json!({"blocked_values": ["("], "ignored_key_patterns": ["["]}));
        assert_eq!(err.path, "ignored_key_patterns[0]");
        let err = error(json!({"blocked_values": ["ok", "("], "allowed_values": ["["]}));
        assert_eq!(err.path, "blocked_values[1]");
        assert!(
            err.message.starts_with("error compiling regex in list:"),
            "{err}"
        );
        let err = error(json!({"blocked_key_patterns": ["("]}));
        assert_eq!(err.path, "blocked_key_patterns[0]");
        let err = error(json!({"allowed_values": ["a{2,1}"]}));
        assert_eq!(err.path, "allowed_values[0]");
        assert!(
            check(json!({"blocked_key_patterns": ["(?<name>x)"], "summary": "verbose"})).is_ok()
        );
    }

    #[test]
    fn unknown_and_unsupported_fields_are_refused_with_their_path() {
        let err = error(json!({"unknown_field": 1}));
        assert!(
            err.message.contains("unknown field `unknown_field`"),
            "{err}"
        );
        let err = error(json!({"db_sanitizer": {"allow_fallback_without_system": true}}));
        assert_eq!(err.path, "db_sanitizer.allow_fallback_without_system");
        for section in [
            "sql",
            "redis",
            "valkey",
            "memcached",
            "mongo",
            "opensearch",
            "es",
        ] {
            let err = error(json!({"db_sanitizer": {section: {"enabled": true}}}));
            assert_eq!(err.path, format!("db_sanitizer.{section}.enabled"));
            assert!(err.message.contains("not supported"), "{err}");
        }
        // URL sanitizing, and disabled database sanitizers, load.
        assert!(
            check(json!({"url_sanitizer": {"enabled": true, "attributes": ["http.url"]}})).is_ok()
        );
        assert!(check(json!({
            "url_sanitizer": {"enabled": false, "attributes": ["http.url"], "sanitize_span_name": false},
            "db_sanitizer": {"sql": {"enabled": false, "attributes": ["db.statement"]}, "sanitize_span_name": true},
        }))
        .is_ok());
    }

    #[test]
    fn the_summary_keys_are_allowed_and_levels_are_exact() {
        let r = check(json!({"summary": "DEBUG"})).unwrap();
        assert_eq!(r.summary, Summary::Silent);
        assert_eq!(
            check(json!({"summary": "info"})).unwrap().summary,
            Summary::Info
        );
        for k in SUMMARY_ALLOW_LIST {
            assert!(r.allowed_keys.contains(k.as_bytes()));
        }
        assert!(!r.allowed_keys.contains(&b"redaction.allowed.keys"[..]));
    }
}
