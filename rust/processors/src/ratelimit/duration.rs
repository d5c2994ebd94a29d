//! Durations written the Go way (`"1s"`, `"250ms"`, `"1m30s"`), as the
//! Collector's configuration spells them, read and written back.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// A duration written the Go way (`"1s"`, `"250ms"`, `"1m30s"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

/// Written back in the largest unit that keeps it exact (`"90s"`,
/// `"1500ms"`), which parses to the same duration.
impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let nanos = self.0.as_nanos();
        let text = if nanos == 0 {
            "0s".to_string()
        } else {
            let (per_unit, unit) = [
                (3_600_000_000_000, "h"),
                (60_000_000_000, "m"),
                (1_000_000_000, "s"),
                (1_000_000, "ms"),
                (1_000, "us"),
                (1, "ns"),
            ]
            .into_iter()
            .find(|(per_unit, _)| nanos % per_unit == 0)
            .unwrap_or((1, "ns"));
            format!("{}{unit}", nanos / per_unit)
        };
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"1s\" or \"250ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_duration(v).map(GoDuration).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// Parses a Go `time.Duration` string: a sequence of decimal numbers with
/// units `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`; `"0"` alone is zero.
/// Negative durations are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?} (examples: \"1s\", \"250ms\", \"1m30s\")");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return Err(bad());
        }
        let value: f64 = number.parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += value * nanos_per_unit;
        rest = &rest[unit_len..];
    }
    // Go's time.Duration is an int64 of nanoseconds.
    if total > i64::MAX as f64 {
        return Err(format!("duration {text:?} is too long"));
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("1s"), Duration::from_secs(1));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("2h"), Duration::from_secs(7200));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("10µs"), Duration::from_micros(10));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("+3s"), Duration::from_secs(3));
        for bad in [
            "", "1", "s", "-1s", "1x", "1.2.3s", ".s", "1 s", "+", "3000000h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
