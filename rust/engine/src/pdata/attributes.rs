//! One attribute map of a batch, edited with the Go collector's semantics.
//!
//! A processor edits attributes through [`Attributes`], which behaves like
//! the Go collector's `pcommon.Map` on the same list: a lookup takes the
//! first entry with the key, [`Attributes::put`] updates that entry or
//! appends, [`Attributes::remove`] moves the last entry into the hole
//! (`Map.Remove`), [`Attributes::retain`] keeps the order (`Map.RemoveIf`).
//! Keys and values may be any bytes, as in Go.
//!
//! Every change is also recorded as an operation on the map, in the edit
//! list Go reads (`edits.rs`). The bridge hands Go that list instead of a
//! re-encoded batch: Go replays it on its own `pdata`, so it never
//! unmarshals the batch, and the result is what the same operations on a
//! `pcommon.Map` give.
//!
//! Nothing here allocates per map or per write. A map nobody changed is
//! positions in the batch's bytes. A changed map's entries live in one
//! arena shared by the whole batch ([`EditArena`]), and what a processor
//! writes (a key, a value) is copied once, into the edit list, where the
//! entries point: the list is at the same time the record Go replays and
//! the storage of the written bytes. Entries are positions (in the batch or
//! in the list), never references, so the state of a changed map outlives
//! one processor's pass: the next processor of a chain continues from it
//! without parsing or replaying anything.

use super::edits::{format, Target};
use super::value::{parse_any_value, ValueRef};

/// A byte range of the batch or of the edit list.
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
    fn at(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            len: (end - start) as u32,
        }
    }

    #[inline]
    pub(crate) fn get(self, bytes: &[u8]) -> &[u8] {
        &bytes[self.start as usize..(self.start + self.len) as usize]
    }
}

/// One attribute as the batch holds it: its key and its encoded value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RawEntry {
    pub(crate) key: Span,
    pub(crate) value: Span,
}

/// No operation wrote an entry's value with `OP_SET_AT`.
const NO_SET: u32 = u32::MAX;

/// One entry of a changed map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    key: Span,
    value: Span,
    /// Where in the list the `OP_SET_AT` that wrote `value` starts
    /// (`NO_SET` if none): a later set of the entry voids it.
    set_op: u32,
    /// `key` is in the edit list (a processor wrote it), not the batch.
    key_written: bool,
    /// `value` is an edit-list value (tag and payload) a processor wrote,
    /// not an encoded `AnyValue` of the batch.
    value_written: bool,
}

impl Entry {
    #[inline]
    fn of_batch(raw: &RawEntry) -> Entry {
        Entry {
            key: raw.key,
            value: raw.value,
            set_op: NO_SET,
            key_written: false,
            value_written: false,
        }
    }

    #[inline]
    fn key<'b>(&self, batch: &'b [u8], list: &'b [u8]) -> &'b [u8] {
        if self.key_written {
            self.key.get(list)
        } else {
            self.key.get(batch)
        }
    }

    #[inline]
    fn value<'b>(&self, batch: &'b [u8], list: &'b [u8]) -> ValueRef<'b> {
        if self.value_written {
            written_value(self.value.get(list))
        } else {
            parse_value(self.value.get(batch))
        }
    }
}

/// The changes of a batch: the edit list (see `edits.rs`) and the entries
/// of the changed maps. One per batch, reused across requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct EditArena {
    pub(crate) list: Vec<u8>,
    pub(crate) entries: Vec<Entry>,
}

impl EditArena {
    pub(crate) fn clear(&mut self) {
        self.list.clear();
        self.entries.clear();
    }

    pub(crate) fn capacity_bytes(&self) -> usize {
        self.list.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    /// The entries of a changed map, for encoding.
    pub(crate) fn entries<'b>(
        &'b self,
        batch: &'b [u8],
        state: MapState,
    ) -> impl Iterator<Item = (&'b [u8], ValueRef<'b>)> + 'b {
        let list = &self.list;
        self.entries[state.start as usize..(state.start + state.len) as usize]
            .iter()
            .map(move |e| (e.key(batch, list), e.value(batch, list)))
    }
}

/// The operations one pass recorded for one map: where they are in the
/// edit list (after the map's target and count) and how many.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) ops: std::ops::Range<u32>,
    pub(crate) n_ops: u32,
}

/// Where a map's entries are once a pass changed it: a range of the
/// arena's entries.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MapState {
    start: u32,
    len: u32,
    pub(crate) changed: bool,
}

/// Where the entries of the map being edited are.
#[derive(Debug, Clone, Copy)]
enum View {
    /// Still the batch's own.
    Batch,
    /// A range of the arena an earlier pass left.
    Earlier { start: u32, len: u32 },
    /// The arena's tail, from `start`: this pass changed the map, and
    /// writes to it go to the end of the arena.
    Tail(u32),
}

fn parse_value(encoded: &[u8]) -> ValueRef<'_> {
    // The walker checked the KeyValue's framing; a value that does not
    // parse reads as empty rather than failing a read.
    parse_any_value(encoded).unwrap_or(ValueRef::Empty)
}

/// Reads a value `put_value` wrote.
fn written_value(b: &[u8]) -> ValueRef<'_> {
    let payload = &b[1..];
    let eight = || {
        let mut v = [0u8; 8];
        v.copy_from_slice(&payload[..8]);
        v
    };
    match b[0] {
        format::VALUE_STR => ValueRef::Str(&payload[4..]),
        format::VALUE_BOOL => ValueRef::Bool(payload[0] != 0),
        format::VALUE_INT => ValueRef::Int(i64::from_le_bytes(eight())),
        format::VALUE_DOUBLE => ValueRef::Double(f64::from_bits(u64::from_le_bytes(eight()))),
        format::VALUE_BYTES => ValueRef::Bytes(&payload[4..]),
        format::VALUE_RAW => parse_value(&payload[4..]),
        _ => ValueRef::Empty,
    }
}

/// An attribute map being read or edited. See the module docs.
#[derive(Debug)]
pub struct Attributes<'a> {
    batch: &'a [u8],
    raw: &'a [RawEntry],
    arena: &'a mut EditArena,
    target: Target,
    view: View,
    /// Where this pass's operation count for the map is in the list, once
    /// it recorded one.
    segment: Option<usize>,
    n_ops: u32,
    /// This pass wrote a value over an earlier set's (`overwrite`): it
    /// changed the map without recording an operation.
    overwrote: bool,
}

impl<'a> Attributes<'a> {
    /// Points an editor at one map: its entries in the batch, and where an
    /// earlier pass left them.
    #[inline]
    pub(crate) fn load(
        batch: &'a [u8],
        raw: &'a [RawEntry],
        arena: &'a mut EditArena,
        target: Target,
        state: MapState,
    ) -> Self {
        Attributes {
            batch,
            raw,
            arena,
            target,
            view: if state.changed {
                View::Earlier {
                    start: state.start,
                    len: state.len,
                }
            } else {
                View::Batch
            },
            segment: None,
            n_ops: 0,
            overwrote: false,
        }
    }

    /// Ends the pass over the map: its state for the next pass, and
    /// whether this pass recorded operations for it (a pass that only
    /// overwrote earlier sets' values records none).
    // Inlined: a call takes the editor by value, a copy whose wide loads
    // of fields the processor had just stored could not be forwarded
    // from the stores, and stalled every map of every pass.
    #[inline]
    pub(crate) fn finish(self) -> (MapState, Option<Recorded>) {
        let state = match self.view {
            View::Batch => MapState::default(),
            View::Earlier { start, len } => MapState {
                start,
                len,
                changed: true,
            },
            View::Tail(start) => MapState {
                start,
                len: self.arena.entries.len() as u32 - start,
                changed: true,
            },
        };
        let recorded = self.segment.map(|at| {
            self.arena.list[at..at + 4].copy_from_slice(&self.n_ops.to_le_bytes());
            Recorded {
                ops: (at + 4) as u32..self.arena.list.len() as u32,
                n_ops: self.n_ops,
            }
        });
        (state, recorded)
    }

    #[inline]
    fn changed_entries(&self) -> Option<&[Entry]> {
        match self.view {
            View::Batch => None,
            View::Earlier { start, len } => {
                Some(&self.arena.entries[start as usize..(start + len) as usize])
            }
            View::Tail(start) => Some(&self.arena.entries[start as usize..]),
        }
    }

    /// Moves the map's entries to the arena's tail (once per pass) and
    /// returns where they start.
    fn tail(&mut self) -> usize {
        let entries = &mut self.arena.entries;
        let start = entries.len();
        match self.view {
            View::Tail(start) => return start as usize,
            View::Batch => entries.extend(self.raw.iter().map(Entry::of_batch)),
            View::Earlier { start: s, len } => {
                entries.extend_from_within(s as usize..(s + len) as usize)
            }
        }
        self.view = View::Tail(start as u32);
        start
    }

    /// Starts recording an operation; returns where it starts.
    fn op(&mut self, code: u8) -> usize {
        let list = &mut self.arena.list;
        if self.segment.is_none() {
            self.target.write(list);
            self.segment = Some(list.len());
            put_u32(list, 0);
        }
        list.push(code);
        self.n_ops += 1;
        list.len() - 1
    }

    /// Records `value` and returns where it is.
    fn record_value(&mut self, value: ValueRef<'_>) -> Span {
        let list = &mut self.arena.list;
        let at = list.len();
        put_value(list, value);
        Span::at(at, list.len())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self.view {
            View::Batch => self.raw.len(),
            View::Earlier { len, .. } => len as usize,
            View::Tail(start) => self.arena.entries.len() - start as usize,
        }
    }

    /// True when the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this pass changed anything.
    pub fn is_changed(&self) -> bool {
        self.segment.is_some() || self.overwrote
    }

    /// The key of entry `i`.
    pub fn key(&self, i: usize) -> &[u8] {
        match self.changed_entries() {
            None => self.raw[i].key.get(self.batch),
            Some(e) => e[i].key(self.batch, &self.arena.list),
        }
    }

    /// The value of entry `i`.
    pub fn value(&self, i: usize) -> ValueRef<'_> {
        match self.changed_entries() {
            None => parse_value(self.raw[i].value.get(self.batch)),
            Some(e) => e[i].value(self.batch, &self.arena.list),
        }
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], ValueRef<'_>)> + '_ {
        (0..self.len()).map(|i| (self.key(i), self.value(i)))
    }

    /// The index of the first entry with `key` (`pcommon.Map.Get`).
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        // Every action of every processor looks its key up in every
        // record: compare lengths first, bytes only when they agree.
        let n = key.len();
        let last = key.last().copied();
        let same = |bytes: &[u8], at: Span| {
            if at.len as usize != n {
                return false;
            }
            let Some(there) = bytes.get(at.start as usize..at.start as usize + n) else {
                return false;
            };
            // Keys of one length often share a prefix (`http.*`) but
            // rarely a last byte: checking it inline saves most calls to
            // memcmp.
            there.last().copied() == last && same_bytes(there, key)
        };
        let batch = self.batch;
        match self.changed_entries() {
            None => self.raw.iter().position(|r| same(batch, r.key)),
            Some(e) => {
                let list = &self.arena.list[..];
                e.iter()
                    .position(|e| same(if e.key_written { list } else { batch }, e.key))
            }
        }
    }

    /// The value of the first entry with `key`.
    pub fn get(&self, key: &[u8]) -> Option<ValueRef<'_>> {
        self.find(key).map(|i| self.value(i))
    }

    /// Replaces the value of entry `i`. Setting the value it already has
    /// changes nothing and records nothing.
    pub fn set(&mut self, i: usize, value: ValueRef<'_>) {
        assert!(i < self.len(), "entry {i} of a map of {}", self.len());
        if self.value(i) == value {
            return;
        }
        self.set_always(i, value);
    }

    /// The bytes of entry `i`'s value as the batch holds them, or the
    /// string a processor wrote there: for maps whose values are not
    /// encoded `AnyValue`s (span names).
    pub(crate) fn raw_str(&self, i: usize) -> &[u8] {
        match self.changed_entries() {
            None => self.raw[i].value.get(self.batch),
            Some(e) if !e[i].value_written => e[i].value.get(self.batch),
            Some(e) => match e[i].value(self.batch, &self.arena.list) {
                ValueRef::Str(s) => s,
                _ => b"",
            },
        }
    }

    /// [`set`](Self::set) without comparing with the value there.
    pub(crate) fn set_always(&mut self, i: usize, value: ValueRef<'_>) {
        let earlier = match self.changed_entries() {
            Some(e) if e[i].set_op != NO_SET => Some((e[i].set_op as usize, e[i].value)),
            _ => None,
        };
        if let Some((at, written)) = earlier {
            if self.overwrite(written, value) {
                return;
            }
            let value_len = written.len;
            // [OP_SET_AT, index, value] becomes [OP_SKIP, len(value), value].
            let list = &mut self.arena.list;
            list[at] = format::OP_SKIP;
            list[at + 1..at + 5].copy_from_slice(&value_len.to_le_bytes());
        }
        let at = self.op(format::OP_SET_AT);
        put_u32(&mut self.arena.list, i as u32);
        let value = self.record_value(value);
        let start = self.tail();
        let e = &mut self.arena.entries[start + i];
        e.value = value;
        e.value_written = true;
        e.set_op = at as u32;
    }

    /// Writes `value` over the value an earlier `OP_SET_AT` of the entry
    /// recorded at `written`, when its encoding has the same length (a
    /// hash replacing a hash, an int an int); returns whether it did.
    ///
    /// The earlier set then gives Go the final value directly, and this
    /// pass records no operation (nor a layer, if nothing else changes):
    /// a chain of processors that rewrite a value costs Go one set, not
    /// one per processor. Go's result is the same: the operations between
    /// the two sets select entries by key or position, never by value.
    fn overwrite(&mut self, written: Span, value: ValueRef<'_>) -> bool {
        if put_value_len(value) != written.len as usize {
            return false;
        }
        let at = written.start as usize;
        write_value(&mut self.arena.list[at..at + written.len as usize], value);
        self.overwrote = true;
        true
    }

    /// Sets the value of the first entry with `key`, or appends an entry
    /// (`pcommon.Map.PutStr` and friends).
    pub fn put(&mut self, key: &[u8], value: ValueRef<'_>) {
        match self.find(key) {
            Some(i) => self.set(i, value),
            None => self.append(key, value),
        }
    }

    /// Appends an entry if no entry has `key`; returns whether it did
    /// (`PutEmpty` on a missing key).
    pub fn insert(&mut self, key: &[u8], value: ValueRef<'_>) -> bool {
        if self.find(key).is_some() {
            return false;
        }
        self.append(key, value);
        true
    }

    fn append(&mut self, key: &[u8], value: ValueRef<'_>) {
        self.op(format::OP_APPEND);
        let list = &mut self.arena.list;
        put_u32(list, key.len() as u32);
        let key_at = list.len();
        list.extend_from_slice(key);
        let key = Span::at(key_at, list.len());
        let value = self.record_value(value);
        self.tail();
        self.arena.entries.push(Entry {
            key,
            value,
            set_op: NO_SET,
            key_written: true,
            value_written: true,
        });
    }

    /// Removes the first entry with `key`, moving the last entry into its
    /// place (`pcommon.Map.Remove`); returns whether there was one.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let Some(i) = self.find(key) else {
            return false;
        };
        self.op(format::OP_REMOVE);
        put_bytes(&mut self.arena.list, key);
        let start = self.tail();
        // The map is the arena's tail: the arena's last entry is the map's.
        self.arena.entries.swap_remove(start + i);
        true
    }

    /// Keeps the entries for which `keep` is true, in order
    /// (`pcommon.Map.RemoveIf` with the opposite predicate); returns how
    /// many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], ValueRef<'_>) -> bool) -> usize {
        let n = self.len();
        let mut mask = [0u8; 32];
        let mut bits = Vec::new();
        let bits: &mut [u8] = if n <= mask.len() * 8 {
            &mut mask[..n.div_ceil(8)]
        } else {
            bits.resize(n.div_ceil(8), 0);
            &mut bits
        };
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
        put_u32(&mut self.arena.list, n as u32);
        self.arena.list.extend_from_slice(bits);
        let start = self.tail();
        let entries = &mut self.arena.entries;
        let mut kept = start;
        for i in 0..n {
            if bits[i / 8] & (1 << (i % 8)) != 0 {
                entries[kept] = entries[start + i];
                kept += 1;
            }
        }
        entries.truncate(kept);
        removed
    }
}

/// The body of one log record, read and replaced as contrib's processors
/// do with `LogRecord.Body()`. It is kept as a map of one entry (the body)
/// so that a replaced body is an ordinary edit (`OP_SET_AT 0` on a
/// `TargetKind::LogBody` target).
#[derive(Debug)]
pub struct LogBody<'m, 'a> {
    pub(crate) attrs: &'m mut Attributes<'a>,
}

impl LogBody<'_, '_> {
    /// The body (`Empty` when the record has none).
    pub fn get(&self) -> ValueRef<'_> {
        if self.attrs.is_empty() {
            return ValueRef::Empty;
        }
        self.attrs.value(0)
    }

    /// Replaces the body. Setting the value it already has records
    /// nothing.
    pub fn set(&mut self, value: ValueRef<'_>) {
        if !self.attrs.is_empty() {
            self.attrs.set(0, value);
        }
    }

    /// Whether this pass replaced the body.
    pub fn is_changed(&self) -> bool {
        self.attrs.is_changed()
    }
}

/// The name of one span, read and replaced as contrib's processors do
/// with `Span.Name()` and `SetName`, with the span's kind beside it. Kept
/// as a map of one entry (the name's bytes; its key holds the kind's
/// varint) so
/// that a replaced name is an ordinary edit (`OP_SET_AT 0` on a
/// `TargetKind::SpanName` target).
#[derive(Debug)]
pub struct SpanName<'m, 'a> {
    pub(crate) attrs: &'m mut Attributes<'a>,
}

impl SpanName<'_, '_> {
    /// The name (empty when the span has none).
    pub fn get(&self) -> &[u8] {
        if self.attrs.is_empty() {
            return b"";
        }
        self.attrs.raw_str(0)
    }

    /// The span's kind as OTLP numbers it (`SPAN_KIND_SERVER` is 2,
    /// `SPAN_KIND_CLIENT` 3); 0 when absent.
    pub fn kind(&self) -> i32 {
        if self.attrs.is_empty() {
            return 0;
        }
        let mut pos = 0;
        super::wire::read_varint(self.attrs.key(0), &mut pos).map_or(0, |v| v as i32)
    }

    /// Replaces the name. Setting the name it already has records nothing.
    pub fn set(&mut self, name: &[u8]) {
        if !self.attrs.is_empty() && self.get() != name {
            self.attrs.set_always(0, ValueRef::Str(name));
        }
    }
}

/// `a == b` for slices of the same length, without a call to memcmp for
/// the short ones attribute keys are: two overlapping word compares.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    match a.len() {
        8..=16 => {
            a.first_chunk::<8>() == b.first_chunk::<8>()
                && a.last_chunk::<8>() == b.last_chunk::<8>()
        }
        4..=7 => {
            a.first_chunk::<4>() == b.first_chunk::<4>()
                && a.last_chunk::<4>() == b.last_chunk::<4>()
        }
        _ => a == b,
    }
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

/// The length of what `put_value` writes for `v`.
fn put_value_len(v: ValueRef<'_>) -> usize {
    match v {
        ValueRef::Empty => 1,
        ValueRef::Bool(_) => 2,
        ValueRef::Int(_) | ValueRef::Double(_) => 9,
        ValueRef::Str(b) | ValueRef::Bytes(b) => 5 + b.len(),
        ValueRef::Array(raw) | ValueRef::Map(raw) => 5 + raw.encoded().len(),
    }
}

/// `put_value` into `out`, which is exactly `put_value_len(v)` long: a
/// value written over an earlier one in place.
fn write_value(out: &mut [u8], v: ValueRef<'_>) {
    let (tag, payload) = out.split_first_mut().expect("a value is at least its tag");
    let bytes = match v {
        ValueRef::Empty => {
            *tag = format::VALUE_EMPTY;
            return;
        }
        ValueRef::Bool(b) => {
            (*tag, payload[0]) = (format::VALUE_BOOL, u8::from(b));
            return;
        }
        ValueRef::Int(i) => {
            *tag = format::VALUE_INT;
            payload.copy_from_slice(&i.to_le_bytes());
            return;
        }
        ValueRef::Double(d) => {
            *tag = format::VALUE_DOUBLE;
            payload.copy_from_slice(&d.to_bits().to_le_bytes());
            return;
        }
        ValueRef::Str(b) => {
            *tag = format::VALUE_STR;
            b
        }
        ValueRef::Bytes(b) => {
            *tag = format::VALUE_BYTES;
            b
        }
        ValueRef::Array(raw) | ValueRef::Map(raw) => {
            *tag = format::VALUE_RAW;
            raw.encoded()
        }
    };
    let (len, rest) = payload.split_at_mut(4);
    len.copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    rest.copy_from_slice(bytes);
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
    use super::super::edits::TargetKind;
    use super::*;

    #[test]
    fn a_value_written_in_place_is_what_put_value_writes() {
        let map = parse_any_value(&[0x32, 0x00]).expect("an empty kvlist");
        assert!(matches!(map, ValueRef::Map(_)));
        for v in [
            ValueRef::Empty,
            ValueRef::Bool(true),
            ValueRef::Int(-7),
            ValueRef::Double(1.5),
            ValueRef::Str(b"0123456789abcdef"),
            ValueRef::Bytes(&[0, 1, 2]),
            map,
        ] {
            let mut want = Vec::new();
            put_value(&mut want, v);
            assert_eq!(put_value_len(v), want.len(), "{v:?}");
            let mut got = vec![0xAA; want.len()];
            write_value(&mut got, v);
            assert_eq!(got, want, "{v:?}");
        }
    }

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
                key: Span::at(ks, ks + 1),
                value: Span::at(vs, vs + 2),
            });
        }
        (b, raw)
    }

    const TARGET: Target = Target {
        kind: TargetKind::Span,
        resource: 0,
        scope: 0,
        item: 0,
        sub: 0,
    };

    fn keys(a: &Attributes<'_>) -> Vec<String> {
        a.iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn pcommon_semantics() {
        let (b, raw) = batch();
        let mut arena = EditArena::default();
        let mut a = Attributes::load(&b, &raw, &mut arena, TARGET, MapState::default());
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
        a.put(b"c", ValueRef::Int(30));
        a.put(b"e", ValueRef::Str(b"x"));
        assert!(!a.insert(b"e", ValueRef::Empty));
        assert_eq!(keys(&a), ["d", "c", "e"]);
        assert_eq!(a.get(b"c"), Some(ValueRef::Int(30)));
        assert_eq!(a.get(b"e"), Some(ValueRef::Str(b"x")));
        assert!(a.is_changed());
        let (state, recorded) = a.finish();
        assert!(recorded.is_some() && state.changed);
        assert_eq!(state.len, 3);
    }

    #[test]
    fn written_values_read_back() {
        let (b, raw) = batch();
        let mut arena = EditArena::default();
        let mut a = Attributes::load(&b, &raw, &mut arena, TARGET, MapState::default());
        let values = [
            ValueRef::Empty,
            ValueRef::Str(b"s"),
            ValueRef::Bool(true),
            ValueRef::Int(-5),
            ValueRef::Double(2.5),
            ValueRef::Bytes(&[0, 1]),
        ];
        for (i, v) in values.iter().enumerate() {
            a.put(format!("k{i}").as_bytes(), *v);
        }
        for (i, v) in values.iter().enumerate() {
            assert_eq!(a.get(format!("k{i}").as_bytes()), Some(*v));
        }
    }

    #[test]
    fn state_carries_over_to_the_next_pass_without_copies() {
        let (b, raw) = batch();
        let mut arena = EditArena::default();
        let mut a = Attributes::load(&b, &raw, &mut arena, TARGET, MapState::default());
        a.set(1, ValueRef::Int(10));
        let (state, recorded) = a.finish();
        assert!(recorded.is_some());
        let list_len = arena.list.len();
        let next = Attributes::load(&b, &raw, &mut arena, TARGET, state);
        assert!(!next.is_changed());
        assert_eq!(next.get(b"b"), Some(ValueRef::Int(10)));
        let (again, recorded) = next.finish();
        assert!(
            recorded.is_none(),
            "reading in a later pass records nothing"
        );
        assert_eq!(arena.list.len(), list_len);
        let mut third = Attributes::load(&b, &raw, &mut arena, TARGET, again);
        third.remove(b"a");
        assert_eq!(keys(&third), ["d", "b", "c"]);
        assert_eq!(third.get(b"b"), Some(ValueRef::Int(10)));
        let (last, recorded) = third.finish();
        assert!(recorded.is_some());
        assert_eq!(last.len, 3);
    }

    #[test]
    fn a_later_set_of_the_same_length_overwrites_the_earlier_one() {
        let (b, raw) = batch();
        let mut arena = EditArena::default();
        let mut a = Attributes::load(&b, &raw, &mut arena, TARGET, MapState::default());
        a.set(1, ValueRef::Str(b"first"));
        a.remove(b"a");
        let (state, _) = a.finish();
        let list = arena.list.clone();

        // Same length: the first set now carries the value, nothing is
        // recorded, yet the pass did change the map.
        let mut next = Attributes::load(&b, &raw, &mut arena, TARGET, state);
        next.set(1, ValueRef::Str(b"again"));
        assert!(next.is_changed());
        assert_eq!(next.get(b"b"), Some(ValueRef::Str(b"again")));
        let (state, recorded) = next.finish();
        assert!(recorded.is_none(), "no operation recorded");
        assert_eq!(arena.list.len(), list.len());
        assert!(!arena.list.windows(5).any(|w| w == b"first"));
        assert!(arena.list.windows(5).any(|w| w == b"again"));

        // Another length: the first set is voided, a new one recorded.
        let mut third = Attributes::load(&b, &raw, &mut arena, TARGET, state);
        third.set(1, ValueRef::Str(b"longer"));
        let (state, recorded) = third.finish();
        assert!(recorded.is_some());
        assert!(arena.list.contains(&format::OP_SKIP));
        let last = Attributes::load(&b, &raw, &mut arena, TARGET, state);
        assert_eq!(last.get(b"b"), Some(ValueRef::Str(b"longer")));
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        let a: Vec<u8> = (0..40u8).collect();
        for n in 0..a.len() {
            for i in 0..n {
                let mut b = a[..n].to_vec();
                assert!(same_bytes(&a[..n], &b));
                b[i] ^= 1;
                assert!(!same_bytes(&a[..n], &b), "length {n}, byte {i}");
            }
        }
    }

    #[test]
    fn large_maps_retain_past_the_inline_mask() {
        let mut b = Vec::new();
        let mut raw = Vec::new();
        for i in 0..300u32 {
            let ks = b.len();
            b.extend_from_slice(format!("k{i:03}").as_bytes());
            let vs = b.len();
            b.extend_from_slice(&[0x18, (i % 100) as u8]);
            raw.push(RawEntry {
                key: Span::at(ks, vs),
                value: Span::at(vs, vs + 2),
            });
        }
        let mut arena = EditArena::default();
        let mut a = Attributes::load(&b, &raw, &mut arena, TARGET, MapState::default());
        assert_eq!(a.retain(|k, _| k.ends_with(b"7")), 270);
        assert_eq!(a.len(), 30);
        assert_eq!(a.key(29), b"k297");
    }
}
