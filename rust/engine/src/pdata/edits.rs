//! The edit list: the attribute changes processors made to a batch, as the
//! operations Go replays on its own `pdata`.
//!
//! It lists, in batch order, the attribute maps that changed and the
//! operations, on the map as Go marshalled it, that turn it into the map
//! the processors left (`index.rs` keeps them as processors edit).
//!
//! # The format Go reads
//!
//! Integers are little-endian. The edit list is the layers back to back
//! (each pass of a chain records one; the list that crosses to Go has
//! them merged into one, see `index.rs`, but Go reads any number):
//!
//! ```text
//! layer  := u32 n_maps, map{n_maps}
//! map    := u8 target_kind, u32 resource, u32 scope, u32 item, u32 sub, u32 n_ops, op{n_ops}
//! op     := u8 OP_SET_AT, u32 index, value       // replace the value of entry `index`
//!         | u8 OP_APPEND, bytes key, value       // append an entry (the key is absent)
//!         | u8 OP_REMOVE, bytes key              // pcommon.Map.Remove(key)
//!         | u8 OP_RETAIN, u32 n, u8 mask[(n+7)/8]// pcommon.Map.RemoveIf: keep entry i when bit i is set
//!         | u8 OP_SKIP, u32 n, u8{n}             // nothing: a set a later set of the same entry made void
//! value  := u8 VALUE_EMPTY | u8 VALUE_STR, bytes | u8 VALUE_BOOL, u8 | u8 VALUE_INT, i64
//!         | u8 VALUE_DOUBLE, u64 (IEEE-754 bits) | u8 VALUE_BYTES, bytes | u8 VALUE_RAW, bytes (an encoded AnyValue)
//! bytes  := u32 len, u8{len}
//! ```
//!
//! A `TargetKind::LogBody` target is a log record's body seen as a map of
//! one entry: its only operation is `OP_SET_AT 0`, which replaces the
//! body. A `TargetKind::SpanName` target is a span's name, the same way
//! (`OP_SET_AT 0` with a string). They are in the list only for
//! processors that declared `DataAccess::AttributesAndRecordFields`.
//!
//! A target names one attribute map: `resource` is the index in
//! `ResourceSpans`/`ResourceLogs`/`ResourceMetrics`, `scope` the index of
//! the scope in it, `item` the span, log record or metric, `sub` the span
//! event, span link or data point. Unused indexes are 0.
//!
//! A value set twice (by two processors of a chain, say) is written once:
//! when the later value's encoding has the earlier one's length (a hash
//! replacing a hash, an int an int), it is written over the earlier set's
//! value and nothing is recorded; otherwise the later set turns the
//! earlier one into `OP_SKIP` in place. Either way Go makes one value, not
//! two, and a chain whose later processors only rewrite values adds no
//! layer. Nothing between the two sets can depend on the value
//! (operations select entries by key or position), so the result is the
//! same.

use std::cmp::Ordering;

use super::attributes::put_u32;

/// The constants of the edit list format, shared with Go (the bridge's
/// generated C header carries them).
pub mod format {
    /// Replace the value of an entry.
    pub const OP_SET_AT: u8 = 1;
    /// Append an entry.
    pub const OP_APPEND: u8 = 2;
    /// Remove the first entry with a key, moving the last one into its place.
    pub const OP_REMOVE: u8 = 3;
    /// Keep the entries a mask selects, in order.
    pub const OP_RETAIN: u8 = 4;
    /// Skip bytes: an operation a later one made void.
    pub const OP_SKIP: u8 = 5;

    /// No value.
    pub const VALUE_EMPTY: u8 = 0;
    /// A string.
    pub const VALUE_STR: u8 = 1;
    /// A boolean.
    pub const VALUE_BOOL: u8 = 2;
    /// A 64-bit integer.
    pub const VALUE_INT: u8 = 3;
    /// A 64-bit float.
    pub const VALUE_DOUBLE: u8 = 4;
    /// A byte string.
    pub const VALUE_BYTES: u8 = 5;
    /// An encoded `AnyValue` (arrays and maps).
    pub const VALUE_RAW: u8 = 6;
}

/// Which attribute map of a batch a target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TargetKind {
    /// `Resource.attributes`.
    Resource = 1,
    /// `InstrumentationScope.attributes`.
    Scope = 2,
    /// `Span.attributes`.
    Span = 3,
    /// `Span.Event.attributes`.
    SpanEvent = 4,
    /// `Span.Link.attributes`.
    SpanLink = 5,
    /// `LogRecord.attributes`.
    LogRecord = 6,
    /// `NumberDataPoint.attributes` (gauges and sums).
    NumberDataPoint = 7,
    /// `HistogramDataPoint.attributes`.
    HistogramDataPoint = 8,
    /// `ExponentialHistogramDataPoint.attributes`.
    ExponentialHistogramDataPoint = 9,
    /// `SummaryDataPoint.attributes`.
    SummaryDataPoint = 10,
    /// `LogRecord.body`, as a map of one entry with an empty key.
    LogBody = 11,
    /// `Span.name`, as a map of one entry (a string).
    SpanName = 12,
}

impl TargetKind {
    /// True for the maps of the items themselves: spans, log records and
    /// metric data points.
    pub fn is_record(self) -> bool {
        matches!(
            self,
            TargetKind::Span
                | TargetKind::LogRecord
                | TargetKind::NumberDataPoint
                | TargetKind::HistogramDataPoint
                | TargetKind::ExponentialHistogramDataPoint
                | TargetKind::SummaryDataPoint
        )
    }
}

/// One attribute map of a batch: its kind and its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// Which map.
    pub kind: TargetKind,
    /// Index of the resource.
    pub resource: u32,
    /// Index of the scope within the resource (0 for a resource target).
    pub scope: u32,
    /// Index of the span, log record or metric within the scope.
    pub item: u32,
    /// Index of the span event, span link or data point.
    pub sub: u32,
}

impl Target {
    /// The key that orders targets as the walker visits them: a resource,
    /// then each of its scopes, each scope before its items, each item
    /// before its events, links or data points.
    pub(crate) fn sort_key(&self) -> [u32; 5] {
        let (r, s, i, sub) = (self.resource, self.scope + 1, self.item + 1, self.sub + 1);
        match self.kind {
            TargetKind::Resource => [r, 0, 0, 0, 0],
            TargetKind::Scope => [r, s, 0, 0, 0],
            TargetKind::Span | TargetKind::LogRecord => [r, s, i, 0, 0],
            k => [r, s, i, k as u32, sub],
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(self.kind as u8);
        for v in [self.resource, self.scope, self.item, self.sub] {
            put_u32(out, v);
        }
    }
}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Target {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

/// Which attribute maps a walk visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Select(u8);

impl Select {
    /// Resource attributes.
    pub const RESOURCE: Select = Select(1);
    /// Instrumentation scope attributes.
    pub const SCOPE: Select = Select(2);
    /// Span, log record and data point attributes.
    pub const RECORDS: Select = Select(4);
    /// Span event attributes.
    pub const SPAN_EVENTS: Select = Select(8);
    /// Span link attributes.
    pub const SPAN_LINKS: Select = Select(16);
    /// Every attribute map.
    pub const ALL: Select = Select(31);
    /// Log bodies (only through `OtlpData::edit_log_bodies`).
    pub(crate) const LOG_BODIES: Select = Select(32);
    /// Span names (only through `OtlpData::edit_span_names`).
    pub(crate) const SPAN_NAMES: Select = Select(64);

    /// Both selections.
    pub const fn union(self, other: Select) -> Select {
        Select(self.0 | other.0)
    }

    /// Whether maps of `kind` are selected.
    pub fn includes(self, kind: TargetKind) -> bool {
        let bit = match kind {
            TargetKind::Resource => Self::RESOURCE,
            TargetKind::Scope => Self::SCOPE,
            TargetKind::SpanEvent => Self::SPAN_EVENTS,
            TargetKind::SpanLink => Self::SPAN_LINKS,
            TargetKind::LogBody => Self::LOG_BODIES,
            TargetKind::SpanName => Self::SPAN_NAMES,
            _ => Self::RECORDS,
        };
        self.0 & bit.0 != 0
    }
}
