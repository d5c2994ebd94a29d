//! Counting the items of an encoded OTLP batch without decoding it.
//!
//! `strategy: records` needs the number of spans, metric data points or log
//! records. Decoding the batch with prost would copy every attribute just to
//! count, and asking the engine for a typed view would mark the data as
//! changed (the bridge would then re-encode it instead of forwarding Go's
//! original). This walks the protobuf wire format instead and only follows
//! the few length-delimited fields that lead to the items:
//!
//! | signal  | path (field numbers) |
//! |---------|----------------------|
//! | traces  | `TracesData.resource_spans`(1) / `ResourceSpans.scope_spans`(2) / `ScopeSpans.spans`(2) |
//! | logs    | `LogsData.resource_logs`(1) / `ResourceLogs.scope_logs`(2) / `ScopeLogs.log_records`(2) |
//! | metrics | `MetricsData.resource_metrics`(1) / `ResourceMetrics.scope_metrics`(2) / `ScopeMetrics.metrics`(2) / `Metric.{gauge(5), sum(7), histogram(9), exponential_histogram(10), summary(11)}` / `data_points`(1) |
//!
//! The counts equal the Collector's `SpanCount`, `LogRecordCount` and
//! `DataPointCount`, including protobuf's merge rules for a `Metric` whose
//! `data` oneof appears more than once (the last kind wins; repeats of the
//! same kind add up).

use otelcol_rust_engine::Signal;

/// Why a buffer is not a valid protobuf message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(&'static str);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Spans, data points or log records in an encoded `TracesData`,
/// `MetricsData` or `LogsData`.
pub(crate) fn count_items(signal: Signal, buf: &[u8]) -> Result<u64, WireError> {
    match signal {
        Signal::Traces => count_nested(buf, &[1, 2], 2),
        Signal::Logs => count_nested(buf, &[1, 2], 2),
        Signal::Metrics => {
            let mut total = 0u64;
            for_each_nested(buf, &[1, 2, 2], &mut |metric| {
                total += data_points(metric)?;
                Ok(())
            })?;
            Ok(total)
        }
    }
}

/// Counts the `leaf` fields of the messages reached through `path`.
fn count_nested(buf: &[u8], path: &[u32], leaf: u32) -> Result<u64, WireError> {
    let mut total = 0u64;
    for_each_nested(buf, path, &mut |msg| {
        for_each_field(msg, |number, value| {
            if number == leaf {
                if let Value::Len(_) = value {
                    total += 1;
                } else {
                    return Err(WireError("repeated message field with a wrong wire type"));
                }
            }
            Ok(())
        })
    })?;
    Ok(total)
}

/// Calls `f` with every message reached through `path`: the `path[0]`
/// fields of `buf`, then their `path[1]` fields, and so on.
fn for_each_nested(
    buf: &[u8],
    path: &[u32],
    f: &mut dyn FnMut(&[u8]) -> Result<(), WireError>,
) -> Result<(), WireError> {
    let Some((&first, rest)) = path.split_first() else {
        return f(buf);
    };
    for_each_field(buf, |number, value| {
        if number != first {
            return Ok(());
        }
        match value {
            Value::Len(msg) => for_each_nested(msg, rest, f),
            _ => Err(WireError("message field with a wrong wire type")),
        }
    })
}

/// The data points of one encoded `Metric`.
fn data_points(metric: &[u8]) -> Result<u64, WireError> {
    // (field number of the `data` kind, points so far)
    let mut current: Option<(u32, u64)> = None;
    for_each_field(metric, |number, value| {
        if !matches!(number, 5 | 7 | 9 | 10 | 11) {
            return Ok(());
        }
        let Value::Len(data) = value else {
            return Err(WireError("metric data with a wrong wire type"));
        };
        let points = count_nested(data, &[], 1)?;
        current = match current {
            Some((kind, n)) if kind == number => Some((kind, n + points)),
            _ => Some((number, points)),
        };
        Ok(())
    })?;
    Ok(current.map_or(0, |(_, n)| n))
}

enum Value<'a> {
    Scalar,
    Len(&'a [u8]),
}

/// Calls `f` with the number and value of every field of a message.
fn for_each_field<'a>(
    mut buf: &'a [u8],
    mut f: impl FnMut(u32, Value<'a>) -> Result<(), WireError>,
) -> Result<(), WireError> {
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let number = u32::try_from(key >> 3).map_err(|_| WireError("field number too large"))?;
        if number == 0 {
            return Err(WireError("field number 0"));
        }
        let value = match key & 7 {
            0 => {
                varint(&mut buf)?;
                Value::Scalar
            }
            1 => {
                advance(&mut buf, 8)?;
                Value::Scalar
            }
            2 => {
                let len = varint(&mut buf)?;
                let len = usize::try_from(len).map_err(|_| WireError("length too large"))?;
                Value::Len(advance(&mut buf, len)?)
            }
            5 => {
                advance(&mut buf, 4)?;
                Value::Scalar
            }
            _ => return Err(WireError("unsupported wire type")),
        };
        f(number, value)?;
    }
    Ok(())
}

fn advance<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], WireError> {
    if buf.len() < n {
        return Err(WireError("truncated field"));
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

fn varint(buf: &mut &[u8]) -> Result<u64, WireError> {
    let mut value = 0u64;
    for (i, &byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    Err(WireError("truncated or overlong varint"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use otelcol_rust_engine::proto::common::{any_value, AnyValue, KeyValue};
    use otelcol_rust_engine::proto::logs::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
    use otelcol_rust_engine::proto::metrics::{
        metric, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
        HistogramDataPoint, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics,
        Sum, Summary, SummaryDataPoint,
    };
    use otelcol_rust_engine::proto::resource::Resource;
    use otelcol_rust_engine::proto::trace::{ResourceSpans, ScopeSpans, Span, TracesData};
    use prost::Message as _;

    fn attrs() -> Vec<KeyValue> {
        vec![KeyValue {
            key: "k".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("v".repeat(200))),
            }),
            ..Default::default()
        }]
    }

    /// `spans[i]` spans in resource `i`, split over two scopes.
    pub(crate) fn traces(spans: &[usize]) -> TracesData {
        let span = || Span {
            name: "op".into(),
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            start_time_unix_nano: 1_700_000_000_000_000_000,
            attributes: attrs(),
            ..Default::default()
        };
        TracesData {
            resource_spans: spans
                .iter()
                .map(|&n| ResourceSpans {
                    resource: Some(Resource {
                        attributes: attrs(),
                        ..Default::default()
                    }),
                    scope_spans: vec![
                        ScopeSpans {
                            spans: (0..n / 2).map(|_| span()).collect(),
                            ..Default::default()
                        },
                        ScopeSpans {
                            spans: (n / 2..n).map(|_| span()).collect(),
                            schema_url: "s".into(),
                            ..Default::default()
                        },
                    ],
                    schema_url: "r".into(),
                })
                .collect(),
        }
    }

    pub(crate) fn logs(records: usize) -> LogsData {
        LogsData {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: (0..records)
                        .map(|i| LogRecord {
                            time_unix_nano: i as u64,
                            severity_number: 9,
                            attributes: attrs(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    /// One metric of each kind; 2 + 1 + 3 + 1 + 2 = 9 points.
    pub(crate) fn metrics() -> MetricsData {
        let number = || NumberDataPoint {
            attributes: attrs(),
            time_unix_nano: 5,
            ..Default::default()
        };
        let m = |data| Metric {
            name: "m".into(),
            unit: "1".into(),
            data: Some(data),
            ..Default::default()
        };
        MetricsData {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        m(metric::Data::Gauge(Gauge {
                            data_points: vec![number(), number()],
                        })),
                        m(metric::Data::Sum(Sum {
                            data_points: vec![number()],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                        m(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint::default(); 3],
                            aggregation_temporality: 1,
                        })),
                        m(metric::Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint::default()],
                            aggregation_temporality: 1,
                        })),
                        m(metric::Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint::default(); 2],
                        })),
                        Metric {
                            name: "no data".into(),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn counts_match_the_decoded_data() {
        let t = traces(&[3, 0, 5]);
        assert_eq!(count_items(Signal::Traces, &t.encode_to_vec()), Ok(8));
        assert_eq!(count_items(Signal::Logs, &logs(7).encode_to_vec()), Ok(7));
        assert_eq!(
            count_items(Signal::Metrics, &metrics().encode_to_vec()),
            Ok(9)
        );
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            assert_eq!(count_items(signal, &[]), Ok(0));
        }
    }

    #[test]
    fn oneof_merge_rules() {
        // gauge(2 points), gauge(1 point): same kind, merged: 3.
        let gauge = |n| {
            Metric {
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![NumberDataPoint::default(); n],
                })),
                ..Default::default()
            }
            .encode_to_vec()
        };
        let sum = Metric {
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint::default(); 4],
                ..Default::default()
            })),
            ..Default::default()
        }
        .encode_to_vec();
        let merged = [gauge(2), gauge(1)].concat();
        assert_eq!(data_points(&merged), Ok(3));
        assert_eq!(
            Metric::decode(merged.as_slice()).unwrap().data,
            Some(metric::Data::Gauge(Gauge {
                data_points: vec![NumberDataPoint::default(); 3]
            }))
        );
        // gauge then sum: the sum replaces the gauge.
        assert_eq!(data_points(&[gauge(2), sum.clone()].concat()), Ok(4));
        assert_eq!(data_points(&[sum, gauge(2)].concat()), Ok(2));
    }

    #[test]
    fn garbage_is_an_error() {
        let good = traces(&[2]).encode_to_vec();
        assert!(count_items(Signal::Traces, &good[..good.len() - 1]).is_err());
        assert!(count_items(Signal::Logs, &[0xff; 11]).is_err());
        // Field 1 as a varint where a message is expected.
        assert!(count_items(Signal::Metrics, &[0x08, 0x01]).is_err());
        // Wire type 3 (groups) is not OTLP.
        assert!(count_items(Signal::Logs, &[0x0b]).is_err());
    }
}
