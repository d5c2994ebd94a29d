//! One attribute map of a batch, edited with the Go collector's semantics.
//!
//! A processor edits attributes through [`Attributes`], which behaves like
//! the Go collector's `pcommon.Map` on the same list: a lookup takes the
//! first entry with the key, [`Attributes::put`] updates that entry or
//! appends, [`Attributes::remove`] moves the last entry into the hole
//! (`Map.Remove`), [`Attributes::retain`] keeps the order (`Map.RemoveIf`).
//! Keys and values may be any bytes, as in Go.
//!
//! Every change is also recorded as an operation on the original list
//! ([`Op`]). The bridge hands Go those operations instead of a re-encoded
//! batch: Go replays them on its own `pdata`, so it never unmarshals the
//! batch, and the result is exactly what the same operations on a
//! `pcommon.Map` give. A map nobody changed records nothing and costs no
//! allocation: the list borrows the batch's bytes until the first write.

use std::borrow::Cow;

use super::edits::format;
use super::value::{RawAnyValue, Value, ValueRef};
use super::wire::WireError;

/// One entry of an attribute map.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    pub(crate) key: Cow<'a, [u8]>,
    pub(crate) value: Slot<'a>,
}

/// A value still encoded in the batch, borrowed from an earlier edit, or
/// written here.
#[derive(Debug, Clone)]
#[repr(C, u8)]
pub(crate) enum Slot<'a> {
    Encoded(&'a [u8]),
    Ref(ValueRef<'a>),
    Owned(Value),
}

impl Slot<'_> {
    fn get(&self) -> ValueRef<'_> {
        match self {
            Slot::Encoded(b) => parse_value(b),
            Slot::Ref(v) => *v,
            Slot::Owned(v) => v.as_ref(),
        }
    }
}

/// One attribute as the batch holds it: its key and its encoded value,
/// parsed only when read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawEntry<'a> {
    key: &'a [u8],
    value: &'a [u8],
}

/// An attribute map being read or edited. See the module docs.
///
/// Until the first write the map is the batch's own entries, kept as two
/// slices each; the first write copies them into an editable list.
#[derive(Debug, Default)]
pub struct Attributes<'a> {
    raw: Vec<RawEntry<'a>>,
    edited: Vec<Entry<'a>>,
    /// `edited` is the map (a write or a replay made it).
    use_edited: bool,
    ops: Vec<u8>,
    n_ops: u32,
}

fn parse_value(encoded: &[u8]) -> ValueRef<'_> {
    // The walker checked the KeyValue's framing; a value that does not
    // parse reads as empty rather than failing a read.
    super::value::parse_any_value(encoded).unwrap_or(ValueRef::Empty)
}

impl<'a> Attributes<'a> {
    pub(crate) fn reset(&mut self) {
        self.raw.clear();
        self.edited.clear();
        self.use_edited = false;
        self.ops.clear();
        self.n_ops = 0;
    }

    pub(crate) fn push_raw(&mut self, key: &'a [u8], value: &'a [u8]) {
        self.raw.push(RawEntry { key, value });
    }

    /// The editable list, made from the batch's entries on first use.
    fn entries_mut(&mut self) -> &mut Vec<Entry<'a>> {
        if !self.use_edited {
            self.edited.clear();
            self.edited.extend(self.raw.iter().map(|r| Entry {
                key: Cow::Borrowed(r.key),
                value: Slot::Encoded(r.value),
            }));
            self.use_edited = true;
        }
        &mut self.edited
    }

    /// The recorded operations (for the edit layer) and their number.
    pub(crate) fn recorded(&self) -> (&[u8], u32) {
        (&self.ops, self.n_ops)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        if self.use_edited {
            self.edited.len()
        } else {
            self.raw.len()
        }
    }

    /// True when the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether anything was changed through this editor.
    pub fn is_changed(&self) -> bool {
        self.n_ops > 0
    }

    /// The key of entry `i`.
    pub fn key(&self, i: usize) -> &[u8] {
        if self.use_edited {
            &self.edited[i].key
        } else {
            self.raw[i].key
        }
    }

    /// The value of entry `i`.
    pub fn value(&self, i: usize) -> ValueRef<'_> {
        if self.use_edited {
            self.edited[i].value.get()
        } else {
            parse_value(self.raw[i].value)
        }
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], ValueRef<'_>)> + '_ {
        (0..self.len()).map(|i| (self.key(i), self.value(i)))
    }

    /// The index of the first entry with `key` (`pcommon.Map.Get`).
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        if self.use_edited {
            self.edited.iter().position(|e| *e.key == *key)
        } else {
            self.raw.iter().position(|r| r.key == key)
        }
    }

    /// The value of the first entry with `key`.
    pub fn get(&self, key: &[u8]) -> Option<ValueRef<'_>> {
        self.find(key).map(|i| self.value(i))
    }

    /// Replaces the value of entry `i`.
    pub fn set(&mut self, i: usize, value: Value) {
        self.ops.push(format::OP_SET_AT);
        put_u32(&mut self.ops, i as u32);
        put_value(&mut self.ops, value.as_ref());
        self.n_ops += 1;
        self.entries_mut()[i].value = Slot::Owned(value);
    }

    /// Sets the value of the first entry with `key`, or appends an entry
    /// (`pcommon.Map.PutStr` and friends).
    pub fn put(&mut self, key: &[u8], value: Value) {
        match self.find(key) {
            Some(i) => self.set(i, value),
            None => self.append(key, value),
        }
    }

    /// Appends an entry if no entry has `key`; returns whether it did
    /// (`PutEmpty` on a missing key).
    pub fn insert(&mut self, key: &[u8], value: Value) -> bool {
        if self.find(key).is_some() {
            return false;
        }
        self.append(key, value);
        true
    }

    fn append(&mut self, key: &[u8], value: Value) {
        self.ops.push(format::OP_APPEND);
        put_bytes(&mut self.ops, key);
        put_value(&mut self.ops, value.as_ref());
        self.n_ops += 1;
        self.entries_mut().push(Entry {
            key: Cow::Owned(key.to_vec()),
            value: Slot::Owned(value),
        });
    }

    /// Removes the first entry with `key`, moving the last entry into its
    /// place (`pcommon.Map.Remove`); returns whether there was one.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let Some(i) = self.find(key) else {
            return false;
        };
        self.ops.push(format::OP_REMOVE);
        put_bytes(&mut self.ops, key);
        self.n_ops += 1;
        self.entries_mut().swap_remove(i);
        true
    }

    /// Keeps the entries for which `keep` is true, in order
    /// (`pcommon.Map.RemoveIf` with the opposite predicate); returns how
    /// many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], ValueRef<'_>) -> bool) -> usize {
        let mask: Vec<bool> = self.iter().map(|(k, v)| keep(k, v)).collect();
        let removed = mask.iter().filter(|k| !**k).count();
        if removed == 0 {
            return 0;
        }
        self.ops.push(format::OP_RETAIN);
        put_u32(&mut self.ops, mask.len() as u32);
        let mut bits = vec![0u8; mask.len().div_ceil(8)];
        for (i, k) in mask.iter().enumerate() {
            if *k {
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        self.ops.extend_from_slice(&bits);
        self.n_ops += 1;
        let mut i = 0;
        self.entries_mut().retain(|_| {
            let k = mask[i];
            i += 1;
            k
        });
        removed
    }

    /// Applies operations recorded earlier (by a processor before this one
    /// in a chain) without recording them again.
    pub(crate) fn replay(&mut self, mut ops: &'a [u8], n: u32) -> Result<(), WireError> {
        let entries = self.entries_mut();
        for _ in 0..n {
            let code = take_u8(&mut ops)?;
            match code {
                format::OP_SET_AT => {
                    let i = take_u32(&mut ops)? as usize;
                    let v = take_value(&mut ops)?;
                    let e = entries
                        .get_mut(i)
                        .ok_or(WireError("edit index out of range"))?;
                    e.value = Slot::Ref(v);
                }
                format::OP_APPEND => {
                    let key = take_bytes(&mut ops)?;
                    let v = take_value(&mut ops)?;
                    entries.push(Entry {
                        key: Cow::Borrowed(key),
                        value: Slot::Ref(v),
                    });
                }
                format::OP_REMOVE => {
                    let key = take_bytes(&mut ops)?;
                    if let Some(i) = entries.iter().position(|e| *e.key == *key) {
                        entries.swap_remove(i);
                    }
                }
                format::OP_RETAIN => {
                    let n = take_u32(&mut ops)? as usize;
                    let bits = take(&mut ops, n.div_ceil(8))?;
                    if n != entries.len() {
                        return Err(WireError("retain mask does not fit the map"));
                    }
                    let mut i = 0;
                    entries.retain(|_| {
                        let k = bits[i / 8] & (1 << (i % 8)) != 0;
                        i += 1;
                        k
                    });
                }
                _ => return Err(WireError("unknown edit operation")),
            }
        }
        Ok(())
    }
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

fn put_value(out: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::Empty => out.push(format::VALUE_EMPTY),
        ValueRef::Str(b) => {
            out.push(format::VALUE_STR);
            put_bytes(out, b);
        }
        ValueRef::Bool(b) => {
            out.push(format::VALUE_BOOL);
            out.push(u8::from(b));
        }
        ValueRef::Int(i) => {
            out.push(format::VALUE_INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Double(d) => {
            out.push(format::VALUE_DOUBLE);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        ValueRef::Bytes(b) => {
            out.push(format::VALUE_BYTES);
            put_bytes(out, b);
        }
        ValueRef::Array(raw) | ValueRef::Map(raw) => {
            out.push(format::VALUE_RAW);
            put_bytes(out, raw.encoded());
        }
    }
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], WireError> {
    if buf.len() < n {
        return Err(WireError("edit list truncated"));
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

pub(crate) fn take_u8(buf: &mut &[u8]) -> Result<u8, WireError> {
    Ok(take(buf, 1)?[0])
}

pub(crate) fn take_u32(buf: &mut &[u8]) -> Result<u32, WireError> {
    Ok(u32::from_le_bytes(
        take(buf, 4)?.try_into().expect("4 bytes"),
    ))
}

fn take_u64(buf: &mut &[u8]) -> Result<u64, WireError> {
    Ok(u64::from_le_bytes(
        take(buf, 8)?.try_into().expect("8 bytes"),
    ))
}

fn take_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], WireError> {
    let n = take_u32(buf)? as usize;
    take(buf, n)
}

fn take_value<'a>(buf: &mut &'a [u8]) -> Result<ValueRef<'a>, WireError> {
    Ok(match take_u8(buf)? {
        format::VALUE_EMPTY => ValueRef::Empty,
        format::VALUE_STR => ValueRef::Str(take_bytes(buf)?),
        format::VALUE_BOOL => ValueRef::Bool(take_u8(buf)? != 0),
        format::VALUE_INT => ValueRef::Int(take_u64(buf)? as i64),
        format::VALUE_DOUBLE => ValueRef::Double(f64::from_bits(take_u64(buf)?)),
        format::VALUE_BYTES => ValueRef::Bytes(take_bytes(buf)?),
        format::VALUE_RAW => {
            let raw = take_bytes(buf)?;
            match super::value::parse_any_value(raw)? {
                ValueRef::Array(_) => ValueRef::Array(RawAnyValue(raw)),
                ValueRef::Map(_) => ValueRef::Map(RawAnyValue(raw)),
                other => other,
            }
        }
        _ => return Err(WireError("unknown value tag in edit list")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoded values 1..=4 (`AnyValue { int_value }`), leaked for the
    /// test's lifetime.
    fn sample<'a>() -> Attributes<'a> {
        let mut a = Attributes::default();
        for (k, v) in [("a", 1u8), ("b", 2), ("c", 3), ("d", 4)] {
            let encoded: &'static [u8] = Box::leak(vec![0x18, v].into_boxed_slice());
            a.push_raw(k.as_bytes(), encoded);
        }
        a
    }

    fn keys(a: &Attributes<'_>) -> Vec<String> {
        a.iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn pcommon_semantics() {
        let mut a = sample();
        assert!(a.remove(b"a"));
        assert_eq!(
            keys(&a),
            ["d", "b", "c"],
            "Remove moves the last entry into the hole"
        );
        assert_eq!(a.retain(|k, _| k != b"b"), 1);
        assert_eq!(keys(&a), ["d", "c"], "RemoveIf keeps the order");
        a.put(b"c", Value::Int(30));
        a.put(b"e", Value::str("x"));
        assert!(!a.insert(b"e", Value::Empty));
        assert_eq!(keys(&a), ["d", "c", "e"]);
        assert_eq!(a.get(b"c"), Some(ValueRef::Int(30)));
        assert!(a.is_changed());
    }

    #[test]
    fn replaying_the_recorded_ops_gives_the_same_map() {
        let mut a = sample();
        a.remove(b"b");
        a.set(0, Value::Bytes(vec![9].into()));
        a.put(b"z", Value::Raw(vec![0x2a, 0x00].into()));
        a.retain(|k, _| k != b"c");
        let (ops, n) = a.recorded();
        let ops = ops.to_vec();
        let mut b = sample();
        b.replay(&ops, n).unwrap();
        assert_eq!(keys(&a), keys(&b));
        for i in 0..a.len() {
            assert_eq!(a.value(i), b.value(i));
        }
    }

    #[test]
    fn reading_records_nothing() {
        let a = sample();
        assert_eq!(a.get(b"c"), Some(ValueRef::Int(3)));
        assert!(!a.is_changed());
    }

    #[test]
    fn bad_edit_lists_are_errors() {
        let mut a = sample();
        assert!(a
            .replay(&[format::OP_SET_AT, 9, 0, 0, 0, format::VALUE_EMPTY], 1)
            .is_err());
        assert!(a.replay(&[77], 1).is_err());
        assert!(a.replay(&[format::OP_REMOVE, 5, 0], 1).is_err());
    }
}
