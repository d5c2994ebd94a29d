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
        if !set.is_match(&text) {
            return None;
        }
        let mut current: Cow<'_, str> = text;
        let mut out = Vec::new();
        for re in &self.regexes {
            if !re.is_match(&current) {
                continue;
            }
            out.clear();
            replace_all(re, &current, hasher, &mut out);
            current = Cow::Owned(String::from_utf8(std::mem::take(&mut out)).unwrap_or_else(
                // Masks are ASCII and matches end on character boundaries,
                // so the output of valid text is valid text.
                |e| String::from_utf8_lossy(e.as_bytes()).into_owned(),
            ));
        }
        Some(current.into_owned().into_bytes())
    }
}

/// Replaces every match of `re` in `text` (Go's `ReplaceAllStringFunc`:
/// leftmost-first, non-overlapping, an empty match right after a match
/// skipped), appending the result to `out`.
pub(crate) fn replace_all(re: &Regex, text: &str, hasher: &Hasher, out: &mut Vec<u8>) {
    let mut last = 0;
    for m in re.find_iter(text) {
        out.extend_from_slice(&text.as_bytes()[last..m.start()]);
        hasher.mask_into(m.as_str().as_bytes(), out);
        last = m.end();
    }
    out.extend_from_slice(&text.as_bytes()[last..]);
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
            replace_all(&all, s, &Hasher::None, &mut out);
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
    fn bad_patterns_name_their_index() {
        let err = PatternSet::compile("allowed_values", &["ok".into(), "(".into()]).unwrap_err();
        assert_eq!(err.path, "allowed_values[1]");
        assert!(
            err.message.starts_with("error compiling regex in list: "),
            "{err}"
        );
    }
}
