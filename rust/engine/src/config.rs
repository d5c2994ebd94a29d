//! Configuration parsing with errors that name the offending field.
//!
//! The Go side turns a processor's YAML section into JSON; the processor's
//! serde types decide what is valid. Errors carry the path to the bad field
//! (`actions[1].pattern`) so that `otelcol-rust validate` points at it.
//!
//! YAML has numbers JSON does not (`.inf`, `-.inf`, `.nan`), and the
//! Collector's Go processors accept them. Go writes each as the object
//! `{"$otelcol_rust_float": "+Inf" | "-Inf" | "NaN"}`; a field that takes a
//! float reads it with [`float`] or [`optional_float`], a visitor with
//! [`non_finite_from_map`], so such a value reaches the processor's own
//! checks (which decide whether it is allowed) instead of failing as a
//! type error.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
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

/// The bits of Go's `math.NaN()`; Rust's `f64::NAN` has other bits.
pub const GO_NAN_BITS: u64 = 0x7FF8_0000_0000_0001;

/// The key of the object Go writes for a float JSON cannot hold.
pub const NON_FINITE_KEY: &str = "$otelcol_rust_float";

/// Reads the object Go writes for a non-finite float, its opening brace
/// already consumed by the caller's visitor; any other map is an error
/// saying the field expected what `expected` describes.
pub fn non_finite_from_map<'de, A: MapAccess<'de>>(
    mut map: A,
    expected: &dyn de::Expected,
) -> Result<f64, A::Error> {
    let key: Option<String> = map.next_key()?;
    if key.as_deref() != Some(NON_FINITE_KEY) {
        return Err(de::Error::invalid_type(de::Unexpected::Map, expected));
    }
    let name: String = map.next_value()?;
    let value = match name.as_str() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        // Go's math.NaN() (what YAML's .nan becomes), bit for bit: a
        // processor that writes it must export the bytes contrib does.
        "NaN" => f64::from_bits(GO_NAN_BITS),
        _ => {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(&name),
                &"+Inf, -Inf or NaN",
            ))
        }
    };
    if map.next_key::<String>()?.is_some() {
        return Err(de::Error::invalid_type(de::Unexpected::Map, expected));
    }
    Ok(value)
}

struct FloatVisitor;

impl<'de> Visitor<'de> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<f64, A::Error> {
        non_finite_from_map(map, &self)
    }
}

/// `deserialize_with` for a float field: a JSON number, or Go's marker
/// for `.inf`, `-.inf` and `.nan`.
pub fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    deserializer.deserialize_any(FloatVisitor)
}

/// Writes a float as Go reads it back: a number, or the marker of
/// [`float`] for a non-finite one (JSON has no such numbers, and
/// serde_json would write `null`). For `serialize_with`, and for
/// configuration types that serialize floats by hand.
pub fn serialize_float<S: serde::Serializer>(v: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    if v.is_finite() {
        return serializer.serialize_f64(*v);
    }
    let name = if v.is_nan() {
        "NaN"
    } else if *v > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    };
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(NON_FINITE_KEY, name)?;
    map.end()
}

/// [`float`] for an optional field (use with `#[serde(default)]`).
pub fn optional_float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    float(deserializer).map(Some)
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

    #[derive(Debug, serde::Deserialize)]
    struct Rate {
        #[serde(deserialize_with = "float")]
        rate: f64,
        #[serde(default, deserialize_with = "optional_float")]
        other: Option<f64>,
    }

    #[test]
    fn non_finite_floats_cross_as_markers() {
        let r: Rate = parse_config(&serde_json::json!({"rate": 2})).unwrap();
        assert_eq!((r.rate, r.other), (2.0, None));
        for (name, check) in [
            ("+Inf", f64::is_infinite as fn(f64) -> bool),
            ("-Inf", f64::is_infinite),
            ("NaN", f64::is_nan),
        ] {
            let v = serde_json::json!({"rate": {NON_FINITE_KEY: name}, "other": {NON_FINITE_KEY: name}});
            let r: Rate = parse_config(&v).unwrap();
            assert!(check(r.rate) && check(r.other.unwrap()), "{name}");
            if name == "NaN" {
                assert_eq!(r.rate.to_bits(), GO_NAN_BITS);
            }
        }
        assert_eq!(
            parse_config::<Rate>(&serde_json::json!({"rate": {NON_FINITE_KEY: "-Inf"}}))
                .unwrap()
                .rate,
            f64::NEG_INFINITY
        );
        let err = parse_config::<Rate>(&serde_json::json!({"rate": {"x": 1}})).unwrap_err();
        assert_eq!(err.path, "rate");
        let err = parse_config::<Rate>(&serde_json::json!({"rate": {NON_FINITE_KEY: "Inf"}}))
            .unwrap_err();
        assert!(err.message.contains("+Inf, -Inf or NaN"), "{err}");
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
