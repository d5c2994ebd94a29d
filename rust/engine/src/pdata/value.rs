//! Attribute values as read from a batch and as written by a processor.
//!
//! Strings are bytes here. The Go collector does not check that OTLP
//! strings are valid UTF-8 and SDKs do send strings that are not, so a
//! processor must carry them byte for byte: [`ValueRef::Str`] is the raw
//! bytes, and [`ValueRef::as_str`] is the checked view for code that wants
//! text.
//!
//! Arrays and maps stay encoded ([`RawAnyValue`]): a processor that copies
//! or keeps one never decodes it, so any nesting depth the Go collector
//! accepts crosses, and a processor that wants to look inside walks it with
//! [`RawAnyValue::array`] and [`RawAnyValue::map`], one level at a time.

use bytes::Bytes;

use super::wire::{self, WireError, WireValue};

/// An encoded `AnyValue` holding an array or a map, kept as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAnyValue<'a>(pub(crate) &'a [u8]);

impl<'a> RawAnyValue<'a> {
    /// The encoded `AnyValue` message.
    pub fn encoded(&self) -> &'a [u8] {
        self.0
    }

    fn payload(&self, field: u32) -> Result<Option<&'a [u8]>, WireError> {
        let mut found = None;
        for f in wire::fields(self.0) {
            let f = f?;
            if f.number == field {
                found = Some(wire::expect_len(
                    f.value,
                    "array or map with a wrong wire type",
                )?);
            }
        }
        Ok(found)
    }

    /// The elements of an array value (empty for a map).
    pub fn array(&self) -> Result<Vec<ValueRef<'a>>, WireError> {
        let mut out = Vec::new();
        if let Some(array) = self.payload(5)? {
            for f in wire::fields(array) {
                let f = f?;
                if f.number == 1 {
                    out.push(parse_any_value(wire::expect_len(
                        f.value,
                        "array element with a wrong wire type",
                    )?)?);
                }
            }
        }
        Ok(out)
    }

    /// The entries of a map value, in order (empty for an array).
    pub fn map(&self) -> Result<Vec<(&'a [u8], ValueRef<'a>)>, WireError> {
        let mut out = Vec::new();
        if let Some(list) = self.payload(6)? {
            for f in wire::fields(list) {
                let f = f?;
                if f.number == 1 {
                    out.push(parse_key_value(wire::expect_len(
                        f.value,
                        "map entry with a wrong wire type",
                    )?)?);
                }
            }
        }
        Ok(out)
    }
}

/// A value read from a batch, borrowing its bytes.
// repr(C, u8): the payload sits aligned after the tag, which keeps copies
// of entries free of store-forwarding stalls on the hot path.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, u8)]
pub enum ValueRef<'a> {
    /// No value (pcommon's `ValueTypeEmpty`).
    Empty,
    /// A string, as the bytes it was sent with (not necessarily UTF-8).
    Str(&'a [u8]),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// A byte string.
    Bytes(&'a [u8]),
    /// An array, still encoded.
    Array(RawAnyValue<'a>),
    /// A map, still encoded.
    Map(RawAnyValue<'a>),
}

impl<'a> ValueRef<'a> {
    /// The string, if this is a string holding valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            ValueRef::Str(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Value {
        match *self {
            ValueRef::Empty => Value::Empty,
            ValueRef::Str(b) => Value::Str(Bytes::copy_from_slice(b)),
            ValueRef::Bool(v) => Value::Bool(v),
            ValueRef::Int(v) => Value::Int(v),
            ValueRef::Double(v) => Value::Double(v),
            ValueRef::Bytes(b) => Value::Bytes(Bytes::copy_from_slice(b)),
            ValueRef::Array(raw) | ValueRef::Map(raw) => Value::Raw(Bytes::copy_from_slice(raw.0)),
        }
    }

    /// Reads an encoded `AnyValue` message (what
    /// [`encode_to`](Self::encode_to) writes): strings and scalars as
    /// they are, arrays and maps kept encoded. A processor that rebuilds
    /// a nested value writes it with this.
    pub fn from_encoded(encoded: &'a [u8]) -> Result<Self, WireError> {
        parse_any_value(encoded)
    }

    /// Appends this value as an encoded `AnyValue` message body.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        self.encode(out)
    }

    /// Appends this value as an encoded `AnyValue` message body.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            ValueRef::Empty => {}
            ValueRef::Str(b) => wire::put_len_field(out, 1, b),
            ValueRef::Bool(v) => wire::put_varint_field(out, 2, u64::from(v)),
            ValueRef::Int(v) => wire::put_varint_field(out, 3, v as u64),
            ValueRef::Double(v) => wire::put_i64_field(out, 4, v.to_bits()),
            ValueRef::Bytes(b) => wire::put_len_field(out, 7, b),
            ValueRef::Array(raw) | ValueRef::Map(raw) => out.extend_from_slice(raw.0),
        }
    }
}

/// A value a processor writes.
///
/// Strings and byte strings are [`Bytes`]: a value a processor writes into
/// every record (a constant from its configuration) is one shared buffer,
/// and cloning it per record costs a reference count, not an allocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Empty,
    /// A string (bytes; usually UTF-8).
    Str(Bytes),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// A byte string.
    Bytes(Bytes),
    /// An array or map as an encoded `AnyValue` (a copy of one read from
    /// the batch).
    Raw(Bytes),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(Bytes::from(s.into()))
    }

    /// A view of this value.
    #[inline]
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Empty => ValueRef::Empty,
            Value::Str(b) => ValueRef::Str(b),
            Value::Bool(v) => ValueRef::Bool(*v),
            Value::Int(v) => ValueRef::Int(*v),
            Value::Double(v) => ValueRef::Double(*v),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Raw(b) => parse_any_value(b).unwrap_or(ValueRef::Empty),
        }
    }
}

/// Parses an encoded `AnyValue`. As protobuf says, the last member of the
/// oneof wins; unknown fields are skipped.
pub(crate) fn parse_any_value(buf: &[u8]) -> Result<ValueRef<'_>, WireError> {
    // Most values are one short string or one integer, as Go writes them:
    // read those without the field iterator.
    match buf {
        [0x0a, len, rest @ ..] if *len < 0x80 && rest.len() == *len as usize => {
            return Ok(ValueRef::Str(rest));
        }
        [0x18, rest @ ..] => {
            if let Ok((v, [])) = wire::varint_prefix(rest) {
                return Ok(ValueRef::Int(v as i64));
            }
        }
        _ => {}
    }
    let mut value = ValueRef::Empty;
    for f in wire::fields(buf) {
        let f = f?;
        value = match (f.number, f.value) {
            (1, WireValue::Len(b)) => ValueRef::Str(b),
            (2, WireValue::Varint(v)) => ValueRef::Bool(v != 0),
            (3, WireValue::Varint(v)) => ValueRef::Int(v as i64),
            (4, WireValue::I64(v)) => ValueRef::Double(f64::from_bits(v)),
            (5, WireValue::Len(_)) => ValueRef::Array(RawAnyValue(buf)),
            (6, WireValue::Len(_)) => ValueRef::Map(RawAnyValue(buf)),
            (7, WireValue::Len(b)) => ValueRef::Bytes(b),
            (1..=7, _) => return Err(WireError("AnyValue field with a wrong wire type")),
            _ => continue,
        };
    }
    Ok(value)
}

/// Splits an encoded `KeyValue` into its key and its encoded value,
/// without parsing the value.
#[inline]
pub(crate) fn split_key_value(buf: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    // Every attribute of every record goes through here, so the shape the
    // Go collector writes (a value field, then a key field, one-byte tags)
    // is read without the general field iterator.
    let mut key: &[u8] = &[];
    let mut value: &[u8] = &[];
    let mut rest = buf;
    while let Some((&tag, after)) = rest.split_first() {
        if tag != 0x0a && tag != 0x12 {
            return split_key_value_general(buf);
        }
        let (len, after) = wire::varint_prefix(after)?;
        let len = usize::try_from(len).map_err(|_| WireError("length overflows"))?;
        if len > after.len() {
            return Err(WireError("field runs past the end of its message"));
        }
        let (payload, after) = after.split_at(len);
        if tag == 0x0a {
            key = payload;
        } else {
            value = payload;
        }
        rest = after;
    }
    Ok((key, value))
}

#[cold]
fn split_key_value_general(buf: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let mut key: &[u8] = &[];
    let mut value: &[u8] = &[];
    for f in wire::fields(buf) {
        let f = f?;
        match f.number {
            1 => key = wire::expect_len(f.value, "KeyValue.key with a wrong wire type")?,
            2 => value = wire::expect_len(f.value, "KeyValue.value with a wrong wire type")?,
            _ => {}
        }
    }
    Ok((key, value))
}

/// Parses an encoded `KeyValue`.
pub(crate) fn parse_key_value(buf: &[u8]) -> Result<(&[u8], ValueRef<'_>), WireError> {
    let mut key: &[u8] = &[];
    let mut value = ValueRef::Empty;
    for f in wire::fields(buf) {
        let f = f?;
        match f.number {
            1 => key = wire::expect_len(f.value, "KeyValue.key with a wrong wire type")?,
            2 => {
                value = parse_any_value(wire::expect_len(
                    f.value,
                    "KeyValue.value with a wrong wire type",
                )?)?
            }
            _ => {}
        }
    }
    Ok((key, value))
}

/// Appends an encoded `KeyValue` as field `field` of the enclosing message.
pub(crate) fn put_key_value(
    out: &mut Vec<u8>,
    field: u32,
    key: &[u8],
    value: ValueRef<'_>,
    scratch: &mut Vec<u8>,
) {
    scratch.clear();
    if !key.is_empty() {
        wire::put_len_field(scratch, 1, key);
    }
    let mut any = Vec::new();
    value.encode(&mut any);
    // The Go collector always writes the value field, even when empty.
    wire::put_len_field(scratch, 2, &any);
    wire::put_len_field(out, field, scratch);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::common::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
    use prost::Message as _;

    fn any(v: any_value::Value) -> AnyValue {
        AnyValue { value: Some(v) }
    }

    #[test]
    fn every_value_type_parses_and_reencodes() {
        let nested = any(any_value::Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(any(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![any(any_value::Value::IntValue(-3)), AnyValue::default()],
                }))),
                ..Default::default()
            }],
        }));
        let values = [
            AnyValue::default(),
            any(any_value::Value::StringValue("héllo".into())),
            any(any_value::Value::BoolValue(true)),
            any(any_value::Value::IntValue(-42)),
            any(any_value::Value::DoubleValue(f64::NAN)),
            any(any_value::Value::BytesValue(vec![0, 255])),
            nested.clone(),
        ];
        for v in values {
            let bytes = v.encode_to_vec();
            let parsed = parse_any_value(&bytes).unwrap();
            let mut again = Vec::new();
            parsed.to_owned().as_ref().encode(&mut again);
            assert_eq!(
                AnyValue::decode(again.as_slice()).unwrap().encode_to_vec(),
                bytes
            );
        }
        let bytes = nested.encode_to_vec();
        let ValueRef::Map(raw) = parse_any_value(&bytes).unwrap() else {
            panic!()
        };
        let entries = raw.map().unwrap();
        assert_eq!(entries[0].0, b"k");
        let ValueRef::Array(arr) = entries[0].1 else {
            panic!()
        };
        assert_eq!(
            arr.array().unwrap(),
            vec![ValueRef::Int(-3), ValueRef::Empty]
        );
    }

    #[test]
    fn strings_that_are_not_utf8_are_bytes() {
        let mut buf = Vec::new();
        wire::put_len_field(&mut buf, 1, &[0xff, b'a']);
        let v = parse_any_value(&buf).unwrap();
        assert_eq!(v, ValueRef::Str(&[0xff, b'a']));
        assert_eq!(v.as_str(), None);
    }
}
