//! The lowercase hex SHA-256 the `hash` action writes, made for one short
//! value at a time.
//!
//! The action hashes one value per record, most of them short (an email,
//! an ID, the 64-digit hash of a processor before it in a chain), so the
//! fixed costs of a digest weigh as much as its rounds. Two of them go
//! here:
//!
//! - `Sha256::digest` streams: it buffers the message, compresses each
//!   full block as it comes and the padding block in a second call. A
//!   message that pads into at most two blocks (up to 119 bytes) is
//!   padded on the stack instead and compressed in one call of the same
//!   block function (`sha2::compress256`, SHA-NI where the CPU has it).
//!   Longer messages take the streaming path.
//! - The hex is written sixteen digits per store with SSE2 on x86-64
//!   (nibble arithmetic in vector registers), elsewhere eight digits per
//!   store from a table of each byte's two digits; never a table lookup
//!   per digit as the `hex` crate does.
//!
//! Together they take more than a third off hashing a 64-byte value
//! (`cargo test --release -p otelcol-rust-processors chain_timing --
//! --ignored --nocapture`, configuration `hash-only`). The tests compare
//! both against `sha2` and `hex` for every length around the block
//! boundaries and every byte value, and the two hex writers against each
//! other.
//!
//! What is left is the block function itself: about 40 ns a block, the
//! latency of SHA-NI's dependent rounds. Hashing a batch's values
//! together, so that the CPU overlaps their rounds, was measured and
//! dropped: the extra pass over the records it needs (collect the values,
//! then write the digests) cost more than the overlap saved (a chain of
//! three hashing stages went from 575 to 659 ns a span).

use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const INITIAL_STATE: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The longest message whose padding (a 0x80 byte and the 8-byte bit
/// length) still fits in two blocks.
const TWO_BLOCKS: usize = 2 * 64 - 1 - 8;

/// Writes the lowercase hex SHA-256 of `message` into `out`.
pub(crate) fn sha256_hex(message: &[u8], out: &mut [u8; 64]) {
    hex_lower(&sha256(message), out);
}

/// The digest as its eight big-endian words: the hex is written from the
/// words, as the block function leaves them, without a round trip through
/// memory as bytes.
fn sha256(message: &[u8]) -> [u32; 8] {
    if message.len() > TWO_BLOCKS {
        let digest = Sha256::digest(message);
        return std::array::from_fn(|i| {
            u32::from_be_bytes([
                digest[4 * i],
                digest[4 * i + 1],
                digest[4 * i + 2],
                digest[4 * i + 3],
            ])
        });
    }
    let mut blocks = [GenericArray::<u8, U64>::default(); 2];
    let (first, second) = message.split_at(message.len().min(64));
    blocks[0][..first.len()].copy_from_slice(first);
    blocks[1][..second.len()].copy_from_slice(second);
    let end = message.len();
    blocks[end / 64][end % 64] = 0x80;
    let used = if end + 1 + 8 <= 64 { 1 } else { 2 };
    let bits = (message.len() as u64) * 8;
    blocks[used - 1][56..].copy_from_slice(&bits.to_be_bytes());
    let mut state = INITIAL_STATE;
    sha2::compress256(&mut state, &blocks[..used]);
    state
}

/// Sixty-four digits from the eight words, sixteen per store: on x86-64
/// with SSE2 (every x86-64 CPU has it), else from a table of digit pairs.
fn hex_lower(words: &[u32; 8], out: &mut [u8; 64]) {
    // SAFETY: the function needs SSE2, which every x86-64 target has (it
    // is in the baseline; the cfg checks the compiler enabled it).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    unsafe {
        hex_lower_sse2(words, out)
    };
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    hex_lower_table(words, out);
}

/// Each byte's two digits, as the hex reads them.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
static DIGIT_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 15]];
        byte += 1;
    }
    pairs
};

/// Eight hex digits per step, one big-endian word: its four bytes' digit
/// pairs from a table, stored together (about three times faster than
/// the `hex` crate's digit-by-digit lookups, and than nibble arithmetic
/// the compiler vectorizes on its own into long SSE2 shuffles).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn hex_lower_table(words: &[u32; 8], out: &mut [u8; 64]) {
    for (&word, eight) in words.iter().zip(out.chunks_exact_mut(8)) {
        let [a, b, c, d] = word
            .to_be_bytes()
            .map(|byte| DIGIT_PAIRS[usize::from(byte)]);
        eight.copy_from_slice(&[a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1]]);
    }
}

/// The same digits with SSE2, sixteen bytes of the digest at a time:
/// split each byte into its two nibbles, interleave them in reading
/// order, and turn nibble `n` into `'0' + n`, plus `'a' - '0' - 10` where
/// `n > 9`. It replaced the table on x86-64, which spends a load per byte
/// and a store per word: `chain_timing`'s `all` went from 287 to 273 ns a
/// span for one stage and from 628 to 580 for a chain of three.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
fn hex_lower_sse2(words: &[u32; 8], out: &mut [u8; 64]) {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_and_si128, _mm_cmpgt_epi8, _mm_set1_epi8, _mm_set_epi32,
        _mm_srli_epi16, _mm_storeu_si128, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };
    let low_nibble = _mm_set1_epi8(0x0f);
    let nine = _mm_set1_epi8(9);
    let zero = _mm_set1_epi8(b'0' as i8);
    let past_nine = _mm_set1_epi8((b'a' - b'0' - 10) as i8);
    let ascii = |nibbles: __m128i| {
        let letters = _mm_and_si128(_mm_cmpgt_epi8(nibbles, nine), past_nine);
        _mm_add_epi8(_mm_add_epi8(nibbles, zero), letters)
    };
    let (digest, digits) = (words.chunks_exact(4), out.chunks_exact_mut(32));
    for (four, thirty_two) in digest.zip(digits) {
        // Lane i holds word i byte-swapped, so memory order is the
        // digest's byte order (each word big-endian).
        let bytes = _mm_set_epi32(
            four[3].swap_bytes() as i32,
            four[2].swap_bytes() as i32,
            four[1].swap_bytes() as i32,
            four[0].swap_bytes() as i32,
        );
        let high = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibble);
        let low = _mm_and_si128(bytes, low_nibble);
        let (first, second) = thirty_two.split_at_mut(16);
        // SAFETY: each destination is a 16-byte slice of `out` (the
        // chunks of 32 split in two halves) and `_mm_storeu_si128`
        // writes 16 bytes with no alignment requirement.
        unsafe {
            _mm_storeu_si128(
                first.as_mut_ptr().cast(),
                ascii(_mm_unpacklo_epi8(high, low)),
            );
            _mm_storeu_si128(
                second.as_mut_ptr().cast(),
                ascii(_mm_unpackhi_epi8(high, low)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(message: &[u8]) -> String {
        hex::encode(Sha256::digest(message))
    }

    fn actual(message: &[u8]) -> String {
        let mut out = [0u8; 64];
        sha256_hex(message, &mut out);
        String::from_utf8(out.to_vec()).expect("hex is ASCII")
    }

    #[test]
    fn matches_sha2_at_every_length_around_the_block_boundaries() {
        for len in 0..=300usize {
            let message: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            assert_eq!(actual(&message), expected(&message), "length {len}");
        }
    }

    #[test]
    fn matches_sha2_for_a_hash_of_a_hash() {
        let once = actual(b"user@example.com");
        assert_eq!(once, expected(b"user@example.com"));
        assert_eq!(actual(once.as_bytes()), expected(once.as_bytes()));
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn sse2_digits_are_the_tables() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            let words: [u32; 8] = std::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u32
            });
            // On the heap, with nothing after it: a store past its end is
            // an error under valgrind (`make memcheck`).
            let mut sse2 = Box::new([0u8; 64]);
            let mut table = [0u8; 64];
            // SAFETY: the test is built only where SSE2 is enabled.
            unsafe { hex_lower_sse2(&words, &mut sse2) };
            hex_lower_table(&words, &mut table);
            assert_eq!(*sse2, table, "{words:08x?}");
        }
    }

    #[test]
    fn hex_of_every_byte_value() {
        for first in (0..=255u8).step_by(32) {
            let digest: [u8; 32] = std::array::from_fn(|i| first.wrapping_add(i as u8));
            let words = std::array::from_fn(|i| {
                u32::from_be_bytes(digest[4 * i..4 * i + 4].try_into().unwrap())
            });
            let mut out = [0u8; 64];
            hex_lower(&words, &mut out);
            assert_eq!(out.as_slice(), hex::encode(digest).as_bytes());
        }
    }
}
