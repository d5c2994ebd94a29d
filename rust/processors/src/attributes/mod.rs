//! `rust_attributes`: the contrib `attributesprocessor` (v0.161.0) actions
//! `insert`, `update`, `upsert`, `delete` and `hash`, in Rust.
//!
//! The aim is to be a drop-in for the contrib processor where it is
//! implemented: the same configuration means the same output, down to the
//! order of attributes and the bytes of a hash, so a pipeline can switch
//! between the two without the data changing. Where this processor is
//! stricter (it refuses what it does not implement yet), it says so at
//! configuration time, with the path of the field, rather than accepting the
//! configuration and behaving differently. The README lists the differences.
//!
//! The configuration is parsed, checked and compiled (regexes included) once
//! per component in [`FACTORY`]'s `create`; the instances the engine pools
//! share it through an `Arc`, so making another instance costs one pointer.
//!
//! `from_context` reads the request context of the batch being processed
//! (`PData::request`): client metadata, the client address and, because
//! the factory sets `needs_client_auth`, the auth attributes.

mod action;
#[cfg(test)]
mod chain_timing;
mod config;
mod hash_memo;
mod sha256_hex;

use std::sync::Arc;

use async_trait::async_trait;
use otelcol_rust_engine::{
    effective_config, parse_config, ConfigError, DataAccess, EffectHandler, InstanceFactory,
    Message, MetricDescriptor, PData, ProcessingError, Processor, ProcessorFactory, Select, Signal,
    Stability,
};

use action::CompiledActions;
pub use config::{ActionConfig, ActionKind, ActionNameError, AttributeValue, Config, Problem};

/// The factory the bridge registers for `rust_attributes`.
/// Index of the `actions_applied` counter in [`FACTORY`]'s metrics.
const ACTIONS_APPLIED: usize = 0;

/// The factory the bridge registers for `rust_attributes`.
pub static FACTORY: ProcessorFactory = ProcessorFactory {
    name: "rust_attributes",
    description: "Inserts, updates, upserts, deletes and hashes span, log record and metric data point attributes.",
    stability: Stability::Alpha,
    signals: &[Signal::Traces, Signal::Metrics, Signal::Logs],
    mutates_data: true,
    // `from_context: auth.<name>` reads the auth attributes.
    needs_client_auth: true,
    data: DataAccess::Attributes,
    default_config,
    example_config: || {
        serde_json::json!({
            "actions": [
                {"key": "environment", "value": "production", "action": "insert"},
                {"key": "user.email", "action": "hash"},
                {"pattern": "^internal\\.", "action": "delete"},
            ]
        })
    },
    readme: include_str!("README.md"),
    metrics: &[MetricDescriptor {
        name: "actions_applied",
        description: "Attribute actions that changed a span, log record or metric data point.",
        unit: "{actions}",
    }],
    create,
    effective_config: effective_config::<Config>,
    opaque_fields: &[],
};

fn default_config() -> serde_json::Value {
    serde_json::json!({ "actions": [] })
}

fn create(value: &serde_json::Value) -> Result<InstanceFactory, ConfigError> {
    let actions = Arc::new(parse_config::<Config>(value)?.compile()?);
    Ok(Arc::new(move || {
        Box::new(AttributesProcessor {
            actions: actions.clone(),
        }) as Box<dyn Processor<PData>>
    }))
}

/// One instance; all instances of a component share `actions`.
struct AttributesProcessor {
    actions: Arc<CompiledActions>,
}

#[async_trait]
impl Processor<PData> for AttributesProcessor {
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError> {
        let Message::PData(mut data) = msg else {
            return Ok(());
        };
        // Edit the data while reading its context, in place.
        let (request, otlp) = data.parts_mut();
        let actions = &*self.actions;
        let mut applied = 0;
        // Contrib's attributes processor edits spans, log records and data
        // points; a record no action changes is left as it is, and a batch
        // nothing changed is forwarded as Go's own data.
        otlp.edit_attributes(Select::RECORDS, |_, attrs| {
            applied += actions.apply(attrs, request);
        })?;
        // One atomic add per batch; the bridge reads it at collection time.
        effect_handler.add_counter(ACTIONS_APPLIED, applied);
        effect_handler.forward(data).await
    }

    fn attribute_keys(&self) -> Option<Vec<Vec<u8>>> {
        self.actions.named_keys()
    }
}

#[cfg(test)]
mod tests {
    use super::action::tests::{kv, s, sha256_hex};
    use super::*;
    use otelcol_rust_engine::proto::common::{any_value::Value, KeyValue};
    use otelcol_rust_engine::proto::logs::LogsData;
    use otelcol_rust_engine::proto::logs::{LogRecord, ResourceLogs, ScopeLogs};
    use otelcol_rust_engine::proto::metrics::{metric, MetricsData};
    use otelcol_rust_engine::proto::metrics::{
        ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
        Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    };
    use otelcol_rust_engine::proto::trace::TracesData;
    use otelcol_rust_engine::proto::trace::{ResourceSpans, ScopeSpans, Span};
    use otelcol_rust_engine::testing::{run_once, CollectSink, RefuseSink};
    use otelcol_rust_engine::Context;
    use otelcol_rust_engine::{
        AuthInfo, AuthValue, ClientInfo, ControlMsg, Metadata, OtlpData, RequestContext,
    };
    use serde_json::json;

    /// Runs `data` through a fresh instance made by the factory and returns
    /// what it emitted.
    async fn run(config: serde_json::Value, data: OtlpData) -> Vec<OtlpData> {
        run_in(config, RequestContext::new(1), data).await
    }

    /// [`run`] with this request context, which every emission must keep.
    async fn run_in(
        config: serde_json::Value,
        request: RequestContext,
        data: OtlpData,
    ) -> Vec<OtlpData> {
        let sink = CollectSink::new();
        run_once(
            &FACTORY,
            &config,
            Context::new(request.clone(), data),
            sink.clone(),
        )
        .await
        .unwrap();
        sink.take()
            .into_iter()
            .map(|pdata| {
                assert_eq!(*pdata.request(), request);
                pdata.into_inner()
            })
            .collect()
    }

    /// One action of each kind; every record in the tests starts with
    /// `attrs()` and must end as `expected()`.
    fn every_action() -> serde_json::Value {
        json!({"actions": [
            {"key": "inserted", "value": 1, "action": "insert"},
            {"key": "keep", "value": "no", "action": "insert"},
            {"key": "updated", "value": true, "action": "update"},
            {"key": "not.there", "value": true, "action": "update"},
            {"key": "upserted", "from_attribute": "keep", "action": "upsert"},
            {"key": "gone", "action": "delete"},
            {"pattern": "^tmp\\.", "action": "delete"},
            {"key": "email", "action": "hash"},
            {"pattern": "^id\\.", "action": "HASH"},
        ]})
    }

    fn attrs() -> Vec<KeyValue> {
        vec![
            kv("keep", s("yes")),
            kv("updated", s("before")),
            kv("gone", s("x")),
            kv("tmp.a", s("x")),
            kv("email", s("foo")),
            kv("id.user", Value::IntValue(42)),
            kv("tmp.b", s("x")),
        ]
    }

    fn expected() -> Vec<KeyValue> {
        // Inserts append; deleting "gone" moves the last entry ("upserted",
        // appended just before) into its place; the pattern then removes
        // both "tmp." keys, keeping the others' order.
        vec![
            kv("keep", s("yes")),
            kv("updated", Value::BoolValue(true)),
            kv("upserted", s("yes")),
            kv(
                "email",
                s("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"),
            ),
            kv("id.user", s(&sha256_hex(&42i64.to_le_bytes()))),
            kv("inserted", Value::IntValue(1)),
        ]
    }

    fn traces() -> TracesData {
        let span = |name: &str| Span {
            name: name.into(),
            attributes: attrs(),
            ..Default::default()
        };
        TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Some(otelcol_rust_engine::proto::resource::Resource {
                    attributes: vec![kv("gone", s("resource attributes are not touched"))],
                    ..Default::default()
                }),
                scope_spans: vec![
                    ScopeSpans {
                        spans: vec![span("a"), span("b")],
                        ..Default::default()
                    },
                    ScopeSpans {
                        spans: vec![span("c")],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
        }
    }

    #[tokio::test]
    async fn traces_every_action() {
        let mut out = run(every_action(), OtlpData::from_traces(traces())).await;
        assert_eq!(out.len(), 1);
        let traces = out[0].traces_mut().unwrap();
        let rs = &traces.resource_spans[0];
        assert_eq!(rs.resource.as_ref().unwrap().attributes[0].key, "gone");
        let spans: Vec<_> = rs.scope_spans.iter().flat_map(|ss| &ss.spans).collect();
        assert_eq!(spans.len(), 3);
        for span in spans {
            assert_eq!(span.attributes, expected(), "span {}", span.name);
        }
    }

    #[tokio::test]
    async fn logs_every_action() {
        let record = || LogRecord {
            attributes: attrs(),
            ..Default::default()
        };
        let logs = LogsData {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![record(), record()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut out = run(every_action(), OtlpData::from_logs(logs)).await;
        let logs = out[0].logs_mut().unwrap();
        let records = &logs.resource_logs[0].scope_logs[0].log_records;
        assert_eq!(records.len(), 2);
        for record in records {
            assert_eq!(record.attributes, expected());
        }
    }

    #[tokio::test]
    async fn metrics_every_action_on_every_point_type() {
        let metric = |data| Metric {
            name: "m".into(),
            data: Some(data),
            ..Default::default()
        };
        let number = || NumberDataPoint {
            attributes: attrs(),
            ..Default::default()
        };
        let metrics = MetricsData {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        metric(metric::Data::Gauge(Gauge {
                            data_points: vec![number(), number()],
                        })),
                        metric(metric::Data::Sum(Sum {
                            data_points: vec![number()],
                            ..Default::default()
                        })),
                        metric(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: attrs(),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        metric(metric::Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: attrs(),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        metric(metric::Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: attrs(),
                                ..Default::default()
                            }],
                        })),
                        Metric {
                            name: "no data".into(),
                            metadata: attrs(),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut out = run(every_action(), OtlpData::from_metrics(metrics)).await;
        let metrics = out[0].metrics_mut().unwrap();
        let mut points = Vec::new();
        for m in &metrics.resource_metrics[0].scope_metrics[0].metrics {
            match m.data.as_ref() {
                Some(metric::Data::Gauge(g)) => {
                    points.extend(g.data_points.iter().map(|p| &p.attributes))
                }
                Some(metric::Data::Sum(s)) => {
                    points.extend(s.data_points.iter().map(|p| &p.attributes))
                }
                Some(metric::Data::Histogram(h)) => {
                    points.extend(h.data_points.iter().map(|p| &p.attributes))
                }
                Some(metric::Data::ExponentialHistogram(h)) => {
                    points.extend(h.data_points.iter().map(|p| &p.attributes))
                }
                Some(metric::Data::Summary(s)) => {
                    points.extend(s.data_points.iter().map(|p| &p.attributes))
                }
                // Metric metadata is not data point attributes.
                None => assert_eq!(m.metadata, attrs()),
            }
        }
        assert_eq!(points.len(), 6);
        for attributes in points {
            assert_eq!(*attributes, expected());
        }
    }

    #[tokio::test]
    async fn batch_from_encoded_bytes_is_decoded_edited_and_emitted() {
        // Encoded OTLP, as the bridge delivers it.
        let bytes = OtlpData::from_traces(traces()).into_encoded().unwrap();
        let data = OtlpData::from_original(Signal::Traces, bytes);
        let config = json!({"actions": [
            {"key": "email", "action": "hash"},
            {"key": "copied", "from_attribute": "email", "action": "insert"},
            {"key": "keep", "action": "delete"},
        ]});
        let mut out = run(config, data).await;
        assert_eq!(out.len(), 1);
        assert!(!out[0].is_original());
        let traces = out[0].traces_mut().unwrap();
        let hashed = s(&sha256_hex(b"foo"));
        for span in traces.resource_spans[0]
            .scope_spans
            .iter()
            .flat_map(|ss| &ss.spans)
        {
            let get = |key: &str| {
                span.attributes
                    .iter()
                    .find(|kv| kv.key == key)
                    .and_then(|kv| kv.value.clone())
                    .and_then(|v| v.value)
            };
            assert_eq!(get("email"), Some(hashed.clone()));
            assert_eq!(get("copied"), Some(hashed.clone()));
            assert_eq!(get("keep"), None);
            assert_eq!(span.attributes.len(), attrs().len());
        }
    }

    #[tokio::test]
    async fn control_messages_emit_nothing() {
        let make = (FACTORY.create)(&every_action()).unwrap();
        let sink = CollectSink::new();
        let mut handler = otelcol_rust_engine::testing::effect_handler(&FACTORY, sink.clone());
        make()
            .process(Message::Control(ControlMsg::Shutdown), &mut handler)
            .await
            .unwrap();
        assert!(sink.is_empty());
    }

    #[tokio::test]
    async fn downstream_error_is_returned() {
        let data = Context::new(RequestContext::new(9), OtlpData::from_traces(traces()));
        let refuse = Arc::new(RefuseSink(ProcessingError::retryable("queue full")));
        let err = run_once(&FACTORY, &every_action(), data, refuse)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(err.to_string(), "queue full");
    }

    #[tokio::test]
    async fn undecodable_batch_is_invalid_data() {
        let sink = CollectSink::new();
        let data = OtlpData::from_original(Signal::Logs, vec![0xff, 0xff, 0xff].into());
        let data = Context::new(RequestContext::new(1), data);
        let err = run_once(&FACTORY, &every_action(), data, sink.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ProcessingError::InvalidData { .. }),
            "{err:?}"
        );
        assert!(sink.is_empty());
    }

    #[test]
    fn factory() {
        assert_eq!(FACTORY.name, "rust_attributes");
        assert_eq!(FACTORY.stability, Stability::Alpha);
        assert_eq!(
            FACTORY.signals,
            [Signal::Traces, Signal::Metrics, Signal::Logs]
        );
        assert!(FACTORY.mutates_data);
        assert!(FACTORY.needs_client_auth);
        let default = (FACTORY.default_config)();
        assert_eq!(default, json!({"actions": []}));
        // Like contrib, the default configuration is not valid on its own.
        let err = (FACTORY.create)(&default)
            .err()
            .expect("no actions is an error");
        assert_eq!(err.to_string(), "actions: at least one action is required");
        let err =
            (FACTORY.create)(&json!({"actions": [{"key": "a", "pattern": "(", "action": "hash"}]}))
                .err()
                .expect("bad regex is an error");
        assert_eq!(err.path, "actions[0].pattern");
    }

    fn gateway_config() -> serde_json::Value {
        json!({"actions": [
            {"key": "tenant", "from_context": "metadata.x-tenant", "action": "upsert"},
            {"key": "subject", "from_context": "auth.subject", "action": "insert"},
            {"key": "groups", "from_context": "auth.groups", "default_value": "none", "action": "insert"},
            {"key": "peer", "from_context": "client.address", "action": "insert"},
            {"key": "region", "from_context": "x-region", "default_value": "unknown", "action": "insert"},
            {"key": "keep", "from_context": "metadata.missing", "action": "update"},
        ]})
    }

    fn one_log(attributes: Vec<KeyValue>) -> OtlpData {
        OtlpData::from_logs(LogsData {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        attributes,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }

    fn log_attributes(out: &mut [OtlpData]) -> Vec<KeyValue> {
        assert_eq!(out.len(), 1);
        out[0].logs_mut().unwrap().resource_logs[0].scope_logs[0].log_records[0]
            .attributes
            .clone()
    }

    #[tokio::test]
    async fn from_context_reads_the_batch_request() {
        let request = RequestContext::new(42).with_client(Some(Arc::new(ClientInfo {
            address: Some("192.0.2.7".into()),
            metadata: Metadata::from_entries([
                ("X-Tenant", vec!["acme".to_string(), "beta".to_string()]),
                ("X-Region", vec!["eu".to_string()]),
            ]),
            auth: Some(AuthInfo::new(vec![
                ("subject".into(), AuthValue::String("svc-1".into())),
                (
                    "groups".into(),
                    AuthValue::List(vec!["a".into(), "b".into()]),
                ),
            ])),
        })));
        let mut out = run_in(
            gateway_config(),
            request,
            one_log(vec![kv("tenant", s("spoofed")), kv("keep", s("k"))]),
        )
        .await;
        assert_eq!(
            log_attributes(&mut out),
            [
                kv("tenant", s("acme;beta")),
                kv("keep", s("k")),
                kv("subject", s("svc-1")),
                kv("groups", s("a;b")),
                kv("peer", s("192.0.2.7")),
                kv("region", s("eu")),
            ]
        );
    }

    #[tokio::test]
    async fn from_context_without_client_info_uses_defaults() {
        let mut out = run_in(
            gateway_config(),
            RequestContext::new(3),
            one_log(vec![kv("keep", s("k"))]),
        )
        .await;
        // No tenant, no subject; defaults for groups and region; the empty
        // string for an unknown client address, as in contrib.
        assert_eq!(
            log_attributes(&mut out),
            [
                kv("keep", s("k")),
                kv("groups", s("none")),
                kv("peer", s("")),
                kv("region", s("unknown")),
            ]
        );
    }
}
