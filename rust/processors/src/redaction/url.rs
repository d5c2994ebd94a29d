//! Contrib's URL sanitizer: `grafana/clusterurl` v0.2.1's `ClusterURL`
//! with its default configuration, which contrib uses as it is.
//!
//! It replaces the parts of a path that look like identifiers with `*`
//! (`/users/123/profile` becomes `/users/*/profile`) and drops the query
//! and fragment. A segment is kept when it has only letters, `-`, `_`,
//! `.` and spaces (one other byte is forgiven as its second byte) and
//! does not read as gibberish to a letter-pair model: the model is
//! clusterurl's own (`clusterurl-model.json`, embedded byte for byte, Apache
//! 2.0, Grafana Labs), so the same segments are kept as in contrib.
//!
//! The scan works on bytes and rewrites the path in place, never writing
//! past what it has read, which is what lets it run on a copy here.

use std::collections::HashSet;

use serde::Deserialize;

/// At most this many `/` are kept; the rest of the path is dropped.
const MAX_SEGMENTS: usize = 10;
/// What replaces a segment.
const REPLACE_WITH: u8 = b'*';

/// Span attribute keys that make a span an HTTP one for span name
/// sanitizing (contrib's list, from the semantic conventions 1.25 and
/// 1.40).
const HTTP_ATTRIBUTE_KEYS: [&[u8]; 9] = [
    b"http.route",
    b"http.request.method",
    b"http.request.method_original",
    b"http.response.status_code",
    b"url.full",
    b"http.scheme",
    b"http.target",
    b"http.method",
    b"http.url",
];

/// `SPAN_KIND_SERVER` and `SPAN_KIND_CLIENT`.
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Model {
    occurrences: Vec<Vec<f64>>,
    positions: std::collections::HashMap<String, usize>,
    threshold: f64,
}

/// The letter-pair model: log-probabilities of each pair of `a`-`z` and
/// space.
#[derive(Debug, Clone)]
struct Gibberish {
    /// Log-probability of the pair (a, b), by the bytes' positions.
    pairs: Vec<[f64; 27]>,
    /// Position of each accepted byte (`a`-`z`, space), or none.
    position: [Option<u8>; 256],
    threshold: f64,
}

impl Gibberish {
    fn embedded() -> Self {
        let model: Model = serde_json::from_str(include_str!("clusterurl-model.json"))
            .expect("the embedded model is valid JSON");
        let mut position = [None; 256];
        for (code, &pos) in &model.positions {
            let code: u32 = code.parse().expect("positions are code points");
            position[code as usize] = Some(pos as u8);
        }
        let pairs = model
            .occurrences
            .iter()
            .map(|row| {
                let mut r = [0.0; 27];
                r.copy_from_slice(row);
                r
            })
            .collect();
        Gibberish {
            pairs,
            position,
            threshold: model.threshold,
        }
    }

    /// Whether `word` reads as gibberish: the mean log-probability of its
    /// letter pairs (letters lowercased, everything but letters and
    /// spaces dropped) is too low.
    fn is_gibberish(&self, word: &[u8]) -> bool {
        let mut sum = 0.0;
        let mut pairs = 0u32;
        let mut prev: Option<u8> = None;
        for &b in word {
            let Some(pos) = self.position[b.to_ascii_lowercase() as usize] else {
                continue;
            };
            if let Some(p) = prev {
                sum += self.pairs[p as usize][pos as usize];
                pairs += 1;
            }
            prev = Some(pos);
        }
        (sum / f64::from(pairs.max(1))).exp() <= self.threshold
    }
}

/// `url_sanitizer`, compiled.
#[derive(Debug, Clone)]
pub(crate) struct UrlSanitizer {
    model: Gibberish,
    /// Attribute keys whose values are sanitized.
    attributes: HashSet<Box<[u8]>>,
    /// Whether span names are sanitized (`sanitize_span_name`, default
    /// true).
    pub(crate) span_names: bool,
}

impl UrlSanitizer {
    pub(crate) fn new(attributes: &[String], span_names: bool) -> Self {
        UrlSanitizer {
            model: Gibberish::embedded(),
            attributes: attributes.iter().map(|a| a.as_bytes().into()).collect(),
            span_names,
        }
    }

    /// Whether the value of attribute `key` is sanitized.
    #[inline]
    pub(crate) fn applies_to(&self, key: &[u8]) -> bool {
        !self.attributes.is_empty() && self.attributes.contains(key)
    }

    fn ok_word(&self, word: &[u8]) -> bool {
        !self.model.is_gibberish(word)
    }

    /// clusterurl's `ClusterURL`.
    pub(crate) fn cluster_url(&self, path: &[u8]) -> Vec<u8> {
        let mut p = path.to_vec();
        if p.is_empty() {
            return p;
        }
        let (mut s_pos, mut s_fwd) = (0usize, 0usize);
        let (mut skip, mut grace) = (false, true);
        let mut segments = 0;
        // Writes never pass the byte being read, so reading `path` is
        // reading what the in-place scan would read.
        for &c in path {
            if c == b'?' || c == b'&' || c == b'#' {
                if skip && s_pos < p.len() {
                    p[s_pos] = REPLACE_WITH;
                    s_pos += 1;
                } else if !skip && s_fwd > s_pos {
                    // Kept as it is: the query cuts the segment short
                    // before it is judged.
                    s_pos = s_fwd;
                }
                p.truncate(s_pos);
                break;
            }
            if c == b'/' {
                segments += 1;
                if skip {
                    p[s_pos] = REPLACE_WITH;
                    s_pos += 1;
                } else if s_fwd > s_pos {
                    if self.ok_word(&p[s_pos..s_fwd]) {
                        s_pos = s_fwd;
                    } else {
                        p[s_pos] = REPLACE_WITH;
                        s_pos += 1;
                    }
                }
                if segments >= MAX_SEGMENTS {
                    break;
                }
                p[s_pos] = c;
                s_pos += 1;
                s_fwd = s_pos;
                skip = false;
                grace = true;
            } else if !skip {
                p[s_fwd] = c;
                s_fwd += 1;
                if !valid_char(c) {
                    if grace && s_fwd - s_pos == 2 {
                        grace = false;
                        continue;
                    }
                    skip = true;
                }
            }
        }
        if p.is_empty() {
            return p;
        }
        if skip {
            if s_pos < p.len() {
                p[s_pos] = REPLACE_WITH;
                s_pos += 1;
            }
        } else if s_fwd > s_pos {
            if self.ok_word(&p[s_pos..s_fwd]) {
                s_pos = s_fwd;
            } else if s_pos < p.len() {
                p[s_pos] = REPLACE_WITH;
                s_pos += 1;
            }
        }
        p.truncate(s_pos);
        p
    }

    /// Contrib's span name sanitizing (`url.SanitizeSpanName` and
    /// `applySpanName`): the new name of a server or client span whose
    /// name has a `/` or whose attributes (after redaction) name it an
    /// HTTP span, unless nothing changed or every segment became `*`.
    pub(crate) fn span_name(&self, name: &[u8], kind: i32, http: bool) -> Option<Vec<u8>> {
        if kind != SERVER && kind != CLIENT {
            return None;
        }
        if !http && !name.contains(&b'/') {
            return None;
        }
        let sanitized = self.cluster_url(name);
        if sanitized == name || fully_redacted(&sanitized) || sanitized.is_empty() {
            return None;
        }
        Some(sanitized)
    }

    /// Whether span attributes hold one of the HTTP keys.
    pub(crate) fn is_http(attrs: &otelcol_rust_engine::Attributes<'_>) -> bool {
        HTTP_ATTRIBUTE_KEYS.iter().any(|k| attrs.find(k).is_some())
    }
}

/// clusterurl's valid segment bytes: letters, `-`, `_`, `.`, space.
#[inline]
fn valid_char(c: u8) -> bool {
    c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.' | b' ')
}

/// Every `/`-separated segment is empty or `*`, and one is `*`.
fn fully_redacted(s: &[u8]) -> bool {
    let mut star = false;
    for segment in s.split(|&b| b == b'/') {
        match segment {
            b"*" => star = true,
            b"" => {}
            _ => return false,
        }
    }
    star
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusterurl_cases() {
        let s = UrlSanitizer::new(&[], true);
        for (input, want) in [
            ("/users/fdklsd/j4elk/23993/job/2", "/users/*/j4elk/*/job/*"),
            ("123", "*"),
            ("/123", "/*"),
            ("123/", "*/"),
            ("/**", "/*"),
            ("/v1/products/22j", "/v1/products/*"),
            ("/products//org/3", "/products//org/*"),
            ("/v1/k6-test-runs/1", "/v1/k6-test-runs/*"),
            ("GET /api/cart?sessionId=abc", "GET /api/cart"),
            ("?", ""),
            ("attach12?", "*"),
            ("*&", "*"),
            ("/a#", "/a"),
            ("/1#", "/*"),
            ("a#", "a"),
            ("/a/b/c/d/e/f/g/h/i/j", "/a/b/c/d/e/f/g/h/i"),
            ("/w/index.php/*", "/w/index.php/*"),
            ("HTTP GET", "HTTP GET"),
            ("/xkcdqwrtz", "/*"),
            ("/xkcdqwrtz?x", "/xkcdqwrtz"),
            ("/xkcdqwrtz/", "/*/"),
            ("/qqqq", "/*"),
            ("/zzz", "/zzz"),
            ("/rhythm", "/*"),
            ("/my house is nice", "/my house is nice"),
            ("/é", "/*"),
            (
                "https://example.com/users/123?x=1",
                "*//example.com/users/*",
            ),
            ("hello world", "hello world"),
            ("user 42 logged in", "*"),
            (
                "/api/v1/orders/4f9a2c1e-1111-2222-3333-444455556666/items",
                "/api/v1/orders/*/items",
            ),
            ("a1", "a1"),
            ("/v1/x", "/v1/x"),
            ("/ab1c/", "/*/"),
            ("/Users/Profile", "/Users/Profile"),
            ("//", "//"),
            ("?a", ""),
            ("/a?b/c", "/a"),
            ("/a&b", "/a"),
            ("x/", "x/"),
            ("xk1/", "*/"),
            ("/products/aaa/bbbbbbbb", "/products/*/*"),
            ("/v1/api\\path/123", "/v1/*/*"),
            ("", ""),
        ] {
            assert_eq!(
                String::from_utf8(s.cluster_url(input.as_bytes())).unwrap(),
                want,
                "{input:?}"
            );
        }
    }

    #[test]
    fn span_names_as_contrib_decides() {
        let s = UrlSanitizer::new(&[], true);
        let name = |n: &str, kind, http| {
            s.span_name(n.as_bytes(), kind, http)
                .map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(
            name("/users/123/profile", SERVER, false).as_deref(),
            Some("/users/*/profile")
        );
        assert_eq!(
            name("GET /orders/123?sql=SELECT+1", CLIENT, false).as_deref(),
            Some("GET /orders/*")
        );
        assert_eq!(name("/123", SERVER, false), None, "fully redacted");
        assert_eq!(name("okey-dokey-0", SERVER, true), None, "fully redacted");
        assert_eq!(name("GET users 123", SERVER, true), None);
        assert_eq!(
            name("/users/123", 1, false),
            None,
            "internal spans are left"
        );
        assert_eq!(name("/users/123", 4, false), None, "producers too");
        assert_eq!(
            name("GET /page/123#section", SERVER, false).as_deref(),
            Some("GET /page/*")
        );
        assert_eq!(
            name("/users/测试/profile", SERVER, false).as_deref(),
            Some("/users/*/profile")
        );
        for unchanged in ["", "12345", "/", "   "] {
            assert_eq!(name(unchanged, SERVER, true), None, "{unchanged:?}");
        }
        let long = format!("/api/{}end", "segment/".repeat(100));
        assert_eq!(
            name(&long, SERVER, false).as_deref(),
            Some(format!("/api{}", "/segment".repeat(8)).as_str())
        );
        assert!(fully_redacted(b"/*/*/") && fully_redacted(b"*") && !fully_redacted(b"///"));
    }
}
