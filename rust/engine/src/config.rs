//! Configuration parsing with errors that name the offending field.
//!
//! The Go side turns a processor's YAML section into JSON; the processor's
//! serde types decide what is valid. Errors carry the path to the bad field
//! (`actions[1].pattern`) so that `otelcol-rust validate` points at it.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A configuration the processor cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ConfigError {
    /// Path of the offending field, empty for the section as a whole.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    /// An error about the field at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Deserializes a configuration section, reporting the path of the first
/// field that does not fit `T`.
pub fn parse_config<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ConfigError::at(path, err.into_inner().to_string())
    })
}

/// The effective configuration of a processor whose configuration type is
/// `T`: the section read into `T` (defaults applied, names normalized)
/// and written back. Fields `T` leaves out when unset (`None`) stay out.
pub fn effective_config<T: DeserializeOwned + Serialize>(
    value: &serde_json::Value,
) -> Result<serde_json::Value, ConfigError> {
    let config: T = parse_config(value)?;
    serde_json::to_value(&config).map_err(|e| ConfigError::at("", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[test]
    fn error_names_the_field() {
        let value = serde_json::json!({"items": [{"count": 1}, {"count": "two"}]});
        let err = parse_config::<Outer>(&value).unwrap_err();
        assert_eq!(err.path, "items[1].count");
        assert!(
            err.to_string().starts_with("items[1].count: invalid type"),
            "{err}"
        );
        let err = parse_config::<Outer>(&serde_json::json!({"itemz": []})).unwrap_err();
        assert!(err.message.contains("unknown field `itemz`"), "{err}");
    }
}
