//! Contrib's redaction of one attribute map (`processAttrs`) and of one
//! log body (`processLogBody`), with their summary attributes.
//!
//! The order of the checks, what is compared with what, and how the
//! summary is merged are contrib's, artefacts included, because the output
//! must be the same bytes: keys are removed after the scan, in the order
//! they were found, each by `pcommon.Map.Remove` (the first entry with the
//! key; the last entry moves into its place); summary attributes are
//! appended after that, or updated in place when present; key lists are
//! sorted bytewise and joined with `,`.

use std::borrow::Cow;
use std::collections::HashSet;

use otelcol_rust_engine::wire::{self, put_len_field};
use otelcol_rust_engine::{Attributes, ValueRef};
use regex::Regex;

use super::as_string::as_string;
use super::hash::Hasher;
use super::patterns::{replace_all, BlockedValues, PatternSet};
use super::url::UrlSanitizer;

/// `summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Summary {
    /// No summary attributes.
    Silent,
    /// Counts only.
    Info,
    /// Counts and the lists of keys.
    Debug,
}

/// The names a summary is written under.
pub(crate) struct SummaryNames {
    redacted_keys: &'static [u8],
    redacted_count: &'static [u8],
    masked_keys: &'static [u8],
    masked_count: &'static [u8],
    allowed_keys: &'static [u8],
    allowed_count: &'static [u8],
    ignored_count: &'static [u8],
}

/// For resource, scope, span, span event, log record and data point
/// attributes.
pub(crate) const ATTRIBUTES: SummaryNames = SummaryNames {
    redacted_keys: b"redaction.redacted.keys",
    redacted_count: b"redaction.redacted.count",
    masked_keys: b"redaction.masked.keys",
    masked_count: b"redaction.masked.count",
    allowed_keys: b"redaction.allowed.keys",
    allowed_count: b"redaction.allowed.count",
    ignored_count: b"redaction.ignored.count",
};

/// For a log body; written into the log record's attributes.
pub(crate) const BODY: SummaryNames = SummaryNames {
    redacted_keys: b"redaction.body.redacted.keys",
    redacted_count: b"redaction.body.redacted.count",
    masked_keys: b"redaction.body.masked.keys",
    masked_count: b"redaction.body.masked.count",
    allowed_keys: b"redaction.body.allowed.keys",
    allowed_count: b"redaction.body.allowed.count",
    ignored_count: b"redaction.body.ignored.count",
};

/// A compiled configuration.
#[derive(Debug)]
pub(crate) struct Redactor {
    pub(crate) allow_all_keys: bool,
    /// `allowed_keys` and the summary keys contrib adds to them.
    pub(crate) allowed_keys: HashSet<Box<[u8]>>,
    pub(crate) ignored_keys: HashSet<Box<[u8]>>,
    pub(crate) ignored_key_patterns: PatternSet,
    pub(crate) blocked_key_patterns: PatternSet,
    pub(crate) blocked_values: BlockedValues,
    pub(crate) allowed_values: PatternSet,
    pub(crate) hasher: Hasher,
    pub(crate) redact_all_types: bool,
    pub(crate) summary: Summary,
    /// `.*`, which masks a value whose key is blocked.
    pub(crate) mask_all: Regex,
    /// `url_sanitizer`, when enabled.
    pub(crate) url: Option<UrlSanitizer>,
}

/// What one map or body lost: values masked, keys removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) masked: u64,
    pub(crate) removed: u64,
}

impl std::ops::AddAssign for Changes {
    fn add_assign(&mut self, o: Changes) {
        self.masked += o.masked;
        self.removed += o.removed;
    }
}

/// The key lists of one map or body, in one buffer reused across maps.
#[derive(Debug, Default)]
pub(crate) struct Lists {
    buf: Vec<u8>,
    redacted: Vec<(usize, usize)>,
    masked: Vec<(usize, usize)>,
    allowed: Vec<(usize, usize)>,
    ignored: usize,
    existing: Vec<u8>,
    joined: Vec<u8>,
    value: Vec<u8>,
}

impl Lists {
    fn clear(&mut self) {
        self.buf.clear();
        self.redacted.clear();
        self.masked.clear();
        self.allowed.clear();
        self.ignored = 0;
    }

    fn push(buf: &mut Vec<u8>, list: &mut Vec<(usize, usize)>, parts: &[&[u8]]) {
        let start = buf.len();
        for p in parts {
            buf.extend_from_slice(p);
        }
        list.push((start, buf.len()));
    }

    /// Whether a body or map had nothing to report.
    fn is_empty(&self) -> bool {
        self.redacted.is_empty()
            && self.masked.is_empty()
            && self.allowed.is_empty()
            && self.ignored == 0
    }

    fn changes(&self) -> Changes {
        Changes {
            masked: self.masked.len() as u64,
            removed: self.redacted.len() as u64,
        }
    }
}

impl Redactor {
    #[inline]
    fn should_ignore(&self, key: &[u8]) -> bool {
        (!self.ignored_keys.is_empty() && self.ignored_keys.contains(key))
            || self.ignored_key_patterns.is_match(key)
    }

    #[inline]
    fn should_redact(&self, key: &[u8]) -> bool {
        !self.allow_all_keys && !self.allowed_keys.contains(key)
    }

    /// The whole value masked (or hashed) with `.*`.
    fn mask_whole(&self, value: &[u8], out: &mut Vec<u8>) {
        out.clear();
        replace_all(&self.mask_all, value, &self.hasher, out);
    }

    /// Whether there is anything to do with attribute maps at all: with
    /// every key allowed and no pattern, contrib changes nothing (and
    /// writes no summary, as nothing is counted).
    pub(crate) fn is_noop(&self) -> bool {
        self.allow_all_keys
            && self.ignored_keys.is_empty()
            && self.ignored_key_patterns.is_empty()
            && self.blocked_key_patterns.is_empty()
            && self.blocked_values.is_empty()
            && self.allowed_values.is_empty()
            && self.url.is_none()
    }

    /// Whether span names are sanitized (URL sanitizer enabled, with
    /// `sanitize_span_name` not false).
    pub(crate) fn sanitizes_span_names(&self) -> bool {
        self.url.as_ref().is_some_and(|u| u.span_names)
    }

    /// Contrib's `sanitizeSpanName` (its URL half): the new name, if any.
    /// `http`: the span's attributes, after redaction, have an HTTP key.
    pub(crate) fn span_name(&self, name: &[u8], kind: i32, http: bool) -> Option<Vec<u8>> {
        let url = self.url.as_ref().filter(|u| u.span_names)?;
        if self.allowed_values.is_match(name) {
            return None;
        }
        url.span_name(name, kind, http)
    }

    /// Contrib's `processAttrs` on one map.
    pub(crate) fn redact_attributes(
        &self,
        attrs: &mut Attributes<'_>,
        lists: &mut Lists,
    ) -> Changes {
        lists.clear();
        let Lists {
            buf,
            redacted,
            masked,
            allowed,
            ignored,
            value: new_value,
            ..
        } = lists;
        for i in 0..attrs.len() {
            let key = attrs.key(i);
            if self.should_ignore(key) {
                *ignored += 1;
                continue;
            }
            if self.should_redact(key) {
                Lists::push(buf, redacted, &[key]);
                continue;
            }
            let value = attrs.value(i);
            let text: Cow<'_, [u8]> = match value {
                ValueRef::Str(s) => Cow::Borrowed(s),
                _ if self.redact_all_types => as_string(&value),
                // `Value.Str()` of anything but a string.
                _ => Cow::Borrowed(b""),
            };
            if self.allowed_values.is_match(&text) {
                Lists::push(buf, allowed, &[key]);
                continue;
            }
            if self.blocked_key_patterns.is_match(key) {
                Lists::push(buf, masked, &[key]);
                self.mask_whole(&text, new_value);
                attrs.set(i, ValueRef::Str(new_value));
                continue;
            }
            let mut processed = self.blocked_values.apply(&text, &self.hasher);
            if let Some(url) = self.url.as_ref().filter(|u| u.applies_to(key)) {
                let current = processed.as_deref().unwrap_or(&text);
                if !current.is_empty() {
                    processed = Some(url.cluster_url(current));
                }
            }
            if let Some(processed) = processed {
                if *processed != *text {
                    Lists::push(buf, masked, &[key]);
                    attrs.set(i, ValueRef::Str(&processed));
                }
            }
        }
        for &(s, e) in lists.redacted.iter() {
            attrs.remove(&lists.buf[s..e]);
        }
        self.write_summary(attrs, lists, &ATTRIBUTES);
        lists.changes()
    }

    /// Whether [`write_summary`](Self::write_summary) would write anything.
    pub(crate) fn writes_summary(&self, lists: &Lists) -> bool {
        self.summary != Summary::Silent && !lists.is_empty()
    }

    /// Writes a pass's summary into `attrs` (contrib's four `addMetaAttrs`
    /// calls, in their order).
    pub(crate) fn write_summary(
        &self,
        attrs: &mut Attributes<'_>,
        lists: &mut Lists,
        names: &SummaryNames,
    ) {
        if self.summary == Summary::Silent || lists.is_empty() {
            return;
        }
        let Lists {
            buf,
            redacted,
            masked,
            allowed,
            ignored,
            existing,
            joined,
            ..
        } = lists;
        let buf = &buf[..];
        for (list, keys, count) in [
            (&*redacted, names.redacted_keys, names.redacted_count),
            (&*masked, names.masked_keys, names.masked_count),
            (&*allowed, names.allowed_keys, names.allowed_count),
        ] {
            let items = list.iter().map(|&(s, e)| &buf[s..e]);
            self.add_meta(
                attrs,
                list.len(),
                items,
                Some(keys),
                count,
                existing,
                joined,
            );
        }
        self.add_meta(
            attrs,
            *ignored,
            std::iter::empty(),
            None,
            names.ignored_count,
            existing,
            joined,
        );
    }

    /// Contrib's `addMetaAttrs`: the count of this pass added to the
    /// existing count (`Int()`: 0 unless an int), and in debug the keys
    /// merged with the existing list (`Str()`, split on `,`), sorted.
    #[allow(clippy::too_many_arguments)]
    fn add_meta<'k>(
        &self,
        attrs: &mut Attributes<'_>,
        count: usize,
        items: impl Iterator<Item = &'k [u8]>,
        keys_attr: Option<&[u8]>,
        count_attr: &[u8],
        existing: &mut Vec<u8>,
        joined: &mut Vec<u8>,
    ) {
        if count == 0 {
            return;
        }
        if let (Summary::Debug, Some(keys_attr)) = (self.summary, keys_attr) {
            existing.clear();
            if let Some(ValueRef::Str(s)) = attrs.get(keys_attr) {
                existing.extend_from_slice(s);
            }
            let mut all: Vec<&[u8]> = items.collect();
            if !existing.is_empty() {
                all.extend(existing.split(|&b| b == b','));
            }
            all.sort_unstable();
            joined.clear();
            for (i, k) in all.iter().enumerate() {
                if i > 0 {
                    joined.push(b',');
                }
                joined.extend_from_slice(k);
            }
            attrs.put(keys_attr, ValueRef::Str(joined));
        }
        let before = match attrs.get(count_attr) {
            Some(ValueRef::Int(n)) => n,
            _ => 0,
        };
        attrs.put(
            count_attr,
            ValueRef::Int((count as i64).wrapping_add(before)),
        );
    }

    /// Contrib's `processLogBody` on one body: the new body if it changed,
    /// and the summary lists in `lists` (to be written with
    /// [`write_summary`](Self::write_summary) and [`BODY`] into the
    /// record's attributes).
    pub(crate) fn redact_body(
        &self,
        body: ValueRef<'_>,
        lists: &mut Lists,
    ) -> (Option<Vec<u8>>, Changes) {
        lists.clear();
        let Ok(mut node) = Node::parse(body) else {
            // A nested value that does not parse: left as it came.
            return (None, Changes::default());
        };
        let mut changed = false;
        match &mut node {
            Node::Map(entries) => {
                let mut path = Vec::new();
                self.body_map(entries, None, &mut path, lists, &mut changed);
            }
            Node::Array(elements) => {
                for (i, e) in elements.iter_mut().enumerate() {
                    let mut path = format!("[{i}]").into_bytes();
                    self.body_value(e, &mut path, lists, &mut changed);
                }
            }
            leaf => {
                let text = leaf.as_string();
                // An allowed scalar body writes no summary at all (contrib
                // returns before its summary calls): nothing was listed.
                if !self.allowed_values.is_match(&text) {
                    if let Some(p) = self.process_body_string(&text) {
                        Lists::push(&mut lists.buf, &mut lists.masked, &[b"body"]);
                        *leaf = Node::Str(p);
                        changed = true;
                    }
                }
            }
        }
        let out = changed.then(|| {
            let mut out = Vec::new();
            node.encode(&mut out);
            out
        });
        (out, lists.changes())
    }

    /// The entries of a body map, at `prefix` (None at the top).
    fn body_map(
        &self,
        entries: &mut Vec<(Cow<'_, [u8]>, Node<'_>)>,
        prefix: Option<&[u8]>,
        path: &mut Vec<u8>,
        lists: &mut Lists,
        changed: &mut bool,
    ) {
        let with_path = |path: &mut Vec<u8>, k: &[u8]| {
            path.clear();
            if let Some(p) = prefix {
                path.extend_from_slice(p);
                path.push(b'.');
            }
            path.extend_from_slice(k);
        };
        let mut remove: Vec<Vec<u8>> = Vec::new();
        for (k, v) in entries.iter_mut() {
            if self.should_ignore(k) {
                lists.ignored += 1;
                continue;
            }
            if self.should_redact(k) {
                remove.push(k.to_vec());
                continue;
            }
            with_path(path, k);
            if self.blocked_key_patterns.is_match(k) {
                Lists::push(&mut lists.buf, &mut lists.masked, &[path]);
                // `v.Str()`, whatever `redact_all_types` says.
                let text: &[u8] = match v {
                    Node::Leaf(ValueRef::Str(s)) => s,
                    Node::Str(s) => s,
                    _ => b"",
                };
                let mut out = Vec::new();
                self.mask_whole(text, &mut out);
                *v = Node::Str(out);
                *changed = true;
                continue;
            }
            let mut child = path.clone();
            self.body_value(v, &mut child, lists, changed);
        }
        for k in remove {
            if let Some(i) = entries.iter().position(|(key, _)| **key == *k) {
                // pcommon.Map.Remove: the last entry moves into the hole.
                entries.swap_remove(i);
                *changed = true;
            }
            with_path(path, &k);
            Lists::push(&mut lists.buf, &mut lists.redacted, &[path]);
        }
    }

    /// One body value at `path` (contrib's `redactLogBodyRecursive`).
    fn body_value(
        &self,
        node: &mut Node<'_>,
        path: &mut Vec<u8>,
        lists: &mut Lists,
        changed: &mut bool,
    ) {
        match node {
            Node::Map(entries) => {
                let prefix = path.clone();
                self.body_map(entries, Some(&prefix), path, lists, changed);
            }
            Node::Array(elements) => {
                let prefix = path.clone();
                for (i, e) in elements.iter_mut().enumerate() {
                    path.clear();
                    path.extend_from_slice(&prefix);
                    path.extend_from_slice(format!(".[{i}]").as_bytes());
                    let mut child = path.clone();
                    self.body_value(e, &mut child, lists, changed);
                }
            }
            leaf => {
                let text = leaf.as_string();
                if self.allowed_values.is_match(&text) {
                    Lists::push(&mut lists.buf, &mut lists.allowed, &[path]);
                    return;
                }
                if let Some(p) = self.process_body_string(&text) {
                    Lists::push(&mut lists.buf, &mut lists.masked, &[path]);
                    *leaf = Node::Str(p);
                    *changed = true;
                }
            }
        }
    }

    /// Contrib's `processStringValueForLogBody` without the database
    /// sanitizer (refused in the configuration): the blocked values, then
    /// the URL sanitizer on every string; `None` when the string stays the
    /// same.
    fn process_body_string(&self, text: &[u8]) -> Option<Vec<u8>> {
        let mut processed = self.blocked_values.apply(text, &self.hasher);
        if let Some(url) = &self.url {
            processed = Some(url.cluster_url(processed.as_deref().unwrap_or(text)));
        }
        processed.filter(|p| p.as_slice() != text)
    }
}

/// A log body being redacted: parsed down to its leaves, because contrib
/// walks and rewrites it at any depth.
#[derive(Debug)]
enum Node<'a> {
    /// A scalar as it came (also `Empty`).
    Leaf(ValueRef<'a>),
    /// A value replaced by a string.
    Str(Vec<u8>),
    Map(Vec<(Cow<'a, [u8]>, Node<'a>)>),
    Array(Vec<Node<'a>>),
}

impl<'a> Node<'a> {
    fn parse(value: ValueRef<'a>) -> Result<Self, wire::WireError> {
        Ok(match value {
            ValueRef::Map(raw) => Node::Map(
                raw.map()?
                    .into_iter()
                    .map(|(k, v)| Ok((Cow::Borrowed(k), Node::parse(v)?)))
                    .collect::<Result<_, wire::WireError>>()?,
            ),
            ValueRef::Array(raw) => Node::Array(
                raw.array()?
                    .into_iter()
                    .map(Node::parse)
                    .collect::<Result<_, _>>()?,
            ),
            v => Node::Leaf(v),
        })
    }

    /// `AsString()` of a leaf.
    fn as_string(&self) -> Cow<'_, [u8]> {
        match self {
            Node::Leaf(v) => as_string(v),
            Node::Str(s) => Cow::Borrowed(s),
            // Only leaves are asked.
            Node::Map(_) | Node::Array(_) => Cow::Borrowed(b""),
        }
    }

    /// Appends the encoded `AnyValue`.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Node::Leaf(v) => v.encode_to(out),
            Node::Str(s) => put_len_field(out, 1, s),
            Node::Map(entries) => {
                let mut list = Vec::new();
                let mut kv = Vec::new();
                let mut any = Vec::new();
                for (k, v) in entries {
                    kv.clear();
                    any.clear();
                    if !k.is_empty() {
                        put_len_field(&mut kv, 1, k);
                    }
                    v.encode(&mut any);
                    put_len_field(&mut kv, 2, &any);
                    put_len_field(&mut list, 1, &kv);
                }
                put_len_field(out, 6, &list);
            }
            Node::Array(elements) => {
                let mut array = Vec::new();
                let mut any = Vec::new();
                for e in elements {
                    any.clear();
                    e.encode(&mut any);
                    put_len_field(&mut array, 1, &any);
                }
                put_len_field(out, 5, &array);
            }
        }
    }
}
