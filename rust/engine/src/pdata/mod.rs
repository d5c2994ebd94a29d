//! OTLP pipeline data: read in place, edited as operations, decoded only
//! when a processor asks for owned types.
//!
//! The bridge hands a processor the exact bytes the Go collector marshalled.
//! What a processor does with them decides what crosses back to Go:
//!
//! | the processor | the data is | Go |
//! |---|---|---|
//! | only reads it ([`OtlpData::visit_attributes`], [`OtlpData::item_count`]) | original | forwards its own `pdata` |
//! | edits attributes ([`OtlpData::edit_attributes`]) | original plus edit layers | replays the edits on its own `pdata`: no unmarshal |
//! | asks for owned types ([`OtlpData::traces_mut`] and friends) | decoded and changed | unmarshals the re-encoded batch |
//!
//! Reading and editing work on the encoding itself ([`wire`], zero-copy
//! views): no attribute is copied unless it is written, strings that are not
//! valid UTF-8 are carried byte for byte, and nested values stay encoded at
//! any depth. Owned types are prost's (`opentelemetry-proto`): they need
//! valid UTF-8 and a bounded nesting depth, so they are the slow and strict
//! path, for processors that restructure data.

mod attributes;
mod count;
mod edits;
mod index;
mod value;
mod walk;
pub mod wire;

use std::borrow::Cow;

use bytes::Bytes;
use opentelemetry_proto::tonic::logs::v1::LogsData;
use opentelemetry_proto::tonic::metrics::v1::MetricsData;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message as _;

pub use attributes::{Attributes, LogBody, SpanName};
pub use edits::{format as edit_format, Select, Target, TargetKind};
pub use value::{RawAnyValue, Value, ValueRef};

use crate::ProcessingError;
use index::{AttrIndex, PooledIndex};

/// The three OTLP signals a processor can handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Signal {
    /// Spans.
    Traces = 0,
    /// Metric data points.
    Metrics = 1,
    /// Log records.
    Logs = 2,
}

impl Signal {
    /// The signal's name as the Collector writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// The signal for its wire number, as the bridge passes it.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Signal::Traces),
            1 => Some(Signal::Metrics),
            2 => Some(Signal::Logs),
            _ => None,
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
enum Repr {
    /// Encoded OTLP, with its attribute index once a processor read or
    /// edited attributes (and the edited maps' state in it). `original` is
    /// true while the bytes are the very bytes the request brought in.
    Encoded {
        bytes: Bytes,
        original: bool,
        index: Option<PooledIndex>,
    },
    Traces(TracesData),
    Metrics(MetricsData),
    Logs(LogsData),
}

/// A batch of OTLP traces, metrics or logs.
#[derive(Debug, Clone)]
pub struct OtlpData {
    signal: Signal,
    repr: Repr,
    /// The bytes hold only the batch's attribute maps (the processors
    /// declared [`DataAccess::Attributes`](crate::DataAccess)).
    attributes_only: bool,
    /// The record fields (log bodies, span names and kinds) are in the
    /// bytes: always, unless only the attribute maps were sent.
    record_fields: bool,
    /// No bytes at all: only the counts below (the processors declared
    /// [`DataAccess::Counts`](crate::DataAccess)).
    counts_only: bool,
    /// The item count and encoded size Go measured on its own pdata, valid
    /// while the data is the request's original (edits may change the
    /// size, never the count).
    counts: Option<Counts>,
}

/// What Go measured of a request's batch without marshalling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Spans, metric data points or log records.
    pub items: u64,
    /// Bytes of the batch's OTLP protobuf encoding.
    pub encoded_size: u64,
}

/// How a batch leaves Rust: what the bridge tells Go.
#[derive(Debug)]
pub enum Outgoing<'a> {
    /// The request's original bytes, unchanged: Go forwards its own data.
    Original,
    /// The original with attribute edits (the edit list format of
    /// [`edit_format`]): Go applies them to its own data.
    Edits(Cow<'a, [u8]>),
    /// A complete encoded batch: Go unmarshals it.
    Encoded(Cow<'a, [u8]>),
}

fn invalid(signal: Signal, err: impl std::fmt::Display) -> ProcessingError {
    ProcessingError::invalid_data(signal, err.to_string())
}

macro_rules! typed_access {
    ($(#[$doc:meta])* $name:ident, $read:ident, $variant:ident, $ty:ty, $signal:expr) => {
        $(#[$doc])*
        pub fn $name(&mut self) -> Result<&mut $ty, ProcessingError> {
            self.check_signal($signal)?;
            // Go's counts were of the batch before this change.
            self.counts = None;
            if let Repr::Encoded { .. } = &self.repr {
                let bytes = self.to_encoded()?;
                let decoded = <$ty>::decode(bytes.as_ref()).map_err(|e| invalid(self.signal, e))?;
                self.repr = Repr::$variant(decoded);
            }
            match &mut self.repr {
                Repr::$variant(data) => Ok(data),
                _ => unreachable!("the signal check above guarantees the variant"),
            }
        }

        /// A decoded copy, for reading; the batch stays as it is (and
        /// original if it was). Decoding copies every string: prefer
        /// [`visit_attributes`](Self::visit_attributes) where it is enough.
        pub fn $read(&self) -> Result<$ty, ProcessingError> {
            self.check_signal($signal)?;
            match &self.repr {
                Repr::$variant(data) => Ok(data.clone()),
                _ => <$ty>::decode(self.to_encoded()?.as_ref()).map_err(|e| invalid(self.signal, e)),
            }
        }
    };
}

impl OtlpData {
    /// The bytes a request brought in, unchanged. Only the bridge makes these.
    pub fn from_original(signal: Signal, bytes: Bytes) -> Self {
        OtlpData {
            signal,
            repr: Repr::Encoded {
                bytes,
                original: true,
                index: None,
            },
            attributes_only: false,
            record_fields: true,
            counts_only: false,
            counts: None,
        }
    }

    /// The attribute maps of a request's batch, as the bridge sends them to
    /// processors that declared [`DataAccess::Attributes`](crate::DataAccess):
    /// the message tree of the batch with only its attribute maps. Reads
    /// and edits of attributes work as on the whole batch; asking for
    /// anything else is an error.
    pub fn from_attributes_of_original(signal: Signal, bytes: Bytes) -> Self {
        OtlpData {
            attributes_only: true,
            record_fields: false,
            ..OtlpData::from_original(signal, bytes)
        }
    }

    /// The attribute maps, log bodies and span names and kinds of a
    /// request's batch, as the bridge sends them to processors that declared
    /// [`DataAccess::AttributesAndRecordFields`](crate::DataAccess): the
    /// projection of [`from_attributes_of_original`](Self::from_attributes_of_original)
    /// with each log record's body (field 5) and each span's name and kind
    /// (fields 1 and 6) in it.
    pub fn from_attributes_and_record_fields_of_original(signal: Signal, bytes: Bytes) -> Self {
        OtlpData {
            attributes_only: true,
            record_fields: true,
            ..OtlpData::from_original(signal, bytes)
        }
    }

    /// What the bridge sends processors that declared
    /// [`DataAccess::Counts`](crate::DataAccess): no bytes, only the item
    /// count and encoded size of the request's batch, which Go measures
    /// without marshalling it. [`item_count`](Self::item_count) and
    /// [`encoded_size`](Self::encoded_size) answer; anything that needs
    /// the data is an error; the batch leaves Rust as Go's own.
    pub fn from_counts_of_original(signal: Signal, counts: Counts) -> Self {
        OtlpData {
            counts_only: true,
            record_fields: false,
            counts: Some(counts),
            ..OtlpData::from_original(signal, Bytes::new())
        }
    }

    /// The same data, with the counts Go measured of it (the bridge adds
    /// them to a whole batch or an attribute projection when a processor
    /// of the component declared [`DataAccess::Counts`](crate::DataAccess)).
    pub fn with_counts(mut self, counts: Counts) -> Self {
        self.counts = Some(counts);
        self
    }

    /// True when only the attribute maps of the batch are here.
    pub fn is_attributes_only(&self) -> bool {
        self.attributes_only
    }

    /// True when only the counts of the batch are here.
    pub fn is_counts_only(&self) -> bool {
        self.counts_only
    }

    fn no_data(&self, what: &str) -> Result<(), ProcessingError> {
        if self.counts_only {
            return Err(ProcessingError::permanent(format!(
                "only the item count and size of this {} batch are in Rust (the processor declared DataAccess::Counts): \
                 {what} cannot be read",
                self.signal
            )));
        }
        Ok(())
    }

    /// Encoded OTLP (`TracesData`, `MetricsData` or `LogsData`) that is not
    /// the request's original.
    pub fn from_encoded(signal: Signal, bytes: Bytes) -> Self {
        OtlpData {
            signal,
            repr: Repr::Encoded {
                bytes,
                original: false,
                index: None,
            },
            attributes_only: false,
            record_fields: true,
            counts_only: false,
            counts: None,
        }
    }

    /// Typed traces.
    pub fn from_traces(data: TracesData) -> Self {
        OtlpData {
            signal: Signal::Traces,
            repr: Repr::Traces(data),
            attributes_only: false,
            record_fields: true,
            counts_only: false,
            counts: None,
        }
    }

    /// Typed metrics.
    pub fn from_metrics(data: MetricsData) -> Self {
        OtlpData {
            signal: Signal::Metrics,
            repr: Repr::Metrics(data),
            attributes_only: false,
            record_fields: true,
            counts_only: false,
            counts: None,
        }
    }

    /// Typed logs.
    pub fn from_logs(data: LogsData) -> Self {
        OtlpData {
            signal: Signal::Logs,
            repr: Repr::Logs(data),
            attributes_only: false,
            record_fields: true,
            counts_only: false,
            counts: None,
        }
    }

    /// Which signal the batch holds.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    fn check_signal(&self, want: Signal) -> Result<(), ProcessingError> {
        if self.signal != want {
            return Err(ProcessingError::invalid_data(
                self.signal,
                format!("asked for {want} but the batch holds {}", self.signal),
            ));
        }
        Ok(())
    }

    /// True while the batch is exactly what the request brought in: nothing
    /// edited or decoded it for writing. The bridge then forwards Go's
    /// original data.
    pub fn is_original(&self) -> bool {
        matches!(&self.repr, Repr::Encoded { original: true, .. }) && !self.has_edits()
    }

    /// True when attribute edits are recorded on top of the encoding.
    pub fn has_edits(&self) -> bool {
        matches!(&self.repr, Repr::Encoded { index: Some(i), .. } if i.get().has_edits())
    }

    /// Visits the attribute maps `select` names, in batch order, for
    /// reading. The batch stays as it is (it keeps the index it builds, for
    /// the processors after this one).
    pub fn visit_attributes(
        &mut self,
        select: Select,
        mut f: impl FnMut(Target, &Attributes<'_>),
    ) -> Result<(), ProcessingError> {
        self.no_data("its attributes")?;
        if !matches!(self.repr, Repr::Encoded { .. }) {
            let encoded = self.to_encoded()?;
            let mut index = AttrIndex::build(&encoded, self.signal, true)
                .map_err(|e| invalid(self.signal, e))?;
            index.get_mut().visit(&encoded, select, |t, a| f(t, a));
            return Ok(());
        }
        let (signal, fields) = (self.signal, self.record_fields);
        let Repr::Encoded { bytes, index, .. } = &mut self.repr else {
            unreachable!("checked above")
        };
        if index.is_none() {
            *index = Some(AttrIndex::build(bytes, signal, fields).map_err(|e| invalid(signal, e))?);
        }
        index
            .as_mut()
            .expect("built above")
            .get_mut()
            .visit(bytes, select, |t, a| f(t, a));
        Ok(())
    }

    /// Visits the attribute maps `select` names, in batch order, with an
    /// editor that behaves like `pcommon.Map`. Only what the closure
    /// changes is recorded; a pass that changes nothing leaves the batch as
    /// it was (original, if it was).
    pub fn edit_attributes(
        &mut self,
        select: Select,
        mut f: impl FnMut(Target, &mut Attributes<'_>),
    ) -> Result<(), ProcessingError> {
        self.no_data("its attributes")?;
        if !matches!(self.repr, Repr::Encoded { .. }) {
            let bytes = Bytes::from(self.to_encoded()?.into_owned());
            self.repr = Repr::Encoded {
                bytes,
                original: false,
                index: None,
            };
        }
        let (signal, fields) = (self.signal, self.record_fields);
        let Repr::Encoded { bytes, index, .. } = &mut self.repr else {
            unreachable!("made encoded above")
        };
        if index.is_none() {
            *index = Some(AttrIndex::build(bytes, signal, fields).map_err(|e| invalid(signal, e))?);
        }
        let index = index.as_mut().expect("built above");
        index.get_mut().edit(bytes, select, |t, a| f(t, a));
        Ok(())
    }

    /// Visits the body of every log record, in batch order, for reading
    /// and replacing ([`LogBody`]); the target names the record
    /// ([`TargetKind::LogBody`], with the record's indexes). Like
    /// attribute edits, a replaced body travels to Go as an edit, and a
    /// pass that replaces nothing leaves the batch as it was. Batches of
    /// other signals have no bodies: nothing is visited. An error when
    /// only the attribute maps are in Rust (the processor declared
    /// [`DataAccess::Attributes`](crate::DataAccess), not
    /// `AttributesAndRecordFields`).
    pub fn edit_log_bodies(
        &mut self,
        mut f: impl FnMut(Target, &mut LogBody<'_, '_>),
    ) -> Result<(), ProcessingError> {
        self.check_record_fields("log bodies")?;
        self.edit_attributes(Select::LOG_BODIES, |t, attrs| f(t, &mut LogBody { attrs }))
    }

    /// Visits the name of every span, in batch order, for reading and
    /// replacing ([`SpanName`], which also tells the span's kind); the
    /// target names the span ([`TargetKind::SpanName`]). As
    /// [`edit_log_bodies`](Self::edit_log_bodies) for bodies.
    pub fn edit_span_names(
        &mut self,
        mut f: impl FnMut(Target, &mut SpanName<'_, '_>),
    ) -> Result<(), ProcessingError> {
        self.check_record_fields("span names")?;
        self.edit_attributes(Select::SPAN_NAMES, |t, attrs| f(t, &mut SpanName { attrs }))
    }

    fn check_record_fields(&self, what: &str) -> Result<(), ProcessingError> {
        self.no_data(what)?;
        if self.record_fields {
            return Ok(());
        }
        Err(ProcessingError::permanent(format!(
            "the {what} of this {} batch are not in Rust (the processor declared \
             DataAccess::Attributes, not AttributesAndRecordFields)",
            self.signal
        )))
    }

    /// The number of spans, log records or metric data points, counted
    /// without decoding (edits do not change it).
    pub fn item_count(&self) -> Result<u64, ProcessingError> {
        if let Some(c) = self.counts {
            return Ok(c.items);
        }
        let bytes = match &self.repr {
            Repr::Encoded { bytes, .. } => Cow::Borrowed(bytes.as_ref()),
            _ => self.to_encoded()?,
        };
        count::count_items(self.signal, &bytes).map_err(|e| invalid(self.signal, e))
    }

    /// The size in bytes of the batch's OTLP protobuf encoding, with any
    /// edits made so far: Go's measure of its own batch while nothing
    /// changed it, else the length of [`to_encoded`](Self::to_encoded).
    pub fn encoded_size(&self) -> Result<u64, ProcessingError> {
        match self.counts {
            Some(c) if self.is_original() => Ok(c.encoded_size),
            _ => {
                self.no_data("the size of its edited encoding")?;
                Ok(self.to_encoded()?.len() as u64)
            }
        }
    }

    /// The batch as OTLP protobuf bytes: the original, the edits spliced
    /// into it, or the decoded data encoded.
    pub fn to_encoded(&self) -> Result<Cow<'_, [u8]>, ProcessingError> {
        self.no_data("the whole batch")?;
        if self.attributes_only {
            return Err(ProcessingError::permanent(format!(
                "only the attribute maps of this {} batch are in Rust (the processor declared DataAccess::Attributes): \
                 the whole batch cannot be read or re-encoded",
                self.signal
            )));
        }
        Ok(match &self.repr {
            Repr::Encoded {
                bytes,
                index: Some(index),
                ..
            } if index.get().has_edits() => {
                let finals = index.get().finals(bytes);
                Cow::Owned(
                    walk::splice(bytes, self.signal, &finals)
                        .map_err(|e| invalid(self.signal, e))?,
                )
            }
            Repr::Encoded { bytes, .. } => Cow::Borrowed(bytes.as_ref()),
            Repr::Traces(data) => Cow::Owned(data.encode_to_vec()),
            Repr::Metrics(data) => Cow::Owned(data.encode_to_vec()),
            Repr::Logs(data) => Cow::Owned(data.encode_to_vec()),
        })
    }

    /// What crosses back to Go for this batch. `edits_allowed` is false when
    /// Go may not change the request's data in place (the processor does
    /// not declare `mutates_data`, or the data was already handed on):
    /// edits are then spliced into a complete encoding.
    pub fn outgoing(&self, edits_allowed: bool) -> Result<Outgoing<'_>, ProcessingError> {
        match &self.repr {
            Repr::Encoded { original: true, .. } if !self.has_edits() => Ok(Outgoing::Original),
            Repr::Encoded {
                bytes,
                original: true,
                index: Some(index),
            } if edits_allowed => Ok(Outgoing::Edits(index.get().edit_list())),
            _ => Ok(Outgoing::Encoded(self.to_encoded()?)),
        }
    }

    typed_access!(
        /// The traces as owned prost types, decoded on first use. Access
        /// through `&mut` marks the batch as changed: Go will unmarshal it.
        traces_mut, traces, Traces, TracesData, Signal::Traces
    );
    typed_access!(
        /// The metrics as owned prost types; marks the batch as changed.
        metrics_mut, metrics, Metrics, MetricsData, Signal::Metrics
    );
    typed_access!(
        /// The logs as owned prost types; marks the batch as changed.
        logs_mut, logs, Logs, LogsData, Signal::Logs
    );

    /// The batch as OTLP protobuf bytes, consuming it.
    pub fn into_encoded(self) -> Result<Bytes, ProcessingError> {
        self.no_data("the whole batch")?;
        if self.attributes_only {
            return self.to_encoded().map(|b| Bytes::from(b.into_owned()));
        }
        if self.has_edits() {
            return Ok(Bytes::from(self.to_encoded()?.into_owned()));
        }
        match self.repr {
            Repr::Encoded { bytes, .. } => Ok(bytes),
            _ => Ok(Bytes::from(self.to_encoded()?.into_owned())),
        }
    }
}

#[cfg(test)]
mod edit_tests;

#[cfg(test)]
mod counts_tests {
    use super::*;

    const COUNTS: Counts = Counts {
        items: 7,
        encoded_size: 1234,
    };

    #[test]
    fn counts_only_answers_counts_and_refuses_the_rest() {
        let mut data = OtlpData::from_counts_of_original(Signal::Logs, COUNTS);
        assert!(data.is_counts_only() && data.is_original());
        assert_eq!(data.item_count().unwrap(), 7);
        assert_eq!(data.encoded_size().unwrap(), 1234);
        assert!(matches!(data.outgoing(true).unwrap(), Outgoing::Original));
        for err in [
            data.to_encoded().map(|_| ()).unwrap_err(),
            data.visit_attributes(Select::ALL, |_, _| {}).unwrap_err(),
            data.edit_attributes(Select::ALL, |_, _| {}).unwrap_err(),
            data.logs().map(|_| ()).unwrap_err(),
        ] {
            assert!(err.to_string().contains("DataAccess::Counts"), "{err}");
        }
        assert!(data.into_encoded().is_err());
    }

    #[test]
    fn counts_beside_the_data_hold_while_it_is_original() {
        let logs = crate::testing::logs(3);
        let bytes = Bytes::from(logs.encode_to_vec());
        let size = bytes.len() as u64;
        let mut data = OtlpData::from_original(Signal::Logs, bytes).with_counts(Counts {
            items: 3,
            encoded_size: size,
        });
        assert_eq!(
            (data.item_count().unwrap(), data.encoded_size().unwrap()),
            (3, size)
        );
        data.edit_attributes(Select::RECORDS, |_, a| a.put(b"new", ValueRef::Int(1)))
            .unwrap();
        assert_eq!(
            data.item_count().unwrap(),
            3,
            "edits do not change the count"
        );
        assert_eq!(
            data.encoded_size().unwrap(),
            data.to_encoded().unwrap().len() as u64,
            "the size is the edited encoding's"
        );
        assert!(data.encoded_size().unwrap() > size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn one_span() -> TracesData {
        TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "op".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn original_until_decoded_for_writing() {
        let bytes = Bytes::from(one_span().encode_to_vec());
        let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
        assert!(data.is_original());
        assert_eq!(data.to_encoded().unwrap().as_ptr(), bytes.as_ptr());
        let traces = data.traces_mut().unwrap();
        assert_eq!(traces.resource_spans[0].scope_spans[0].spans[0].name, "op");
        assert!(!data.is_original());
        assert_eq!(data.into_encoded().unwrap(), bytes);
    }

    #[test]
    fn wrong_signal_and_garbage_are_invalid_data() {
        let mut data = OtlpData::from_original(Signal::Logs, Bytes::from_static(&[1, 2, 3]));
        let err = data.traces_mut().unwrap_err();
        assert!(err.to_string().contains("asked for traces"), "{err}");
        let err = data.logs_mut().unwrap_err();
        assert!(
            matches!(err, ProcessingError::InvalidData { .. }),
            "{err:?}"
        );
        assert!(err.is_permanent());
    }
}
