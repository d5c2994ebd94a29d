//! The attribute index of an encoded batch: where each attribute map and
//! each entry is, and where the maps processors changed are now.
//!
//! The batch is walked once, the first time a processor reads or edits
//! attributes; every later pass (the next processors of a fused chain)
//! iterates the index instead of parsing the batch again, and continues
//! from the changed maps' entries instead of replaying their edits.
//!
//! Each pass that changes something adds one layer to the edit list: the
//! maps it changed, in batch order, with their operations. A map two
//! processors changed appears in both layers. A list of one layer crosses
//! as it is; layers of several passes are merged at the crossing into
//! one, each changed map with the first processor's operations before
//! the second's, so that Go locates each map once. If the batch must
//! leave as a whole, the changed maps' final entries are spliced into the
//! encoding.
//!
//! Indexes are pooled: a request's index is a few hundred kilobytes for a
//! large batch, which would otherwise be allocated and returned to the
//! system for every request.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;

use super::attributes::{put_u32, Attributes, EditArena, MapState, RawEntry, Recorded};
use super::edits::{Select, Target, TargetKind};
use super::value::{put_key_value, ValueRef};
use super::wire::{self, WireError};
use super::{walk, Signal};

#[derive(Debug, Clone)]
struct IndexedMap {
    target: Target,
    attrs_field: u32,
    raw: Range<u32>,
}

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttrIndex {
    maps: Vec<IndexedMap>,
    raw: Vec<RawEntry>,
    /// One per map (parallel to `maps`).
    states: Vec<MapState>,
    arena: EditArena,
    /// The operations each pass recorded, one per changed map, in layer
    /// then target order: what `edit_list` merges into one layer.
    recorded: Vec<RecordedMap>,
    /// How many layers the edit list has.
    layers: u32,
}

/// The operations one pass recorded for the map `map` (an index of
/// `maps`).
#[derive(Debug, Clone)]
struct RecordedMap {
    map: u32,
    ops: Recorded,
}

/// No further entry in a linked list of `edit_list`.
const END: u32 = u32::MAX;

/// A map being indexed.
pub(crate) struct OpenMap(usize);

impl AttrIndex {
    fn clear(&mut self) {
        self.maps.clear();
        self.raw.clear();
        self.states.clear();
        self.arena.clear();
        self.recorded.clear();
        self.layers = 0;
    }

    fn capacity_bytes(&self) -> usize {
        self.maps.capacity() * std::mem::size_of::<IndexedMap>()
            + self.raw.capacity() * std::mem::size_of::<RawEntry>()
            + self.states.capacity() * std::mem::size_of::<MapState>()
            + self.arena.capacity_bytes()
            + self.recorded.capacity() * std::mem::size_of::<RecordedMap>()
    }

    /// Indexes `batch`, with its record fields (log bodies, span names)
    /// when `fields` (the batch holds them).
    pub(crate) fn build(
        batch: &[u8],
        signal: Signal,
        fields: bool,
    ) -> Result<PooledIndex, WireError> {
        let mut index = PooledIndex::take();
        walk::build_index(batch, signal, fields, index.get_mut())?;
        Ok(index)
    }

    pub(crate) fn open_map(&mut self, target: Target, attrs_field: u32) -> OpenMap {
        let start = self.raw.len() as u32;
        self.maps.push(IndexedMap {
            target,
            attrs_field,
            raw: start..start,
        });
        self.states.push(MapState::default());
        OpenMap(self.maps.len() - 1)
    }

    #[inline]
    pub(crate) fn push_entry(&mut self, entry: RawEntry) {
        self.raw.push(entry);
    }

    pub(crate) fn close_map(&mut self, map: OpenMap) {
        self.maps[map.0].raw.end = self.raw.len() as u32;
    }

    /// True when a pass changed some map.
    pub(crate) fn has_edits(&self) -> bool {
        !self.arena.list.is_empty()
    }

    /// Runs `f` on each selected map, in target order; the maps it changes
    /// make one layer of the edit list.
    pub(crate) fn edit<F>(&mut self, batch: &[u8], select: Select, mut f: F)
    where
        F: FnMut(Target, &mut Attributes<'_>),
    {
        let AttrIndex {
            maps,
            raw,
            states,
            arena,
            recorded,
            layers,
        } = self;
        let layer = arena.list.len();
        put_u32(&mut arena.list, 0);
        let mut changed = 0u32;
        for (i, (map, state)) in maps.iter().zip(states.iter_mut()).enumerate() {
            if !select.includes(map.target.kind) {
                continue;
            }
            let entries = &raw[map.raw.start as usize..map.raw.end as usize];
            let mut attrs = Attributes::load(batch, entries, arena, map.target, *state);
            f(map.target, &mut attrs);
            let (next, ops) = attrs.finish();
            *state = next;
            if let Some(ops) = ops {
                recorded.push(RecordedMap { map: i as u32, ops });
                changed += 1;
            }
        }
        if changed == 0 {
            arena.list.truncate(layer);
        } else {
            arena.list[layer..layer + 4].copy_from_slice(&changed.to_le_bytes());
            *layers += 1;
        }
    }

    /// Runs `f` on each selected map for reading.
    pub(crate) fn visit<F>(&mut self, batch: &[u8], select: Select, mut f: F)
    where
        F: FnMut(Target, &Attributes<'_>),
    {
        let AttrIndex {
            maps,
            raw,
            states,
            arena,
            ..
        } = self;
        for (map, state) in maps.iter().zip(states.iter()) {
            if !select.includes(map.target.kind) {
                continue;
            }
            let entries = &raw[map.raw.start as usize..map.raw.end as usize];
            let attrs = Attributes::load(batch, entries, arena, map.target, *state);
            f(map.target, &attrs);
        }
    }

    /// The edit list Go replays (the format of `edits.rs`), in one layer.
    ///
    /// Each pass that changed something recorded a layer; Go replaying
    /// them in order would locate a map once per layer that changed it
    /// (three passes of a chain changing every record: three walks of the
    /// batch). Merged, each changed map is located once, with the
    /// operations of every pass in pass order; operations of different
    /// maps never interact, so the result is the same.
    pub(crate) fn edit_list(&self) -> Cow<'_, [u8]> {
        if self.layers <= 1 {
            return Cow::Borrowed(&self.arena.list);
        }
        Cow::Owned(self.merged_layers())
    }

    fn merged_layers(&self) -> Vec<u8> {
        // Each map's recorded operations in pass order: a linked list
        // through `next`, built from the last pass back.
        let mut first = vec![END; self.maps.len()];
        let mut next = vec![END; self.recorded.len()];
        for (i, r) in self.recorded.iter().enumerate().rev() {
            next[i] = first[r.map as usize];
            first[r.map as usize] = i as u32;
        }
        let list = &self.arena.list;
        let mut out = Vec::with_capacity(list.len());
        put_u32(&mut out, 0);
        let mut n_maps = 0u32;
        for (map, &head) in self.maps.iter().zip(&first) {
            if head == END {
                continue;
            }
            map.target.write(&mut out);
            let count_at = out.len();
            put_u32(&mut out, 0);
            let mut n_ops = 0u32;
            let mut at = head;
            while at != END {
                let ops = &self.recorded[at as usize].ops;
                out.extend_from_slice(&list[ops.ops.start as usize..ops.ops.end as usize]);
                n_ops += ops.n_ops;
                at = next[at as usize];
            }
            out[count_at..count_at + 4].copy_from_slice(&n_ops.to_le_bytes());
            n_maps += 1;
        }
        out[..4].copy_from_slice(&n_maps.to_le_bytes());
        out
    }

    /// The final attribute fields (encoded `KeyValue`s) of every changed
    /// map, by target sort key, for splicing.
    pub(crate) fn finals(&self, batch: &[u8]) -> BTreeMap<[u32; 5], Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut scratch = Vec::new();
        for (map, state) in self.maps.iter().zip(&self.states) {
            if !state.changed {
                continue;
            }
            let mut fields = Vec::new();
            match map.target.kind {
                TargetKind::LogBody => {
                    // A body is one `AnyValue`, not a list of `KeyValue`s.
                    if let Some((_, v)) = self.arena.entries(batch, *state).next() {
                        scratch.clear();
                        v.encode(&mut scratch);
                        wire::put_len_field(&mut fields, map.attrs_field, &scratch);
                    }
                    out.insert(map.target.sort_key(), fields);
                    continue;
                }
                TargetKind::SpanName => {
                    // A name is a string field; one that is not a string
                    // (a processor's mistake) is written as absent.
                    if let Some((_, ValueRef::Str(name))) = self.arena.entries(batch, *state).next()
                    {
                        if !name.is_empty() {
                            wire::put_len_field(&mut fields, map.attrs_field, name);
                        }
                    }
                    out.insert(map.target.sort_key(), fields);
                    continue;
                }
                _ => {}
            }
            for (k, v) in self.arena.entries(batch, *state) {
                put_key_value(&mut fields, map.attrs_field, k, v, &mut scratch);
            }
            out.insert(map.target.sort_key(), fields);
        }
        out
    }
}

/// Idle indexes, shared by every thread: a request may end on another
/// thread than the one it started on, and a shared pool bounds what the
/// process keeps however many threads call in. Boxed, as a batch holds
/// them (see `PooledIndex`).
#[allow(clippy::vec_box)]
static POOL: Mutex<Vec<Box<AttrIndex>>> = Mutex::new(Vec::new());

/// How many idle indexes the process keeps.
const POOL_SIZE: usize = 8;
/// An idle index keeps its buffers only up to this size.
const POOL_MAX_BYTES: usize = 16 << 20;

/// An index that goes back to the pool when dropped. Boxed: it moves
/// between the pool and a batch as a pointer, and a batch (which moves
/// through every processor) stays small.
#[derive(Debug)]
pub(crate) struct PooledIndex(Option<Box<AttrIndex>>);

#[allow(clippy::vec_box)]
fn pool() -> std::sync::MutexGuard<'static, Vec<Box<AttrIndex>>> {
    // The pool holds only cleared indexes: a panic while it was locked
    // leaves nothing half-done in it.
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PooledIndex {
    fn take() -> Self {
        let index = pool().pop().unwrap_or_default();
        PooledIndex(Some(index))
    }

    pub(crate) fn get(&self) -> &AttrIndex {
        self.0.as_deref().expect("present until dropped")
    }

    pub(crate) fn get_mut(&mut self) -> &mut AttrIndex {
        self.0.as_deref_mut().expect("present until dropped")
    }
}

impl Clone for PooledIndex {
    fn clone(&self) -> Self {
        PooledIndex(self.0.clone())
    }
}

impl Drop for PooledIndex {
    fn drop(&mut self) {
        let Some(mut index) = self.0.take() else {
            return;
        };
        if index.capacity_bytes() > POOL_MAX_BYTES {
            return;
        }
        index.clear();
        let mut pool = pool();
        if pool.len() < POOL_SIZE {
            pool.push(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_bounded_and_hands_back_cleared_indexes() {
        let held: Vec<PooledIndex> = (0..POOL_SIZE + 4)
            .map(|_| {
                let mut i = PooledIndex::take();
                i.get_mut().push_entry(RawEntry::default());
                i
            })
            .collect();
        drop(held);
        assert!(pool().len() <= POOL_SIZE);
        let again = PooledIndex::take();
        assert!(again.get().raw.is_empty(), "cleared before it went back");
    }
}
