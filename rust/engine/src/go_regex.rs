//! Regular expressions that match as Go's `regexp` does.
//!
//! A processor that mirrors a Go one must accept the patterns Go accepts,
//! refuse the ones Go refuses, and match the same bytes. Rust's `regex`
//! crate and Go's `regexp` are both RE2 dialects but differ at the edges:
//! Go's `\d`, `\w`, `\s` and `\b` are ASCII, Go refuses repeat counts over
//! 1000 and `x**`, accepts `\Q...\E` and a lone `{`, and treats each byte
//! that is not valid UTF-8 as U+FFFD.
//!
//! A normalizer ([`set_normalizer`]) can have the pattern parsed by Go
//! itself: it runs Go's `regexp/syntax` parser and returns the pattern in
//! Go's canonical syntax (classes spelled out as ranges) or Go's own
//! error. The canonical form is then compiled by the `regex` crate, and
//! subjects that are not valid UTF-8 are matched through Go's decoding of
//! them. No build installs one yet: a translation stands in, of the Perl
//! classes and word boundaries to ASCII, and of Go's literal spellings
//! (`\Q...\E`, a `{` that starts no repeat) to Rust's. What it leaves
//! different: Rust accepts `x**` and repeat counts over 1000, which Go
//! refuses.

use std::borrow::Cow;
use std::sync::OnceLock;

/// Turns a Go pattern into Go's canonical syntax, or returns Go's error.
pub type Normalizer = fn(&str) -> Result<String, String>;

static NORMALIZER: OnceLock<Normalizer> = OnceLock::new();

/// Installs the normalizer (the bridge does, at load).
pub fn set_normalizer(normalizer: Normalizer) {
    let _ = NORMALIZER.set(normalizer);
}

/// A compiled pattern with Go's semantics.
#[derive(Debug, Clone)]
pub struct GoRegex {
    re: regex::Regex,
    pattern: String,
}

/// The longest part of a pattern an error message quotes.
const QUOTE_MAX: usize = 80;

/// A pattern cut for an error message.
pub fn quote_pattern(pattern: &str) -> String {
    if pattern.len() <= QUOTE_MAX {
        return format!("{pattern:?}");
    }
    let mut end = QUOTE_MAX;
    while !pattern.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}... ({} bytes)", &pattern[..end], pattern.len())
}

impl GoRegex {
    /// Compiles `pattern` as Go's `regexp.Compile` would accept it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let canonical = match NORMALIZER.get() {
            Some(normalize) => normalize(pattern)?,
            None => translate_perl_classes(&go_literals(pattern)),
        };
        let rust = ascii_word_boundaries(&canonical);
        let re = regex::RegexBuilder::new(&rust)
            .size_limit(64 << 20)
            .build()
            .map_err(|e| {
                format!(
                    "pattern {} cannot be compiled: {}",
                    quote_pattern(pattern),
                    first_line(&e.to_string())
                )
            })?;
        Ok(GoRegex {
            re,
            pattern: pattern.to_string(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern matches somewhere in `subject` (Go's
    /// `MatchString` on the same bytes).
    pub fn is_match(&self, subject: &[u8]) -> bool {
        self.re.is_match(&go_decode(subject))
    }

    /// The underlying `regex` for text already known to be valid UTF-8.
    pub fn regex(&self) -> &regex::Regex {
        &self.re
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| s.lines().next().unwrap_or(s))
}

/// The text Go's regexp sees for `subject`: valid UTF-8 as it is, every
/// byte of an invalid sequence as one U+FFFD (Go's `utf8.DecodeRune`).
pub fn go_decode(subject: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(subject) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(subject.len() + 8);
            let mut rest = subject;
            while !rest.is_empty() {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let (valid, after) = rest.split_at(e.valid_up_to());
                        out.push_str(std::str::from_utf8(valid).expect("checked valid"));
                        // Go decodes one invalid byte at a time, whatever
                        // follows it.
                        out.push(char::REPLACEMENT_CHARACTER);
                        rest = &after[1..];
                    }
                }
            }
            Cow::Owned(out)
        }
    }
}

/// Go's `\b` and `\B` look at ASCII word characters only.
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b') if !in_class => out.push_str("(?-u:\\b)"),
                Some('B') if !in_class => out.push_str("(?-u:\\B)"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().expect("peeked"));
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Go spellings of literal text that Rust's parser refuses: `\Q...\E`
/// (quoted text) and a `{` that does not start a repeat (`a{`, `a{,3}`,
/// `{x}`), which Go reads as a literal brace.
fn go_literals(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    let mut in_class = false;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match c {
            '\\' if !in_class && after.starts_with('Q') => {
                let quoted = &after[1..];
                let (text, next) = match quoted.find("\\E") {
                    Some(end) => (&quoted[..end], &quoted[end + 2..]),
                    None => (quoted, ""),
                };
                out.push_str(&regex::escape(text));
                rest = next;
                continue;
            }
            '\\' => {
                // An escape pair is copied whole (`\{` stays `\{`), and
                // so is the braced argument of `\x{..}`, `\p{..}` and
                // `\P{..}`, whose brace starts no repeat.
                out.push(c);
                if let Some(n) = after.chars().next() {
                    out.push(n);
                    rest = &after[n.len_utf8()..];
                    if matches!(n, 'x' | 'p' | 'P') && rest.starts_with('{') {
                        if let Some(end) = rest.find('}') {
                            out.push_str(&rest[..=end]);
                            rest = &rest[end + 1..];
                        }
                    }
                } else {
                    rest = after;
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                rest = after;
                // A `]` right after `[` or `[^` is a literal.
                for lead in ["^]", "^", "]"] {
                    if let Some(r) = rest.strip_prefix(lead) {
                        out.push_str(lead);
                        rest = r;
                        break;
                    }
                }
                continue;
            }
            ']' if in_class => in_class = false,
            '{' if !in_class && !starts_repeat(after) => {
                out.push_str("\\{");
                rest = after;
                continue;
            }
            _ => {}
        }
        out.push(c);
        rest = after;
    }
    out
}

/// Whether the text after a `{` makes a repeat: `n}`, `n,}` or `n,m}`.
fn starts_repeat(after: &str) -> bool {
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let n = digits(after);
    if n == 0 {
        return false;
    }
    let rest = &after[n..];
    if rest.starts_with('}') {
        return true;
    }
    let Some(rest) = rest.strip_prefix(',') else {
        return false;
    };
    rest[digits(rest)..].starts_with('}')
}

/// Go's ASCII Perl classes, for when no Go parser is at hand.
fn translate_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if c == '[' && !in_class {
            in_class = true;
            out.push(c);
            continue;
        }
        if c == ']' && in_class {
            in_class = false;
            out.push(c);
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(n) = chars.next() else {
            out.push('\\');
            break;
        };
        let (pos, neg) = match n {
            'd' => ("0-9", false),
            'D' => ("0-9", true),
            'w' => ("0-9A-Za-z_", false),
            'W' => ("0-9A-Za-z_", true),
            's' => ("\\t\\n\\f\\r ", false),
            'S' => ("\\t\\n\\f\\r ", true),
            _ => {
                out.push('\\');
                out.push(n);
                continue;
            }
        };
        match (in_class, neg) {
            (true, false) => out.push_str(pos),
            _ => {
                out.push('[');
                if neg {
                    out.push('^');
                }
                out.push_str(pos);
                out.push(']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii() {
        let re = GoRegex::new(r"^\w+$").unwrap();
        assert!(re.is_match(b"abc_1"));
        assert!(!re.is_match("é".as_bytes()));
        let re = GoRegex::new(r"\bx").unwrap();
        assert!(
            re.is_match("éx".as_bytes()),
            "é is not a word character in Go"
        );
        assert!(GoRegex::new(r"[\d\s]").unwrap().is_match(b"\t"));
        assert!(
            !GoRegex::new(r"\s").unwrap().is_match(b"\x0b"),
            "Go's \\s has no \\v"
        );
    }

    #[test]
    fn braced_escapes_are_not_literal_braces() {
        let re = GoRegex::new(r"\x{FFFD}").unwrap();
        assert!(re.is_match("a\u{FFFD}".as_bytes()));
        assert!(re.is_match(b"\xff"), "an invalid byte is U+FFFD in Go");
        assert!(GoRegex::new(r"\p{Greek}+")
            .unwrap()
            .is_match("αβ".as_bytes()));
        assert!(GoRegex::new(r"a{").unwrap().is_match(b"a{"));
    }

    #[test]
    fn invalid_utf8_matches_as_replacement_characters() {
        let re = GoRegex::new(r"^internal\..$").unwrap();
        assert!(re.is_match(b"internal.\xff"));
        assert!(
            !re.is_match(b"internal.\xf0\x9f\x98"),
            "three invalid bytes are three runes in Go"
        );
        let re = GoRegex::new(r"^.{3}$").unwrap();
        assert!(re.is_match(b"\xf0\x9f\x98"));
        assert_eq!(go_decode(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn go_literal_spellings_are_accepted() {
        let re = GoRegex::new(r"\Qa.b*\E+").unwrap();
        assert!(re.is_match(b"a.b*b*"));
        assert!(!re.is_match(b"axb"));
        assert!(GoRegex::new(r"a{").unwrap().is_match(b"xa{"));
        assert!(GoRegex::new(r"a{,3}").unwrap().is_match(b"a{,3}"));
        assert!(GoRegex::new(r"x{y}").unwrap().is_match(b"x{y}"));
        assert!(GoRegex::new(r"^a{2}$").unwrap().is_match(b"aa"));
        assert!(GoRegex::new(r"^a{2,}$").unwrap().is_match(b"aaa"));
        assert!(GoRegex::new(r"^a{1,2}$").unwrap().is_match(b"aa"));
        assert!(GoRegex::new(r"[{]\{").unwrap().is_match(b"{{"));
        assert!(GoRegex::new(r"\Qunterminated")
            .unwrap()
            .is_match(b"unterminated"));
    }

    #[test]
    fn long_patterns_are_cut_in_errors() {
        let long = format!("({}", "a".repeat(10_000));
        let err = GoRegex::new(&long).unwrap_err();
        assert!(err.len() < 400, "{err}");
    }
}
