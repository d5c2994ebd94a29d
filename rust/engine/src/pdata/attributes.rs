//! One attribute map of a batch, edited with the Go collector's semantics.
//!
//! A processor edits attributes through [`Attributes`], which behaves like
//! the Go collector's `pcommon.Map` on the same list: a lookup takes the
//! first entry with the key, [`Attributes::put`] updates that entry or
//! appends, [`Attributes::remove`] moves the last entry into the hole
//! (`Map.Remove`), [`Attributes::retain`] keeps the order (`Map.RemoveIf`).
//! Keys and values may be any bytes, as in Go.
//!
//! Every change is also recorded as an operation on the map ([`Op`]). The
//! bridge hands Go those operations instead of a re-encoded batch: Go
//! replays them on its own `pdata`, so it never unmarshals the batch, and
//! the result is what the same operations on a `pcommon.Map` give. A map
//! nobody changed records nothing and costs no allocation: its entries are
//! positions in the batch's bytes until the first write.
//!
//! Entries and operations hold byte ranges of the batch rather than
//! references, so that the state of a changed map outlives one
//! processor's pass: the next processor of a chain continues from it
//! without parsing or replaying anything.

use bytes::Bytes;

use super::edits::format;
use super::value::{parse_any_value, Value, ValueRef};

/// A byte range of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    #[inline]
    pub(crate) fn of(batch: &[u8], part: &[u8]) -> Span {
        if part.is_empty() {
            // An absent key or value (Go omits an empty key) may be a
            // slice from anywhere.
            return Span::default();
        }
        // `part` is a subslice of `batch` (the walker made it): its offset
        // is the distance between the two starts.
        let start = part.as_ptr() as usize - batch.as_ptr() as usize;
        debug_assert!(start + part.len() <= batch.len());
        Span {
            start: start as u32,
            len: part.len() as u32,
        }
    }

    #[inline]
    pub(crate) fn get(self, batch: &[u8]) -> &[u8] {
        &batch[self.start as usize..(self.start + self.len) as usize]
    }
}

/// One attribute as the batch holds it: its key and its encoded value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RawEntry {
    pub(crate) key: Span,
    pub(crate) value: Span,
}

/// A key: in the batch, or written by a processor.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    Batch(Span),
    Owned(Bytes),
}

impl Key {
    #[inline]
    fn get<'b>(&'b self, batch: &'b [u8]) -> &'b [u8] {
        match self {
            Key::Batch(s) => s.get(batch),
            Key::Owned(b) => b,
        }
    }
}

/// A value: still encoded in the batch, or written by a processor.
#[derive(Debug, Clone)]
#[repr(C, u8)]
pub(crate) enum Slot {
    Encoded(Span),
    Owned(Value),
}

impl Slot {
    #[inline]
    fn get<'b>(&'b self, batch: &'b [u8]) -> ValueRef<'b> {
        match self {
            Slot::Encoded(s) => parse_value(s.get(batch)),
            Slot::Owned(v) => v.as_ref(),
        }
    }
}

/// One entry of an edited map.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: Key,
    pub(crate) value: Slot,
}

/// The state of a map after a pass changed it: its entries and the
/// operations, in the format Go reads, that lead there from the batch's
/// map. Kept per map by the index and swapped in and out of the editor, so
/// that it moves between passes without being copied, and its buffers are
/// reused across requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct MapState {
    pub(crate) entries: Vec<Entry>,
    pub(crate) ops: Vec<u8>,
    pub(crate) n_ops: u32,
    pub(crate) edited: bool,
}

impl MapState {
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.ops.clear();
        self.n_ops = 0;
        self.edited = false;
    }
}

fn parse_value(encoded: &[u8]) -> ValueRef<'_> {
    // The walker checked the KeyValue's framing; a value that does not
    // parse reads as empty rather than failing a read.
    parse_any_value(encoded).unwrap_or(ValueRef::Empty)
}

/// An attribute map being read or edited. See the module docs.
#[derive(Debug)]
pub struct Attributes<'a> {
    batch: &'a [u8],
    raw: &'a [RawEntry],
    edited: Vec<Entry>,
    /// `edited` is the map (a write made it, or an earlier pass did).
    use_edited: bool,
    ops: Vec<u8>,
    n_ops: u32,
    /// This pass changed the map.
    changed: bool,
}

impl<'a> Attributes<'a> {
    pub(crate) fn new(batch: &'a [u8]) -> Self {
        Attributes {
            batch,
            raw: &[],
            edited: Vec::new(),
            use_edited: false,
            ops: Vec::new(),
            n_ops: 0,
            changed: false,
        }
    }

    /// Points the editor at one map: its entries in the batch, and its
    /// state after earlier passes (swapped in, not copied).
    pub(crate) fn load(&mut self, raw: &'a [RawEntry], state: &mut MapState) {
        self.raw = raw;
        std::mem::swap(&mut self.edited, &mut state.entries);
        std::mem::swap(&mut self.ops, &mut state.ops);
        self.n_ops = state.n_ops;
        self.use_edited = state.edited;
        self.changed = false;
    }

    /// Gives the map's state back (swapped out, not copied).
    pub(crate) fn unload(&mut self, state: &mut MapState) {
        std::mem::swap(&mut self.edited, &mut state.entries);
        std::mem::swap(&mut self.ops, &mut state.ops);
        state.n_ops = self.n_ops;
        state.edited = self.use_edited;
    }

    /// The editable list, made from the batch's entries on first use.
    fn entries_mut(&mut self) -> &mut Vec<Entry> {
        if !self.use_edited {
            self.edited.clear();
            self.edited.extend(self.raw.iter().map(|r| Entry {
                key: Key::Batch(r.key),
                value: Slot::Encoded(r.value),
            }));
            self.use_edited = true;
        }
        &mut self.edited
    }

    fn op(&mut self, code: u8) {
        self.changed = true;
        self.ops.push(code);
        self.n_ops += 1;
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

    /// Whether this pass changed anything.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// The key of entry `i`.
    pub fn key(&self, i: usize) -> &[u8] {
        if self.use_edited {
            self.edited[i].key.get(self.batch)
        } else {
            self.raw[i].key.get(self.batch)
        }
    }

    /// The value of entry `i`.
    pub fn value(&self, i: usize) -> ValueRef<'_> {
        if self.use_edited {
            self.edited[i].value.get(self.batch)
        } else {
            parse_value(self.raw[i].value.get(self.batch))
        }
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], ValueRef<'_>)> + '_ {
        (0..self.len()).map(|i| (self.key(i), self.value(i)))
    }

    /// The index of the first entry with `key` (`pcommon.Map.Get`).
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let batch = self.batch;
        if self.use_edited {
            self.edited.iter().position(|e| e.key.get(batch) == key)
        } else {
            self.raw.iter().position(|r| r.key.get(batch) == key)
        }
    }

    /// The value of the first entry with `key`.
    pub fn get(&self, key: &[u8]) -> Option<ValueRef<'_>> {
        self.find(key).map(|i| self.value(i))
    }

    /// Replaces the value of entry `i`.
    pub fn set(&mut self, i: usize, value: Value) {
        self.op(format::OP_SET_AT);
        put_u32(&mut self.ops, i as u32);
        put_value(&mut self.ops, value.as_ref());
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
        self.op(format::OP_APPEND);
        put_bytes(&mut self.ops, key);
        put_value(&mut self.ops, value.as_ref());
        self.entries_mut().push(Entry {
            key: Key::Owned(Bytes::copy_from_slice(key)),
            value: Slot::Owned(value),
        });
    }

    /// Removes the first entry with `key`, moving the last entry into its
    /// place (`pcommon.Map.Remove`); returns whether there was one.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let Some(i) = self.find(key) else {
            return false;
        };
        self.op(format::OP_REMOVE);
        put_bytes(&mut self.ops, key);
        self.entries_mut().swap_remove(i);
        true
    }

    /// Keeps the entries for which `keep` is true, in order
    /// (`pcommon.Map.RemoveIf` with the opposite predicate); returns how
    /// many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], ValueRef<'_>) -> bool) -> usize {
        let n = self.len();
        let mut bits = vec![0u8; n.div_ceil(8)];
        let mut removed = 0;
        for i in 0..n {
            if keep(self.key(i), self.value(i)) {
                bits[i / 8] |= 1 << (i % 8);
            } else {
                removed += 1;
            }
        }
        if removed == 0 {
            return 0;
        }
        self.op(format::OP_RETAIN);
        put_u32(&mut self.ops, n as u32);
        self.ops.extend_from_slice(&bits);
        let mut i = 0;
        self.entries_mut().retain(|_| {
            let k = bits[i / 8] & (1 << (i % 8)) != 0;
            i += 1;
            k
        });
        removed
    }
}

/// The entries of an edited map, for encoding.
pub(crate) fn entries<'b>(
    batch: &'b [u8],
    entries: &'b [Entry],
) -> impl Iterator<Item = (&'b [u8], ValueRef<'b>)> + 'b {
    entries
        .iter()
        .map(move |e| (e.key.get(batch), e.value.get(batch)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys a..d with encoded int values 1..=4 (`AnyValue { int_value }`).
    fn batch() -> (Vec<u8>, Vec<RawEntry>) {
        let mut b = Vec::new();
        let mut raw = Vec::new();
        for (k, v) in [(b'a', 1u8), (b'b', 2), (b'c', 3), (b'd', 4)] {
            let ks = b.len();
            b.push(k);
            let vs = b.len();
            b.extend_from_slice(&[0x18, v]);
            raw.push(RawEntry {
                key: Span {
                    start: ks as u32,
                    len: 1,
                },
                value: Span {
                    start: vs as u32,
                    len: 2,
                },
            });
        }
        (b, raw)
    }

    fn keys(a: &Attributes<'_>) -> Vec<String> {
        a.iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn pcommon_semantics() {
        let (b, raw) = batch();
        let mut a = Attributes::new(&b);
        a.load(&raw, &mut MapState::default());
        assert_eq!(a.get(b"c"), Some(ValueRef::Int(3)));
        assert!(!a.is_changed(), "reading records nothing");
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
    fn state_carries_over_to_the_next_pass_without_copies() {
        let (b, raw) = batch();
        let mut state = MapState::default();
        let mut a = Attributes::new(&b);
        a.load(&raw, &mut state);
        a.set(1, Value::Int(10));
        a.unload(&mut state);
        assert_eq!(state.n_ops, 1);
        let ops_ptr = state.ops.as_ptr();
        let mut next = Attributes::new(&b);
        next.load(&raw, &mut state);
        assert!(!next.is_changed());
        assert_eq!(next.get(b"b"), Some(ValueRef::Int(10)));
        assert_eq!(next.ops.as_ptr(), ops_ptr, "swapped, not copied");
        next.remove(b"a");
        next.unload(&mut state);
        assert_eq!(state.n_ops, 2);
    }
}
