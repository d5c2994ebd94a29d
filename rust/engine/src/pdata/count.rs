//! Counting the items of an encoded OTLP batch without decoding it.
//!
//! A rate limiter by records needs the number of spans, metric data points or log
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

use super::wire::{self, WireError, WireValue};
use super::Signal;

/// Spans, data points or log records in an encoded `TracesData`,
/// `MetricsData` or `LogsData`.
pub(crate) fn count_items(signal: Signal, buf: &[u8]) -> Result<u64, WireError> {
    match signal {
        Signal::Traces | Signal::Logs => count_nested(buf, &[1, 2], 2),
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
        for f in wire::fields(msg) {
            let f = f?;
            if f.number == leaf {
                wire::expect_len(f.value, "repeated message field with a wrong wire type")?;
                total += 1;
            }
        }
        Ok(())
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
    for field in wire::fields(buf) {
        let field = field?;
        if field.number != first {
            continue;
        }
        match field.value {
            WireValue::Len(msg) => for_each_nested(msg, rest, f)?,
            _ => return Err(WireError("message field with a wrong wire type")),
        }
    }
    Ok(())
}

/// The data points of one encoded `Metric`.
fn data_points(metric: &[u8]) -> Result<u64, WireError> {
    // (field number of the `data` kind, points so far)
    let mut current: Option<(u32, u64)> = None;
    for field in wire::fields(metric) {
        let field = field?;
        if !matches!(field.number, 5 | 7 | 9 | 10 | 11) {
            continue;
        }
        let data = wire::expect_len(field.value, "metric data with a wrong wire type")?;
        let points = count_nested(data, &[], 1)?;
        current = match current {
            Some((kind, n)) if kind == field.number => Some((kind, n + points)),
            _ => Some((field.number, points)),
        };
    }
    Ok(current.map_or(0, |(_, n)| n))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proto::metrics::{metric, Gauge, Metric, NumberDataPoint, Sum};
    use crate::testing::{logs, metrics, traces};
    use prost::Message as _;

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
