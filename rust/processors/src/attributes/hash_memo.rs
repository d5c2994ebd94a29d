//! The hashes of values seen recently, so that a value a batch repeats is
//! hashed once.
//!
//! The `hash` action is there to hide identifiers: e-mail addresses, user
//! and account IDs, client addresses. Such values repeat: every span of a
//! request carries its user, a batch holds a few users' requests, and a
//! chain of hashing processors sees the same repetition in the digests of
//! the stage before. The SHA-256 of a short value is about 40 ns a block,
//! one block for an e-mail and two for a 64-digit digest; finding the
//! value among the recent ones costs a few nanoseconds. On the load
//! benchmark's batches (97 distinct addresses in 1000 spans) the memo
//! answers nine lookups in ten.
//!
//! It is a small set-associative cache, one per thread: a thread runs one
//! batch at a time, so nothing is locked or shared, and its size is
//! bounded by the threads that hash, not by requests in flight (a request
//! waiting on its exporter holds no memo). Only values of up to 64 bytes
//! are kept; longer ones are hashed every time. The key is the value's
//! bytes, exactly as the digest reads them, so the answer is the digest's,
//! whatever processor or request asks.
//!
//! When values do not repeat, every lookup is a miss: the digest plus
//! the lookup and the copy into the memo, a few nanoseconds on top of
//! 40 to 80.

use std::cell::RefCell;

use super::sha256_hex::sha256_hex;

/// The longest value kept (a 64-digit digest of a stage before).
const LONGEST: usize = 64;

/// Sets of [`WAYS`] entries; a value's set is chosen by its bytes.
const SETS: usize = 256;

/// Entries per set: two values whose bytes pick the same set do not
/// evict each other.
const WAYS: usize = 2;

/// Lookups counted before the memo judges whether values repeat.
const WINDOW: u32 = 256;

/// Below this many hits in a window, values do not repeat enough to be
/// worth keeping: the next windows only look up.
const FEW_HITS: u32 = WINDOW / 8;

/// Windows that only look up after one with few hits; then one keeps
/// values again, to notice when repetition comes back.
const RESTING_WINDOWS: u8 = 7;

/// The recent values, their hashes and how they are found. A value is
/// found by its set's tags (a 64-bit hash of its bytes, never 0) and
/// confirmed by its length and bytes, kept zero-padded to [`LONGEST`]
/// (the length tells `a` from `a\0`, whatever the tags). The tags are
/// apart from the bytes, so a miss reads 4 KiB of tags, not the 64 KiB
/// of values.
struct Memo {
    tags: [[u64; WAYS]; SETS],
    /// The way of each set used last: the other one is evicted next.
    last: [u8; SETS],
    lens: [[u8; WAYS]; SETS],
    keys: [[[u8; LONGEST]; WAYS]; SETS],
    hexes: [[[u8; 64]; WAYS]; SETS],
    lookups: u32,
    hits: u32,
    /// Windows left that only look up.
    resting: u8,
}

impl Memo {
    fn new() -> Box<Memo> {
        Box::new(Memo {
            tags: [[0; WAYS]; SETS],
            last: [0; SETS],
            lens: [[0; WAYS]; SETS],
            keys: [[[0; LONGEST]; WAYS]; SETS],
            hexes: [[[0; 64]; WAYS]; SETS],
            lookups: 0,
            hits: 0,
            resting: 0,
        })
    }

    /// `message` is at most [`LONGEST`] bytes.
    fn sha256_hex(&mut self, message: &[u8], out: &mut [u8; 64]) {
        let mut key = [0u8; LONGEST];
        key[..message.len()].copy_from_slice(message);
        self.sha256_hex_tagged(message, key, tag_of(&key, message.len()), out);
    }

    /// The lookup, with the tag given: tests give two values one tag.
    fn sha256_hex_tagged(
        &mut self,
        message: &[u8],
        key: [u8; LONGEST],
        tag: u64,
        out: &mut [u8; 64],
    ) {
        let set = (tag >> (64 - SETS.trailing_zeros())) as usize;
        let len = message.len() as u8;
        let found = (0..WAYS).find(|&way| {
            self.tags[set][way] == tag && self.lens[set][way] == len && self.keys[set][way] == key
        });
        self.lookups += 1;
        if let Some(way) = found {
            self.hits += 1;
            self.last[set] = way as u8;
            *out = self.hexes[set][way];
        } else {
            sha256_hex(message, out);
            if self.resting == 0 {
                let way = usize::from(self.last[set] == 0);
                self.tags[set][way] = tag;
                self.lens[set][way] = len;
                self.keys[set][way] = key;
                self.hexes[set][way] = *out;
                self.last[set] = way as u8;
            }
        }
        if self.lookups == WINDOW {
            self.resting = if self.hits < FEW_HITS && self.resting == 0 {
                RESTING_WINDOWS
            } else {
                self.resting.saturating_sub(1)
            };
            self.lookups = 0;
            self.hits = 0;
        }
    }
}

/// The tag of a value (`key` is its bytes zero-padded, `len` its length):
/// folded 64x64-bit multiplies of its sixteen-byte pieces with per-piece
/// constants, independent of each other so the CPU overlaps them, and
/// then of their sum. All the bytes count: identifiers differ in a few
/// digits anywhere in the value. The top bits pick the set.
fn tag_of(key: &[u8; LONGEST], len: usize) -> u64 {
    const SEEDS: [u64; 9] = [
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
        0x4528_21e6_38d0_1377,
        0xbe54_66cf_34e9_0c6c,
        0xc0ac_29b7_c97c_50dd,
        0x3f84_d5b5_b547_0917,
        0x9216_d5d9_8979_fb1b,
    ];
    let fold = |a: u64, b: u64| {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let word = |i: usize| u64::from_le_bytes(key[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    let mut sum = len as u64;
    for piece in 0..len.div_ceil(16) {
        let (a, b) = (2 * piece, 2 * piece + 1);
        sum = sum.wrapping_add(fold(word(a) ^ SEEDS[a], word(b) ^ SEEDS[b]));
    }
    fold(sum ^ SEEDS[8], SEEDS[0]) | 1
}

thread_local! {
    /// Made on the first hash a thread computes.
    static MEMO: RefCell<Option<Box<Memo>>> = const { RefCell::new(None) };
}

/// Writes the lowercase hex SHA-256 of `message` into `out`, from this
/// thread's memo when the value was hashed recently.
pub(crate) fn sha256_hex_recent(message: &[u8], out: &mut [u8; 64]) {
    if message.len() > LONGEST {
        return sha256_hex(message, out);
    }
    MEMO.with(|memo| {
        memo.borrow_mut()
            .get_or_insert_with(Memo::new)
            .sha256_hex(message, out)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        sha256_hex(message, &mut out);
        out
    }

    fn recent(message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        sha256_hex_recent(message, &mut out);
        out
    }

    #[test]
    fn every_length_is_the_digest_first_and_again() {
        for len in 0..=LONGEST + 2 {
            let message: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            assert_eq!(recent(&message), expected(&message), "length {len}, first");
            assert_eq!(recent(&message), expected(&message), "length {len}, again");
        }
    }

    #[test]
    fn values_that_evict_each_other_stay_correct() {
        // Far more values than entries, visited three times in different
        // orders: hits, swaps within a set and evictions all happen, and
        // each answer must still be its value's digest.
        let values: Vec<Vec<u8>> = (0..4 * SETS * WAYS)
            .map(|i| format!("user{i}@example.com").into_bytes())
            .collect();
        for pass in 0..3 {
            for (i, value) in values.iter().enumerate() {
                let value = if pass == 1 {
                    &values[values.len() - 1 - i]
                } else {
                    value
                };
                assert_eq!(recent(value), expected(value), "pass {pass}, value {i}");
            }
        }
    }

    #[test]
    fn values_sharing_a_prefix_and_length_keep_their_own_digests() {
        // Same length, same set or not: only the bytes decide.
        let a = b"customer1@example.com";
        let b = b"customer2@example.com";
        for _ in 0..3 {
            assert_eq!(recent(a), expected(a));
            assert_eq!(recent(b), expected(b));
        }
        let mut memo = Memo::new();
        let mut out = [0u8; 64];
        memo.sha256_hex(a, &mut out);
        memo.sha256_hex(b, &mut out);
        assert_eq!(out, expected(b));
        memo.sha256_hex(a, &mut out);
        assert_eq!(out, expected(a));
    }

    #[test]
    fn a_value_and_the_same_value_with_trailing_zeros_differ() {
        // Their padded keys are the same bytes; given the same tag, only
        // the length parts them.
        let mut memo = Memo::new();
        let mut out = [0u8; 64];
        for _ in 0..2 {
            for message in [&b"a"[..], b"a\0", b"a\0\0"] {
                let mut key = [0u8; LONGEST];
                key[..message.len()].copy_from_slice(message);
                memo.sha256_hex_tagged(message, key, 0x77, &mut out);
                assert_eq!(out, expected(message), "{message:?}");
            }
        }
    }

    #[test]
    fn values_that_do_not_repeat_rest_the_memo_until_repetition_returns() {
        let mut memo = Memo::new();
        let mut out = [0u8; 64];
        let distinct: Vec<Vec<u8>> = (0..WINDOW)
            .map(|i| format!("session-{i}").into_bytes())
            .collect();
        for value in &distinct {
            memo.sha256_hex(value, &mut out);
            assert_eq!(out, expected(value));
        }
        assert_eq!(
            memo.resting, RESTING_WINDOWS,
            "a window of misses rests the memo"
        );
        // While it rests, a repeated value is not kept, yet answered right.
        let repeated = b"user7@example.com";
        for _ in 0..u32::from(RESTING_WINDOWS) * WINDOW {
            memo.sha256_hex(repeated, &mut out);
            assert_eq!(out, expected(repeated));
        }
        assert_eq!(memo.resting, 0);
        // The next window keeps it again, and it is found from then on.
        for _ in 0..WINDOW {
            memo.sha256_hex(repeated, &mut out);
            assert_eq!(out, expected(repeated));
        }
        assert_eq!(memo.resting, 0, "a window of hits keeps the memo working");
        memo.sha256_hex(repeated, &mut out);
        assert_eq!((memo.lookups, memo.hits), (1, 1));
    }

    #[test]
    fn the_identifiers_of_a_batch_spread_over_the_sets() {
        // 97 addresses differing in their digits, and their digests: no
        // set may be asked to hold more than its ways, or the memo would
        // miss on every pass over a batch.
        let emails: Vec<Vec<u8>> = (0..97)
            .map(|i| format!("user{i}@example.com").into_bytes())
            .collect();
        let digests: Vec<Vec<u8>> = emails.iter().map(|e| expected(e).to_vec()).collect();
        for values in [&emails, &digests] {
            let mut per_set = [0usize; SETS];
            for value in values.iter() {
                let mut key = [0u8; LONGEST];
                key[..value.len()].copy_from_slice(value);
                per_set[(tag_of(&key, value.len()) >> 56) as usize] += 1;
            }
            let crowded = per_set.iter().filter(|&&n| n > WAYS).count();
            assert!(crowded <= 4, "{crowded} sets hold more than {WAYS} values");
        }
    }
}
