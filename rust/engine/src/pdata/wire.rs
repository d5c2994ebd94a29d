//! The protobuf wire format, as far as reading and splicing OTLP needs it.
//!
//! The batches a processor sees were marshalled by the Go collector a moment
//! before, so they are well-formed; the reader still checks every length so
//! that a malformed buffer (a test, a fuzzer) is an error, never a panic or
//! an out-of-bounds read. Groups (wire types 3 and 4) do not occur in OTLP
//! and are refused.

use std::fmt;

/// Why a buffer is not a valid protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError(pub(crate) &'static str);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for WireError {}

/// The payload of one field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1 (fixed64, double).
    I64(u64),
    /// Wire type 2 (strings, bytes, messages, packed repeated).
    Len(&'a [u8]),
    /// Wire type 5 (fixed32, float).
    I32(u32),
}

/// One field of a message: its number, its payload and where it sits in the
/// message (tag included), so that splicing can copy it verbatim.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// The field number.
    pub number: u32,
    /// The payload.
    pub value: WireValue<'a>,
    /// The whole field, tag to end.
    pub raw: &'a [u8],
}

/// Iterates the fields of one message.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

/// The fields of `buf`, in order.
pub fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { rest: buf }
}

/// Reads a varint at `*pos`.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let (v, rest) = varint(buf.get(*pos..).unwrap_or_default())?;
    *pos = buf.len() - rest.len();
    Ok(v)
}

/// A varint and what follows it.
#[inline(always)]
pub(crate) fn varint_prefix(b: &[u8]) -> Result<(u64, &[u8]), WireError> {
    varint(b)
}

/// A varint and what follows it.
#[inline(always)]
fn varint(b: &[u8]) -> Result<(u64, &[u8]), WireError> {
    // Tags and most lengths in OTLP are one byte.
    match b.split_first() {
        Some((&x, rest)) if x < 0x80 => Ok((u64::from(x), rest)),
        Some(_) => varint_slow(b),
        None => Err(WireError("truncated varint")),
    }
}

#[cold]
fn varint_slow(b: &[u8]) -> Result<(u64, &[u8]), WireError> {
    let mut value = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, &b[i + 1..]));
        }
    }
    Err(WireError(if b.len() < 10 {
        "truncated varint"
    } else {
        "varint longer than ten bytes"
    }))
}

#[inline]
fn split(b: &[u8], n: usize) -> Result<(&[u8], &[u8]), WireError> {
    if n <= b.len() {
        Ok(b.split_at(n))
    } else {
        Err(WireError("field runs past the end of its message"))
    }
}

impl<'a> Fields<'a> {
    // Always inlined: the caller matches on the field at once, and inlining
    // lets the compiler keep it in registers instead of returning it
    // through memory, which is most of the cost of a field.
    #[inline(always)]
    fn field(&mut self) -> Result<Field<'a>, WireError> {
        let start = self.rest;
        let (tag, rest) = varint(start)?;
        let number = (tag >> 3) as u32;
        if number == 0 || tag >> 35 != 0 {
            return Err(WireError("invalid field number"));
        }
        let (value, rest) = match tag & 7 {
            2 => {
                let (n, rest) = varint(rest)?;
                let n = usize::try_from(n).map_err(|_| WireError("length overflows"))?;
                let (payload, rest) = split(rest, n)?;
                (WireValue::Len(payload), rest)
            }
            0 => {
                let (v, rest) = varint(rest)?;
                (WireValue::Varint(v), rest)
            }
            1 => {
                let (b, rest) = split(rest, 8)?;
                (
                    WireValue::I64(u64::from_le_bytes(b.try_into().expect("8 bytes"))),
                    rest,
                )
            }
            5 => {
                let (b, rest) = split(rest, 4)?;
                (
                    WireValue::I32(u32::from_le_bytes(b.try_into().expect("4 bytes"))),
                    rest,
                )
            }
            _ => {
                return Err(WireError(
                    "unsupported wire type (groups do not occur in OTLP)",
                ))
            }
        };
        self.rest = rest;
        Ok(Field {
            number,
            value,
            raw: &start[..start.len() - rest.len()],
        })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let result = self.field();
        if result.is_err() {
            // Stop after the first error: nothing after it can be trusted.
            self.rest = &[];
        }
        Some(result)
    }
}

/// Appends a varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-delimited field.
pub fn put_len_field(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// Appends a varint field.
pub fn put_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_varint(out, u64::from(number) << 3);
    put_varint(out, value);
}

/// Appends a fixed64 field.
pub fn put_i64_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_varint(out, (u64::from(number) << 3) | 1);
    out.extend_from_slice(&value.to_le_bytes());
}

/// The bytes of a length-delimited field, or an error naming what was
/// expected.
pub fn expect_len<'a>(value: WireValue<'a>, what: &'static str) -> Result<&'a [u8], WireError> {
    match value {
        WireValue::Len(b) => Ok(b),
        _ => Err(WireError(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_varint(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
        assert!(read_varint(&[0x80], &mut 0).is_err());
        assert!(read_varint(&[0xff; 11], &mut 0).is_err());
    }

    #[test]
    fn fields_and_their_raw_bytes() {
        let mut msg = Vec::new();
        put_varint_field(&mut msg, 1, 150);
        put_len_field(&mut msg, 2, b"abc");
        put_i64_field(&mut msg, 3, 7);
        let fs: Vec<_> = fields(&msg).collect::<Result<_, _>>().unwrap();
        assert_eq!(fs.len(), 3);
        assert_eq!(fs[0].value, WireValue::Varint(150));
        assert_eq!(fs[1].value, WireValue::Len(b"abc"));
        assert_eq!(fs[1].raw, &msg[3..8]);
        assert_eq!(fs[2].value, WireValue::I64(7));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            &[0x12, 0x05, b'a'][..],
            &[0x0b],
            &[0x00],
            &[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ] {
            let results: Vec<_> = fields(bad).collect();
            assert!(results.last().unwrap().is_err(), "{bad:?}");
        }
    }
}
