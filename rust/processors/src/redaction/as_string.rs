//! `pcommon.Value.AsString()` of the Go collector (pdata v1.67.0), byte for
//! byte.
//!
//! Contrib's redaction processor matches its patterns against this string
//! when `redact_all_types` is set and on every log body leaf, and writes
//! the masked result back as a string. A twin that formats a double or a
//! map differently would mask different text, so the Go formatting rules
//! are reproduced here: ES6 number formatting, standard base64 for bytes,
//! and `encoding/json` (sorted keys, HTML escaping off) for maps and
//! arrays, where a NaN or infinity anywhere makes the whole string empty
//! because Go's encoder fails.

use std::borrow::Cow;

use otelcol_rust_engine::ValueRef;

/// `Value.AsString()`: the string of a string, the Go text of anything else.
pub(crate) fn as_string<'a>(value: &ValueRef<'a>) -> Cow<'a, [u8]> {
    match *value {
        ValueRef::Str(b) => Cow::Borrowed(b),
        ValueRef::Empty => Cow::Borrowed(b""),
        ValueRef::Bool(true) => Cow::Borrowed(b"true"),
        ValueRef::Bool(false) => Cow::Borrowed(b"false"),
        ValueRef::Int(i) => Cow::Owned(i.to_string().into_bytes()),
        ValueRef::Double(d) => Cow::Owned(format_double(d).into_bytes()),
        ValueRef::Bytes(b) => Cow::Owned(base64(b).into_bytes()),
        ValueRef::Array(_) | ValueRef::Map(_) => {
            let mut out = Vec::new();
            match json_value(value, &mut out) {
                Ok(()) => Cow::Owned(out),
                // Go's encoder refuses NaN and infinities (and, here,
                // nested values that do not parse): AsString is then "".
                Err(()) => Cow::Borrowed(b""),
            }
        }
    }
}

/// A double as pdata formats it: JavaScript's number-to-string (the
/// shortest digits that read back the same; exponent form below 1e-6 and
/// from 1e21), and `NaN`, `Infinity`, `-Infinity`.
pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    es6_number(d)
}

/// The ES6 form of a finite double, as Go's `encoding/json` writes it.
fn es6_number(d: f64) -> String {
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` gives the shortest digits with a bare exponent
        // (`1e21`, `1e-7`); Go writes `1e+21` and `1e-7`.
        let s = format!("{d:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => s,
        }
    } else {
        // Shortest round-trip digits without an exponent, as Go's 'f', -1.
        format!("{d}")
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub(crate) fn base64(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = match chunk.len() {
            3 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]),
            2 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8),
            _ => u32::from(chunk[0]) << 16,
        };
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Appends the JSON Go's `encoding/json` writes for the value's `AsRaw()`.
fn json_value(value: &ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), ()> {
    match *value {
        ValueRef::Empty => out.extend_from_slice(b"null"),
        ValueRef::Str(b) => json_string(b, out),
        ValueRef::Bool(v) => out.extend_from_slice(if v { b"true" } else { b"false" }),
        ValueRef::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        ValueRef::Double(d) => {
            if !d.is_finite() {
                return Err(());
            }
            out.extend_from_slice(es6_number(d).as_bytes());
        }
        ValueRef::Bytes(b) => {
            out.push(b'"');
            out.extend_from_slice(base64(b).as_bytes());
            out.push(b'"');
        }
        ValueRef::Array(raw) => {
            let elements = raw.array().map_err(|_| ())?;
            out.push(b'[');
            for (i, e) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_value(e, out)?;
            }
            out.push(b']');
        }
        ValueRef::Map(raw) => {
            let mut entries = raw.map().map_err(|_| ())?;
            // AsRaw builds a Go map: the last of duplicate keys wins; the
            // encoder then sorts keys bytewise. A stable sort keeps
            // duplicates in order, so the last of each run is the winner.
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            let mut first = true;
            for (i, (k, v)) in entries.iter().enumerate() {
                if entries.get(i + 1).is_some_and(|next| next.0 == *k) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                json_string(k, out);
                out.push(b':');
                json_value(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string as Go writes it with HTML escaping off: `\"`, `\\`, the
/// short escapes for control characters that have one, `\u00XX` for the
/// others, `\u2028`/`\u2029` escaped, and each byte of invalid UTF-8 as
/// `\ufffd`.
fn json_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let mut rest = s;
    while let Some(&b) = rest.first() {
        if b < 0x80 {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                0..=0x1f => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[(b >> 4) as usize]);
                    out.push(HEX[(b & 15) as usize]);
                }
                _ => out.push(b),
            }
            rest = &rest[1..];
            continue;
        }
        match utf8_char_len(rest) {
            Some(n) => {
                let ch = &rest[..n];
                if ch == "\u{2028}".as_bytes() {
                    out.extend_from_slice(b"\\u2028");
                } else if ch == "\u{2029}".as_bytes() {
                    out.extend_from_slice(b"\\u2029");
                } else {
                    out.extend_from_slice(ch);
                }
                rest = &rest[n..];
            }
            None => {
                out.extend_from_slice(b"\\ufffd");
                rest = &rest[1..];
            }
        }
    }
    out.push(b'"');
}

/// The length of the valid UTF-8 sequence `s` starts with, if it does.
fn utf8_char_len(s: &[u8]) -> Option<usize> {
    let n = match s[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let head = s.get(..n)?;
    std::str::from_utf8(head).ok().map(|_| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_as_go_formats_them() {
        for (d, want) in [
            (1.5, "1.5"),
            (100.0, "100"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (2.5e-7, "2.5e-7"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1.2345678e-10, "1.2345678e-10"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(format_double(d), want, "{d:?}");
        }
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"h"), "aA==");
        assert_eq!(base64(b"hi"), "aGk=");
        assert_eq!(base64(b"SECRET"), "U0VDUkVU");
        assert_eq!(base64(&[0xff, 0x00]), "/wA=");
    }

    #[test]
    fn json_strings_escape_as_go() {
        let mut out = Vec::new();
        json_string("x\u{2028}\u{1}\t<&>\"\\\u{7f}é".as_bytes(), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"x\\u2028\\u0001\\t<&>\\\"\\\\\u{7f}é\""
        );
        let mut out = Vec::new();
        json_string(b"a\xffb\xe2\x80", &mut out);
        assert_eq!(out, b"\"a\\ufffdb\\ufffd\\ufffd\"");
    }
}
