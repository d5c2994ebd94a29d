//! What a processor's own tests need: sinks that stand in for the next
//! consumer, and a runner that drives one message through a processor the
//! way the bridge does (a fresh instance from the factory, an effect
//! handler whose emissions go to the sink).
//!
//! ```
//! # use otelcol_rust_engine::testing::{run_once, CollectSink};
//! # use otelcol_rust_engine::*;
//! # async fn demo(factory: &ProcessorFactory, data: PData) {
//! let sink = CollectSink::new();
//! run_once(factory, &serde_json::json!({}), data, sink.clone()).await.unwrap();
//! let emitted = sink.take();
//! # }
//! ```

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::proto::common::{any_value, AnyValue, KeyValue};
use crate::proto::logs::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
use crate::proto::metrics::{
    metric, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint,
};
use crate::proto::resource::Resource;
use crate::proto::trace::{ResourceSpans, ScopeSpans, Span, TracesData};
use crate::{EffectHandler, Message, MessageSink, PData, ProcessingError, ProcessorFactory};

/// A next consumer that keeps everything it is sent and accepts it.
#[derive(Default)]
pub struct CollectSink {
    emitted: Mutex<Vec<PData>>,
}

impl CollectSink {
    /// A new, empty sink.
    pub fn new() -> Arc<Self> {
        Arc::new(CollectSink::default())
    }

    /// What was sent so far, emptying the sink.
    pub fn take(&self) -> Vec<PData> {
        std::mem::take(&mut *self.emitted.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many messages were sent so far.
    pub fn len(&self) -> usize {
        self.emitted.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl MessageSink<PData> for CollectSink {
    async fn send(&self, data: PData) -> Result<(), ProcessingError> {
        self.emitted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(data);
        Ok(())
    }
}

/// A next consumer that refuses everything with the same error.
pub struct RefuseSink(pub ProcessingError);

#[async_trait]
impl MessageSink<PData> for RefuseSink {
    async fn send(&self, _: PData) -> Result<(), ProcessingError> {
        Err(self.0.clone())
    }
}

/// An effect handler for `factory`'s processor whose emissions go to
/// `sink`, with the factory's counters.
pub fn effect_handler(
    factory: &ProcessorFactory,
    sink: Arc<dyn MessageSink<PData>>,
) -> EffectHandler<PData> {
    EffectHandler::new(factory.name, sink).with_counters(factory.metrics.len())
}

/// Validates `config` with `factory`, makes one instance and runs `data`
/// through it; emissions go to `sink`. Returns what `process` returned.
/// Configuration errors panic: a test passes a valid configuration.
pub async fn run_once(
    factory: &ProcessorFactory,
    config: &serde_json::Value,
    data: PData,
    sink: Arc<dyn MessageSink<PData>>,
) -> Result<(), ProcessingError> {
    let make = (factory.create)(config)
        .unwrap_or_else(|e| panic!("invalid {} configuration: {e}", factory.name));
    let mut processor = make();
    let mut handler = effect_handler(factory, sink);
    processor.process(Message::PData(data), &mut handler).await
}

// Sample batches.

fn attrs() -> Vec<KeyValue> {
    vec![KeyValue {
        key: "k".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue("v".repeat(200))),
        }),
        ..Default::default()
    }]
}

/// The load test's batch (`loadBatch` in the Go benchmarks): `n` spans of
/// an HTTP service, 7 attributes each, under one resource and scope.
pub fn load_batch(n: usize) -> TracesData {
    use any_value::Value::{IntValue, StringValue};
    let kv = |key: &str, value: any_value::Value| KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    };
    let spans = (0..n)
        .map(|i| Span {
            name: "GET /api/cart".into(),
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            start_time_unix_nano: 1_700_000_000_000_000_000,
            end_time_unix_nano: 1_700_000_000_001_000_000,
            attributes: vec![
                kv("http.method", StringValue("POST".into())),
                kv(
                    "http.url",
                    StringValue("https://shop.example.com/api/cart?item=42".into()),
                ),
                kv("http.status_code", IntValue(200)),
                kv(
                    "user.email",
                    StringValue(format!("user{}@example.com", i % 97)),
                ),
                kv("internal.debug", StringValue("trace-sampler=on".into())),
                kv("net.peer.ip", StringValue("10.1.2.3".into())),
                kv("thread.id", IntValue((i % 16) as i64)),
            ],
            ..Default::default()
        })
        .collect();
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", StringValue("checkout".into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A batch with `spans[i]` spans in resource `i`, split over two scopes;
/// every span and resource has one 200-byte string attribute.
pub fn traces(spans: &[usize]) -> TracesData {
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

/// A batch of `records` log records, each with one attribute.
pub fn logs(records: usize) -> LogsData {
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

/// One metric of each kind (2 + 1 + 3 + 1 + 2 = 9 points) and one
/// without data.
pub fn metrics() -> MetricsData {
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
