//! Walking the attribute maps of an encoded batch, and splicing edited maps
//! back into the encoding.
//!
//! The OTLP messages are described once, as a small schema of which field
//! holds a message's attributes and which fields lead to its children; the
//! indexer and the splicer both interpret it, so they agree on what a
//! [`Target`] names. The indexer lists maps in the order of
//! [`Target::sort_key`] whatever the field order of the encoding (the Go
//! collector writes fields in descending number order, prost in
//! ascending).

use std::collections::BTreeMap;

use super::attributes::{RawEntry, Span};
use super::edits::{Target, TargetKind};
use super::index::AttrIndex;
use super::value::split_key_value;
use super::wire::{self, WireError};
use super::Signal;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Level {
    Same,
    Resource,
    Scope,
    Item,
    Sub,
}

pub(crate) struct Child {
    field: u32,
    node: &'static Node,
    level: Level,
}

pub(crate) struct Node {
    target: Option<TargetKind>,
    attrs_field: u32,
    /// A field of the record read and replaced whole (a log body, a span
    /// name), indexed as a map of one entry.
    field: Option<RecordField>,
    children: &'static [Child],
}

/// How a record field is indexed: its one entry's value is the field's
/// payload (an encoded `AnyValue` for a log body, the string itself for a
/// span name, which `SpanName` reads as such); the entry's key is the
/// payload of `key_field` if any (a span's kind, a varint).
#[derive(Clone, Copy)]
pub(crate) struct RecordField {
    pub(crate) kind: TargetKind,
    pub(crate) field: u32,
    key_field: u32,
}

const fn leaf(kind: TargetKind, attrs_field: u32) -> Node {
    Node {
        target: Some(kind),
        attrs_field,
        field: None,
        children: &[],
    }
}

const fn inner(children: &'static [Child]) -> Node {
    Node {
        target: None,
        attrs_field: 0,
        field: None,
        children,
    }
}

const fn child(field: u32, node: &'static Node, level: Level) -> Child {
    Child { field, node, level }
}

static RESOURCE: Node = leaf(TargetKind::Resource, 1);
static SCOPE: Node = leaf(TargetKind::Scope, 3);

static SPAN_EVENT: Node = leaf(TargetKind::SpanEvent, 3);
static SPAN_LINK: Node = leaf(TargetKind::SpanLink, 4);
static SPAN: Node = Node {
    target: Some(TargetKind::Span),
    attrs_field: 9,
    field: Some(RecordField {
        kind: TargetKind::SpanName,
        field: 5,
        key_field: 6,
    }),
    children: &[
        child(11, &SPAN_EVENT, Level::Sub),
        child(13, &SPAN_LINK, Level::Sub),
    ],
};
static SCOPE_SPANS: Node = inner(&[child(1, &SCOPE, Level::Same), child(2, &SPAN, Level::Item)]);
static RESOURCE_SPANS: Node = inner(&[
    child(1, &RESOURCE, Level::Same),
    child(2, &SCOPE_SPANS, Level::Scope),
]);
static TRACES_DATA: Node = inner(&[child(1, &RESOURCE_SPANS, Level::Resource)]);

static LOG_RECORD: Node = Node {
    target: Some(TargetKind::LogRecord),
    attrs_field: 6,
    field: Some(RecordField {
        kind: TargetKind::LogBody,
        field: 5,
        key_field: 0,
    }),
    children: &[],
};
static SCOPE_LOGS: Node = inner(&[
    child(1, &SCOPE, Level::Same),
    child(2, &LOG_RECORD, Level::Item),
]);
static RESOURCE_LOGS: Node = inner(&[
    child(1, &RESOURCE, Level::Same),
    child(2, &SCOPE_LOGS, Level::Scope),
]);
static LOGS_DATA: Node = inner(&[child(1, &RESOURCE_LOGS, Level::Resource)]);

static NUMBER_DP: Node = leaf(TargetKind::NumberDataPoint, 7);
static HISTOGRAM_DP: Node = leaf(TargetKind::HistogramDataPoint, 9);
static EXP_HISTOGRAM_DP: Node = leaf(TargetKind::ExponentialHistogramDataPoint, 1);
static SUMMARY_DP: Node = leaf(TargetKind::SummaryDataPoint, 7);
static GAUGE: Node = inner(&[child(1, &NUMBER_DP, Level::Sub)]);
static SUM: Node = inner(&[child(1, &NUMBER_DP, Level::Sub)]);
static HISTOGRAM: Node = inner(&[child(1, &HISTOGRAM_DP, Level::Sub)]);
static EXP_HISTOGRAM: Node = inner(&[child(1, &EXP_HISTOGRAM_DP, Level::Sub)]);
static SUMMARY: Node = inner(&[child(1, &SUMMARY_DP, Level::Sub)]);
static METRIC: Node = inner(&[
    child(5, &GAUGE, Level::Same),
    child(7, &SUM, Level::Same),
    child(9, &HISTOGRAM, Level::Same),
    child(10, &EXP_HISTOGRAM, Level::Same),
    child(11, &SUMMARY, Level::Same),
]);
static SCOPE_METRICS: Node = inner(&[
    child(1, &SCOPE, Level::Same),
    child(2, &METRIC, Level::Item),
]);
static RESOURCE_METRICS: Node = inner(&[
    child(1, &RESOURCE, Level::Same),
    child(2, &SCOPE_METRICS, Level::Scope),
]);
static METRICS_DATA: Node = inner(&[child(1, &RESOURCE_METRICS, Level::Resource)]);

pub(crate) fn root(signal: Signal) -> &'static Node {
    match signal {
        Signal::Traces => &TRACES_DATA,
        Signal::Metrics => &METRICS_DATA,
        Signal::Logs => &LOGS_DATA,
    }
}

/// Where the walk is: the indexes filled so far.
#[derive(Debug, Clone, Copy, Default)]
struct Path {
    depth: u8,
    resource: u32,
    scope: u32,
    item: u32,
    sub: u32,
    sub_kind: u32,
}

impl Path {
    fn descend(self, level: Level, index: u32, kind: Option<TargetKind>) -> Path {
        let mut p = self;
        match level {
            Level::Same => {}
            Level::Resource => {
                p.resource = index;
                p.depth = 1;
            }
            Level::Scope => {
                p.scope = index;
                p.depth = 2;
            }
            Level::Item => {
                p.item = index;
                p.depth = 3;
            }
            Level::Sub => {
                p.sub = index;
                p.sub_kind = kind.map_or(0, |k| k as u32);
                p.depth = 4;
            }
        }
        p
    }

    fn target(self, kind: TargetKind) -> Target {
        Target {
            kind,
            resource: self.resource,
            scope: self.scope,
            item: self.item,
            sub: self.sub,
        }
    }

    /// The sort keys of every target at or below this point.
    fn range(self) -> ([u32; 5], [u32; 5]) {
        let m = u32::MAX;
        let (r, s, i) = (self.resource, self.scope + 1, self.item + 1);
        match self.depth {
            0 => ([0; 5], [m; 5]),
            1 => ([r, 0, 0, 0, 0], [r, m, m, m, m]),
            2 => ([r, s, 0, 0, 0], [r, s, m, m, m]),
            3 => ([r, s, i, 0, 0], [r, s, i, m, m]),
            _ => {
                let k = [r, s, i, self.sub_kind, self.sub + 1];
                (k, k)
            }
        }
    }
}

type Kids<'a> = Vec<(usize, u32, &'a [u8])>;

/// Finds every attribute map of an encoded batch, in target order, and
/// records where its entries are. With `fields`, each log record's body
/// and each span's name (and kind) are indexed too, as maps of one entry
/// (an absent field is an empty value) after the record's other maps.
pub(crate) fn build_index(
    batch: &[u8],
    signal: Signal,
    fields: bool,
    index: &mut AttrIndex,
) -> Result<(), WireError> {
    let mut kids: Vec<Kids<'_>> = Vec::new();
    visit(
        batch,
        batch,
        root(signal),
        Path::default(),
        0,
        fields,
        &mut kids,
        index,
    )
}

#[allow(clippy::too_many_arguments)]
fn visit<'a>(
    batch: &'a [u8],
    msg: &'a [u8],
    node: &'static Node,
    path: Path,
    depth: usize,
    fields: bool,
    kids_by_depth: &mut Vec<Kids<'a>>,
    index: &mut AttrIndex,
) -> Result<(), WireError> {
    if kids_by_depth.len() <= depth {
        kids_by_depth.push(Vec::new());
    }
    let mut kids = std::mem::take(&mut kids_by_depth[depth]);
    kids.clear();
    let map = node
        .target
        .map(|kind| index.open_map(path.target(kind), node.attrs_field));
    let mut counters = [0u32; 5];
    let record_field = node.field.filter(|_| fields);
    let (mut value, mut key): (&[u8], &[u8]) = (&[], &[]);
    for field in wire::fields(msg) {
        let field = field?;
        if let Some(rf) = record_field {
            // Go writes each once; a repeated one is taken as its last.
            if field.number == rf.field {
                value = wire::expect_len(field.value, "record field with a wrong wire type")?;
                continue;
            }
            if field.number == rf.key_field {
                // The payload after the one-byte tag (fields below 16).
                key = &field.raw[1..];
                continue;
            }
        }
        if map.is_some() && field.number == node.attrs_field {
            let kv = wire::expect_len(field.value, "attribute with a wrong wire type")?;
            let (key, value) = split_key_value(kv)?;
            index.push_entry(RawEntry {
                key: Span::of(batch, key),
                value: Span::of(batch, value),
            });
        } else if let Some(ci) = node.children.iter().position(|c| c.field == field.number) {
            let payload = wire::expect_len(field.value, "nested message with a wrong wire type")?;
            kids.push((ci, counters[ci], payload));
            counters[ci] += 1;
        }
    }
    if let Some(map) = map {
        index.close_map(map);
    }
    // Children in target order, whatever the field order was.
    kids.sort_by_key(|(ci, idx, _)| (*ci, *idx));
    for &(ci, idx, payload) in &kids {
        let c = &node.children[ci];
        visit(
            batch,
            payload,
            c.node,
            path.descend(c.level, idx, c.node.target),
            depth + 1,
            fields,
            kids_by_depth,
            index,
        )?;
    }
    kids_by_depth[depth] = kids;
    // After the record's children, so that maps stay in target order.
    if let Some(rf) = record_field {
        let map = index.open_map(path.target(rf.kind), rf.field);
        index.push_entry(RawEntry {
            key: Span::of(batch, key),
            value: Span::of(batch, value),
        });
        index.close_map(map);
    }
    Ok(())
}

/// Re-encodes `batch` with the maps in `finals` replaced; every message
/// without a changed map below it is copied as it is.
pub(crate) fn splice(
    batch: &[u8],
    signal: Signal,
    finals: &BTreeMap<[u32; 5], Vec<u8>>,
) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(batch.len() + batch.len() / 8);
    splice_node(batch, root(signal), Path::default(), finals, &mut out)?;
    Ok(out)
}

fn splice_node(
    msg: &[u8],
    node: &'static Node,
    path: Path,
    finals: &BTreeMap<[u32; 5], Vec<u8>>,
    out: &mut Vec<u8>,
) -> Result<(), WireError> {
    let (lo, hi) = path.range();
    if finals.range(lo..=hi).next().is_none() {
        out.extend_from_slice(msg);
        return Ok(());
    }
    let replacement = node
        .target
        .and_then(|k| finals.get(&path.target(k).sort_key()));
    let record_field = node
        .field
        .and_then(|rf| Some((rf.field, finals.get(&path.target(rf.kind).sort_key())?)));
    let mut replaced = false;
    let mut field_replaced = false;
    let mut counters = [0u32; 5];
    let mut tmp = Vec::new();
    for field in wire::fields(msg) {
        let field = field?;
        if let Some(new_attrs) = replacement {
            if field.number == node.attrs_field {
                if !replaced {
                    out.extend_from_slice(new_attrs);
                    replaced = true;
                }
                continue;
            }
        }
        if let Some((number, new_field)) = record_field {
            if field.number == number {
                if !field_replaced {
                    out.extend_from_slice(new_field);
                    field_replaced = true;
                }
                continue;
            }
        }
        if let Some(ci) = node.children.iter().position(|c| c.field == field.number) {
            let c = &node.children[ci];
            let payload = wire::expect_len(field.value, "nested message with a wrong wire type")?;
            let child_path = path.descend(c.level, counters[ci], c.node.target);
            counters[ci] += 1;
            tmp.clear();
            splice_node(payload, c.node, child_path, finals, &mut tmp)?;
            wire::put_len_field(out, field.number, &tmp);
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    if let (Some(new_attrs), false) = (replacement, replaced) {
        out.extend_from_slice(new_attrs);
    }
    if let (Some((_, new_field)), false) = (record_field, field_replaced) {
        out.extend_from_slice(new_field);
    }
    Ok(())
}
