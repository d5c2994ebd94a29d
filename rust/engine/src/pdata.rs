//! OTLP pipeline data, decoded only when a processor asks for it.
//!
//! The bridge hands a processor the exact bytes the Go collector marshalled.
//! Decoding them costs about as much as the Go unmarshal the bridge is trying
//! to save, so it happens lazily, once, on the first typed access. Until then
//! the data is "original" and the bridge can tell Go to forward its own
//! `pdata` untouched.
//!
//! prost's generated types (from `opentelemetry-proto`) were chosen over
//! hand-written zero-copy views: processors edit attributes, which means
//! re-encoding anyway, and owned types keep the processor code ordinary Rust.
//! The input is still read in place: decoding borrows the Go buffer and
//! copies only what it decodes.

use bytes::Bytes;
use opentelemetry_proto::tonic::logs::v1::LogsData;
use opentelemetry_proto::tonic::metrics::v1::MetricsData;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message as _;

use crate::ProcessingError;

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
    /// Encoded OTLP. `original` is true while these are the very bytes the
    /// request brought in.
    Encoded {
        bytes: Bytes,
        original: bool,
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
}

macro_rules! typed_access {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $ty:ty, $signal:expr) => {
        $(#[$doc])*
        pub fn $name(&mut self) -> Result<&mut $ty, ProcessingError> {
            if self.signal != $signal {
                return Err(ProcessingError::invalid_data(
                    self.signal,
                    format!("asked for {} but the batch holds {}", $signal, self.signal),
                ));
            }
            if let Repr::Encoded { bytes, .. } = &self.repr {
                let decoded = <$ty>::decode(bytes.as_ref())
                    .map_err(|e| ProcessingError::invalid_data(self.signal, e.to_string()))?;
                self.repr = Repr::$variant(decoded);
            }
            match &mut self.repr {
                Repr::$variant(data) => Ok(data),
                _ => unreachable!("the signal check above guarantees the variant"),
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
            },
        }
    }

    /// Encoded OTLP (`TracesData`, `MetricsData` or `LogsData`) that is not
    /// the request's original.
    pub fn from_encoded(signal: Signal, bytes: Bytes) -> Self {
        OtlpData {
            signal,
            repr: Repr::Encoded {
                bytes,
                original: false,
            },
        }
    }

    /// Typed traces.
    pub fn from_traces(data: TracesData) -> Self {
        OtlpData {
            signal: Signal::Traces,
            repr: Repr::Traces(data),
        }
    }

    /// Typed metrics.
    pub fn from_metrics(data: MetricsData) -> Self {
        OtlpData {
            signal: Signal::Metrics,
            repr: Repr::Metrics(data),
        }
    }

    /// Typed logs.
    pub fn from_logs(data: LogsData) -> Self {
        OtlpData {
            signal: Signal::Logs,
            repr: Repr::Logs(data),
        }
    }

    /// Which signal the batch holds.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// True while the batch is exactly what the request brought in: nothing
    /// decoded it for writing. The bridge then forwards Go's original data.
    pub fn is_original(&self) -> bool {
        matches!(self.repr, Repr::Encoded { original: true, .. })
    }

    /// The encoded bytes, when the batch is still encoded.
    pub fn encoded(&self) -> Option<&Bytes> {
        match &self.repr {
            Repr::Encoded { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    typed_access!(
        /// The traces, decoded on first use. Access through `&mut` marks the
        /// batch as changed: it will be re-encoded on its way out.
        traces_mut, Traces, TracesData, Signal::Traces
    );
    typed_access!(
        /// The metrics, decoded on first use; marks the batch as changed.
        metrics_mut, Metrics, MetricsData, Signal::Metrics
    );
    typed_access!(
        /// The logs, decoded on first use; marks the batch as changed.
        logs_mut, Logs, LogsData, Signal::Logs
    );

    /// The batch as OTLP protobuf bytes, encoding it if a processor decoded it.
    pub fn into_encoded(self) -> Bytes {
        match self.repr {
            Repr::Encoded { bytes, .. } => bytes,
            Repr::Traces(data) => data.encode_to_vec().into(),
            Repr::Metrics(data) => data.encode_to_vec().into(),
            Repr::Logs(data) => data.encode_to_vec().into(),
        }
    }

    /// Encodes a decoded batch into a fresh vector (the bridge hands its
    /// memory to Go to unmarshal in place). Returns `None` for encoded data.
    pub fn encode_decoded(&self) -> Option<Vec<u8>> {
        match &self.repr {
            Repr::Encoded { .. } => None,
            Repr::Traces(data) => Some(data.encode_to_vec()),
            Repr::Metrics(data) => Some(data.encode_to_vec()),
            Repr::Logs(data) => Some(data.encode_to_vec()),
        }
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
        assert_eq!(data.encoded().unwrap().as_ptr(), bytes.as_ptr());
        let traces = data.traces_mut().unwrap();
        assert_eq!(traces.resource_spans[0].scope_spans[0].spans[0].name, "op");
        assert!(!data.is_original());
        assert_eq!(data.into_encoded(), bytes);
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
