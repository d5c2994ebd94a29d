//! What a match is replaced with: `****`, or the lowercase hex digest of
//! the match with the configured hash function, as contrib's `maskValue`.

use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use sha3::Sha3_256;

/// The fixed mask when no hash function is configured.
pub(crate) const MASK: &[u8] = b"****";

/// A configured `hash_function`, with its key for the HMAC ones.
#[derive(Clone)]
pub(crate) enum Hasher {
    /// `****` for every match.
    None,
    Md5,
    Sha1,
    /// FIPS-202 SHA3-256 (not Keccak), as Go's `sha3.New256`.
    Sha3,
    HmacSha256(Hmac<Sha256>),
    HmacSha512(Hmac<Sha512>),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.write_str(match self {
            Hasher::None => "None",
            Hasher::Md5 => "Md5",
            Hasher::Sha1 => "Sha1",
            Hasher::Sha3 => "Sha3",
            Hasher::HmacSha256(_) => "HmacSha256",
            Hasher::HmacSha512(_) => "HmacSha512",
        })
    }
}

impl Hasher {
    /// HMAC-SHA256 keyed with the key's bytes as they are.
    pub(crate) fn hmac_sha256(key: &[u8]) -> Self {
        Hasher::HmacSha256(Hmac::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    /// HMAC-SHA512 keyed with the key's bytes as they are.
    pub(crate) fn hmac_sha512(key: &[u8]) -> Self {
        Hasher::HmacSha512(Hmac::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    /// Appends what replaces `matched`.
    pub(crate) fn mask_into(&self, matched: &[u8], out: &mut Vec<u8>) {
        match self {
            Hasher::None => out.extend_from_slice(MASK),
            Hasher::Md5 => hex_into(&Md5::digest(matched), out),
            Hasher::Sha1 => hex_into(&Sha1::digest(matched), out),
            Hasher::Sha3 => hex_into(&Sha3_256::digest(matched), out),
            Hasher::HmacSha256(mac) => {
                let mut mac = mac.clone();
                mac.update(matched);
                hex_into(&mac.finalize().into_bytes(), out);
            }
            Hasher::HmacSha512(mac) => {
                let mut mac = mac.clone();
                mac.update(matched);
                hex_into(&mac.finalize().into_bytes(), out);
            }
        }
    }
}

fn hex_into(digest: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in digest {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(h: &Hasher, s: &str) -> String {
        let mut out = Vec::new();
        h.mask_into(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn digests_match_contrib() {
        let card = "4111111111111111";
        assert_eq!(masked(&Hasher::None, card), "****");
        assert_eq!(
            masked(&Hasher::Md5, card),
            "5910f4ea0062a0e29afd3dccc741e3ce"
        );
        assert_eq!(
            masked(&Hasher::Sha1, card),
            "68bfb396f35af3876fc509665b3dc23a0930aab1"
        );
        assert_eq!(
            masked(&Hasher::Sha3, card),
            "6099154214406cce6105a4688ab66533d3a55d1d7dd393cbccf22b487a22d922"
        );
        assert_eq!(
            masked(&Hasher::hmac_sha256(KEY.as_bytes()), card),
            "1b2abf2c57549abd52c326380e98d1484debd39b2a94e52219f4d79058b7e904"
        );
        assert_eq!(
            masked(&Hasher::hmac_sha512(KEY.as_bytes()), card),
            "c3e759dbe03dcb4b3c7388988749e92241d68f060aca6b4ee13f1df573ac0007863883398a177f243fbf4bc6da69bae896fbf8a00ff8ce8226c31582b8e05961"
        );
        assert_eq!(masked(&Hasher::Md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            masked(&Hasher::hmac_sha256(KEY.as_bytes()), ""),
            "081247dc68bb7fafbf13220013a0ab71db8b628d679161f87b5e5bd9e19b1494"
        );
    }
}
