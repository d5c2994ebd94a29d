//! The configured regular expressions, compiled once per component.
//!
//! Every list is matched as Go's `regexp` matches (an unanchored search,
//! ASCII `\d \w \s \b`, Go's accept/refuse decisions) through the engine's
//! [`GoRegex`], which compiles Go's canonical form of each pattern.
//!
//! Most values match nothing, so the cost that matters is the question
//! "does any pattern of this list match?". Each list is therefore also
//! compiled into one [`regex::RegexSet`]: one automaton that runs all its
//! patterns in one pass over the value, instead of one pass per pattern
//! as contrib does. Only a value some blocked pattern matches goes through
//! the patterns one by one, in configuration order, to be masked exactly
//! as contrib masks it (each pattern on the previous one's output).

use std::borrow::Cow;

use otelcol_rust_engine::go_regex::{go_decode, GoRegex};
use otelcol_rust_engine::ConfigError;
use regex::{Regex, RegexSet, RegexSetBuilder};

use super::hash::Hasher;

/// The automaton of a set may grow this large (as a single pattern may).
const SIZE_LIMIT: usize = 64 << 20;

/// A list of patterns asked only "does any match?".
#[derive(Debug, Clone)]
pub(crate) struct PatternSet {
    set: Option<RegexSet>,
}

/// Compiles `patterns` (the list at `path`) with Go's semantics.
fn compile_list(path: &str, patterns: &[String]) -> Result<Vec<Regex>, ConfigError> {
    patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            GoRegex::new(p)
                .map(|re| re.regex().clone())
                .map_err(|e| ConfigError::at(format!("{path}[{i}]"), error_compiling(&e)))
        })
        .collect()
}

/// Contrib's wording (`error compiling regex in list: error parsing regexp: ...`).
fn error_compiling(err: &str) -> String {
    format!("error compiling regex in list: {err}")
}

fn build_set(path: &str, regexes: &[Regex]) -> Result<Option<RegexSet>, ConfigError> {
    if regexes.is_empty() {
        return Ok(None);
    }
    RegexSetBuilder::new(regexes.iter().map(Regex::as_str))
        .size_limit(SIZE_LIMIT)
        .build()
        .map(Some)
        .map_err(|e| {
            ConfigError::at(
                path,
                format!("the patterns together are too large to compile: {e}"),
            )
        })
}

impl PatternSet {
    pub(crate) fn compile(path: &str, patterns: &[String]) -> Result<Self, ConfigError> {
        let regexes = compile_list(path, patterns)?;
        Ok(PatternSet {
            set: build_set(path, &regexes)?,
        })
    }

    /// True when the list is empty (nothing ever matches).
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_none()
    }

    /// Whether any pattern matches somewhere in `subject`.
    #[inline]
    pub(crate) fn is_match(&self, subject: &[u8]) -> bool {
        match &self.set {
            None => false,
            Some(set) => set.is_match(&go_decode(subject)),
        }
    }
}

/// `blocked_values`: matched all at once, masked one pattern at a time.
#[derive(Debug, Clone)]
pub(crate) struct BlockedValues {
    set: Option<RegexSet>,
    regexes: Vec<Regex>,
}

impl BlockedValues {
    pub(crate) fn compile(path: &str, patterns: &[String]) -> Result<Self, ConfigError> {
        let regexes = compile_list(path, patterns)?;
        Ok(BlockedValues {
            set: build_set(path, &regexes)?,
            regexes,
        })
    }

    /// True when the list is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_none()
    }

    /// `subject` with every pattern applied in order, each replacing its
    /// matches in the previous one's output; `None` when no pattern
    /// matches (the value is then what it was).
    pub(crate) fn apply(&self, subject: &[u8], hasher: &Hasher) -> Option<Vec<u8>> {
        let set = self.set.as_ref()?;
        let text = go_decode(subject);
        // Which patterns match the value as it is now: one pass of the
        // automaton, again after each replacement, instead of asking each
        // pattern in turn.
        let mut matched = [false; 64];
        let mut matched_vec;
        let matched: &mut [bool] = if self.regexes.len() <= matched.len() {
            &mut matched[..self.regexes.len()]
        } else {
            matched_vec = vec![false; self.regexes.len()];
            &mut matched_vec
        };
        if !set.matches_read_at(matched, &text, 0) {
            return None;
        }
        drop(text);
        let mut current: Cow<'_, [u8]> = Cow::Borrowed(subject);
        for (i, re) in self.regexes.iter().enumerate() {
            if !matched[i] {
                continue;
            }
            let mut out = Vec::with_capacity(current.len() + 16);
            replace_all(re, &current, hasher, &mut out);
            current = Cow::Owned(out);
            if i + 1 < self.regexes.len() {
                matched.fill(false);
                set.matches_read_at(matched, &go_decode(&current), 0);
            }
        }
        Some(current.into_owned())
    }
}

/// Replaces every match of `re` in `subject` (Go's `ReplaceAllStringFunc`:
/// leftmost-first, non-overlapping, an empty match right after a match
/// skipped), appending the result to `out`. Bytes that are not valid
/// UTF-8 match as Go reads them (each one a U+FFFD) and are copied, or
/// hashed, as they are, as Go does.
pub(crate) fn replace_all(re: &Regex, subject: &[u8], hasher: &Hasher, out: &mut Vec<u8>) {
    let mut last = 0;
    match std::str::from_utf8(subject) {
        Ok(text) => {
            for m in re.find_iter(text) {
                out.extend_from_slice(&subject[last..m.start()]);
                hasher.mask_into(&subject[m.start()..m.end()], out);
                last = m.end();
            }
        }
        Err(_) => {
            let (text, offsets) = decode_with_offsets(subject);
            for m in re.find_iter(&text) {
                let (start, end) = (offsets[m.start()], offsets[m.end()]);
                out.extend_from_slice(&subject[last..start]);
                hasher.mask_into(&subject[start..end], out);
                last = end;
            }
        }
    }
    out.extend_from_slice(&subject[last..]);
}

/// Go's reading of bytes that are not all valid UTF-8 (each invalid byte a
/// U+FFFD), with the offset in `subject` of every offset of the text.
fn decode_with_offsets(subject: &[u8]) -> (String, Vec<usize>) {
    let mut text = String::with_capacity(subject.len() + 8);
    let mut offsets = Vec::with_capacity(subject.len() + 9);
    let mut at = 0;
    while at < subject.len() {
        let rest = &subject[at..];
        let valid = match std::str::from_utf8(rest) {
            Ok(v) => v,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).expect("valid up to here"),
        };
        text.push_str(valid);
        offsets.extend(at..at + valid.len());
        at += valid.len();
        if at < subject.len() {
            text.push(char::REPLACEMENT_CHARACTER);
            offsets.extend([at; 3]);
            at += 1;
        }
    }
    offsets.push(subject.len());
    (text, offsets)
}

/// `.*`: what contrib masks a whole value with when its key is blocked.
pub(crate) fn mask_all_regex() -> Regex {
    Regex::new("(?-s:.)*").expect("a valid pattern")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(patterns: &[&str], s: &str) -> Option<String> {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        BlockedValues::compile("blocked_values", &patterns)
            .unwrap()
            .apply(s.as_bytes(), &Hasher::None)
            .map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn go_empty_match_rules() {
        assert_eq!(apply(&["a*"], "baaac").as_deref(), Some("****b****c****"));
        assert_eq!(apply(&["x*"], "").as_deref(), Some("****"));
        let all = mask_all_regex();
        for (s, want) in [
            ("tokenize", "****"),
            ("", "****"),
            ("line1\nline2", "****\n****"),
            ("line1\n", "****\n****"),
            ("\n", "****\n****"),
        ] {
            let mut out = Vec::new();
            replace_all(&all, s.as_bytes(), &Hasher::None, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{s:?}");
        }
    }

    #[test]
    fn order_matters_and_later_patterns_see_earlier_masks() {
        let phone = r"\b\d{3}-\d{4}\b";
        let email = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}";
        let s = "777-7777@example.com";
        assert_eq!(
            apply(&[phone, email], s).as_deref(),
            Some("****@example.com")
        );
        assert_eq!(apply(&[email, phone], s).as_deref(), Some("****"));
        assert_eq!(apply(&["b", r"\*+"], "abc").as_deref(), Some("a****c"));
        assert_eq!(apply(&["zzz"], "abc"), None);
    }

    #[test]
    fn classes_are_ascii_as_in_go() {
        assert_eq!(
            apply(&[r"\d+", r"é\w+", r"\s"], "١٢٣ 123").as_deref(),
            Some("١٢٣********")
        );
        assert_eq!(apply(&[r"\s"], "a\u{b}b\u{a0}c"), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept_as_go_keeps_them() {
        let blocked =
            BlockedValues::compile("blocked_values", &["4[0-9]{15}".into(), "^.b".into()]).unwrap();
        assert_eq!(
            blocked.apply(b"a\xff 4111111111111111 \xe2\x80", &Hasher::None),
            Some(b"a\xff **** \xe2\x80".to_vec())
        );
        // An invalid byte is one character: `^.b` matches it, and the
        // match hashed is the bytes themselves.
        let mut want = Vec::new();
        Hasher::Md5.mask_into(b"\xffb", &mut want);
        want.extend_from_slice(b"c");
        assert_eq!(blocked.apply(b"\xffbc", &Hasher::Md5), Some(want));
        assert_eq!(blocked.apply(b"\xff\xfe", &Hasher::None), None);
    }

    #[test]
    fn bad_patterns_name_their_index() {
        let err = PatternSet::compile("allowed_values", &["ok".into(), "(".into()]).unwrap_err();
        assert_eq!(err.path, "allowed_values[1]");
        assert!(
            err.message.starts_with("error compiling regex in list: "),
            "{err}"
        );
    }
}
