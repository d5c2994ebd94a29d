//! The attribute index of an encoded batch: where each attribute map and
//! each entry is, and the state of the maps processors changed.
//!
//! The batch is walked once, the first time a processor reads or edits
//! attributes; every later pass (the next processors of a fused chain)
//! iterates the index instead of parsing the batch again, and continues
//! from the changed maps' state instead of replaying their edits. At the
//! crossing back into Go the changed maps' operations become the edit list
//! Go replays; if the batch must leave as a whole, their final entries are
//! spliced into the encoding.
//!
//! Indexes are pooled per thread: a request's index is a few hundred
//! kilobytes for a large batch, which would otherwise be allocated and
//! returned to the system for every request.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;

use super::attributes::{entries, put_u32, Attributes, MapState, RawEntry};
use super::edits::{Select, Target};
use super::value::put_key_value;
use super::wire::WireError;
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
    /// One state per map (parallel to `maps`); its buffers are kept, empty,
    /// across the requests a pooled index serves.
    states: Vec<MapState>,
    changed_maps: usize,
}

/// A map being indexed.
pub(crate) struct OpenMap(usize);

impl AttrIndex {
    fn clear(&mut self) {
        let n = self.maps.len().min(self.states.len());
        for state in &mut self.states[..n] {
            state.clear();
        }
        self.maps.clear();
        self.raw.clear();
        self.changed_maps = 0;
    }

    /// Indexes `batch`.
    pub(crate) fn build(batch: &[u8], signal: Signal) -> Result<PooledIndex, WireError> {
        let mut index = PooledIndex::take();
        walk::build_index(batch, signal, index.get_mut())?;
        Ok(index)
    }

    pub(crate) fn open_map(&mut self, target: Target, attrs_field: u32) -> OpenMap {
        let start = self.raw.len() as u32;
        self.maps.push(IndexedMap {
            target,
            attrs_field,
            raw: start..start,
        });
        if self.states.len() < self.maps.len() {
            self.states.push(MapState::default());
        }
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
        self.changed_maps > 0
    }

    /// Runs `f` on each selected map, in target order, keeping the state
    /// of the maps it changes.
    pub(crate) fn edit<F>(&mut self, batch: &[u8], select: Select, mut f: F)
    where
        F: FnMut(Target, &mut Attributes<'_>),
    {
        let AttrIndex {
            maps,
            raw,
            states,
            changed_maps,
        } = self;
        let mut attrs = Attributes::new(batch);
        for (map, state) in maps.iter().zip(states.iter_mut()) {
            if !select.includes(map.target.kind) {
                continue;
            }
            let was_edited = state.n_ops > 0;
            attrs.load(&raw[map.raw.start as usize..map.raw.end as usize], state);
            f(map.target, &mut attrs);
            attrs.unload(state);
            if !was_edited && state.n_ops > 0 {
                *changed_maps += 1;
            }
        }
    }

    /// Runs `f` on each selected map for reading.
    pub(crate) fn visit<F>(&mut self, batch: &[u8], select: Select, mut f: F)
    where
        F: FnMut(Target, &Attributes<'_>),
    {
        let AttrIndex {
            maps, raw, states, ..
        } = self;
        let mut attrs = Attributes::new(batch);
        for (map, state) in maps.iter().zip(states.iter_mut()) {
            if !select.includes(map.target.kind) {
                continue;
            }
            attrs.load(&raw[map.raw.start as usize..map.raw.end as usize], state);
            f(map.target, &attrs);
            attrs.unload(state);
        }
    }

    /// The edit list Go replays (the format of `edits.rs`): one layer, the
    /// changed maps in target order with their operations.
    pub(crate) fn edit_list(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.changed_maps * 64);
        put_u32(&mut out, self.changed_maps as u32);
        for (map, state) in self.maps.iter().zip(&self.states) {
            if state.n_ops == 0 {
                continue;
            }
            map.target.write(&mut out);
            put_u32(&mut out, state.n_ops);
            out.extend_from_slice(&state.ops);
        }
        out
    }

    /// The final attribute fields (encoded `KeyValue`s) of every changed
    /// map, by target sort key, for splicing.
    pub(crate) fn finals(&self, batch: &[u8]) -> BTreeMap<[u32; 5], Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut scratch = Vec::new();
        for (map, state) in self.maps.iter().zip(&self.states) {
            if state.n_ops == 0 {
                continue;
            }
            let mut fields = Vec::new();
            for (k, v) in entries(batch, &state.entries) {
                put_key_value(&mut fields, map.attrs_field, k, v, &mut scratch);
            }
            out.insert(map.target.sort_key(), fields);
        }
        out
    }
}

thread_local! {
    // Boxed: an index moves between the pool and a batch as a pointer, and
    // a batch (which moves through every processor) stays small.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<AttrIndex>>> = const { RefCell::new(Vec::new()) };
}

/// How many idle indexes a thread keeps.
const POOL_SIZE: usize = 4;
/// An idle index keeps its buffers only up to this many entries.
const POOL_MAX_ENTRIES: usize = 1 << 20;

/// An index that goes back to its thread's pool when dropped.
#[derive(Debug)]
pub(crate) struct PooledIndex(Option<Box<AttrIndex>>);

impl PooledIndex {
    fn take() -> Self {
        let index = POOL
            .try_with(|p| p.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_default();
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
        if index.raw.capacity() > POOL_MAX_ENTRIES || index.states.len() > POOL_MAX_ENTRIES {
            return;
        }
        index.clear();
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL_SIZE {
                p.push(index);
            }
        });
    }
}
