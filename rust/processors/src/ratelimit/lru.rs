//! A small least-recently-used map with a fixed capacity.
//!
//! Entries live in a slab (`Vec`) and are chained, most recent first, by
//! slab index; a `HashMap` finds an entry's slot by key. Every operation is
//! O(1). When the map is full, inserting reuses the slot of the least
//! recently used entry and hands that entry back to the caller.

use std::collections::HashMap;

const NIL: usize = usize::MAX;

struct Node<V> {
    key: String,
    value: V,
    prev: usize,
    next: usize,
}

/// A map of at most `capacity` entries that evicts the least recently used.
pub(crate) struct Lru<V> {
    slots: HashMap<String, usize>,
    nodes: Vec<Node<V>>,
    /// Most recently used.
    head: usize,
    /// Least recently used.
    tail: usize,
    capacity: usize,
}

impl<V> Lru<V> {
    /// An empty map holding at most `capacity` (at least 1) entries.
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Lru {
            // Grows as entries arrive: a large bound costs nothing up front.
            slots: HashMap::new(),
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity,
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The entry for `key`, marked most recently used.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let slot = *self.slots.get(key)?;
        self.unlink(slot);
        self.push_front(slot);
        Some(&mut self.nodes[slot].value)
    }

    /// The entry for `key`, leaving the recency order alone.
    pub(crate) fn peek_mut(&mut self, key: &str) -> Option<&mut V> {
        let slot = *self.slots.get(key)?;
        Some(&mut self.nodes[slot].value)
    }

    /// Inserts an entry for a key that is not in the map, as the most
    /// recently used. When the map was full, the least recently used entry
    /// is removed and returned.
    pub(crate) fn insert(&mut self, key: String, value: V) -> (&mut V, Option<(String, V)>) {
        debug_assert!(!self.slots.contains_key(&key), "insert of a present key");
        let (slot, evicted) = if self.nodes.len() < self.capacity {
            self.nodes.push(Node {
                key: key.clone(),
                value,
                prev: NIL,
                next: NIL,
            });
            (self.nodes.len() - 1, None)
        } else {
            let slot = self.tail;
            self.unlink(slot);
            let node = &mut self.nodes[slot];
            let old_key = std::mem::replace(&mut node.key, key.clone());
            let old_value = std::mem::replace(&mut node.value, value);
            self.slots.remove(&old_key);
            (slot, Some((old_key, old_value)))
        };
        self.slots.insert(key, slot);
        self.push_front(slot);
        (&mut self.nodes[slot].value, evicted)
    }

    /// Keys from most to least recently used (tests and debugging).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<&str> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut slot = self.head;
        while slot != NIL {
            out.push(self.nodes[slot].key.as_str());
            slot = self.nodes[slot].next;
        }
        out
    }

    fn unlink(&mut self, slot: usize) {
        let (prev, next) = (self.nodes[slot].prev, self.nodes[slot].next);
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
        self.nodes[slot].prev = NIL;
        self.nodes[slot].next = NIL;
    }

    fn push_front(&mut self, slot: usize) {
        self.nodes[slot].prev = NIL;
        self.nodes[slot].next = self.head;
        match self.head {
            NIL => self.tail = slot,
            h => self.nodes[h].prev = slot,
        }
        self.head = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut lru = Lru::new(3);
        for (i, k) in ["a", "b", "c"].into_iter().enumerate() {
            assert!(lru.insert(k.to_string(), i).1.is_none());
        }
        assert_eq!(lru.keys(), ["c", "b", "a"]);
        // Touching "a" makes "b" the oldest.
        assert_eq!(lru.get_mut("a"), Some(&mut 0));
        assert_eq!(lru.keys(), ["a", "c", "b"]);
        // Peeking does not reorder.
        assert_eq!(lru.peek_mut("b"), Some(&mut 1));
        assert_eq!(lru.keys(), ["a", "c", "b"]);
        let (value, evicted) = lru.insert("d".to_string(), 3);
        assert_eq!(*value, 3);
        assert_eq!(evicted, Some(("b".to_string(), 1)));
        assert_eq!(lru.keys(), ["d", "a", "c"]);
        assert_eq!(lru.len(), 3);
        assert!(lru.get_mut("b").is_none());
        assert_eq!(lru.get_mut("c"), Some(&mut 2));
        assert_eq!(lru.keys(), ["c", "d", "a"]);
    }

    #[test]
    fn capacity_one() {
        let mut lru = Lru::new(0);
        assert!(lru.insert("a".into(), 1).1.is_none());
        assert_eq!(lru.insert("b".into(), 2).1, Some(("a".into(), 1)));
        assert_eq!(lru.keys(), ["b"]);
        assert_eq!(lru.get_mut("b"), Some(&mut 2));
        assert_eq!(lru.insert("c".into(), 3).1, Some(("b".into(), 2)));
        assert_eq!(lru.len(), 1);
    }

    #[test]
    fn many_operations_keep_the_bound_and_the_order() {
        let mut lru = Lru::new(8);
        let mut model: Vec<String> = Vec::new(); // most recent first
        for i in 0u64..2000 {
            let key = format!("k{}", (i * 7919) % 23);
            if lru.get_mut(&key).is_some() {
                let at = model.iter().position(|k| *k == key).unwrap();
                let k = model.remove(at);
                model.insert(0, k);
            } else {
                let evicted = lru.insert(key.clone(), i).1;
                if model.len() == 8 {
                    assert_eq!(evicted.map(|(k, _)| k), model.pop());
                } else {
                    assert!(evicted.is_none());
                }
                model.insert(0, key);
            }
            assert_eq!(lru.keys(), model);
        }
    }
}
