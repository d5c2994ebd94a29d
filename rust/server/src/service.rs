//! The gRPC service: control calls and the request path.
//!
//! A `Process` call is one Collector request: the batch and what the Go
//! context carried become the engine's `Context<OtlpData>`, the gRPC
//! deadline becomes the request's deadline, and the processor runs on this
//! call's task. When the Go caller's context ends, grpc-go resets the
//! stream, tonic drops this call's future, and with it the processor's
//! future; the request's cancellation token fires on the way (a drop
//! guard), for work the processor handed elsewhere. What the processor
//! sends downstream is collected and returned in the reply; the Go side
//! calls the next consumer with each emission and the caller's own
//! context.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use otelcol_rust_engine::{
    ClientInfo, Context, Counts, Message, Metadata, OtlpData, Outgoing, PData, ProcessingError,
    RequestContext, Signal,
};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status};

use crate::instances::{Instances, EMITTED};
use crate::logs::{self, InInstance};
use crate::pb;

/// The service; one per process.
#[derive(Default)]
pub struct Service {
    instances: Instances,
    next_request: AtomicU64,
}

fn signal_of(value: i32) -> Option<Signal> {
    match pb::Signal::try_from(value).ok()? {
        pb::Signal::Traces => Some(Signal::Traces),
        pb::Signal::Metrics => Some(Signal::Metrics),
        pb::Signal::Logs => Some(Signal::Logs),
        pb::Signal::Unspecified => None,
    }
}

/// The `grpc-timeout` header (`<digits><unit>`), as a duration.
fn grpc_timeout<T>(request: &Request<T>) -> Option<Duration> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

fn client_info(ctx: &pb::RequestContext) -> Option<Arc<ClientInfo>> {
    if ctx.metadata.is_empty() && ctx.peer_address.is_empty() {
        return None;
    }
    Some(Arc::new(ClientInfo {
        address: (!ctx.peer_address.is_empty()).then(|| ctx.peer_address.clone()),
        metadata: Metadata::from_entries(
            ctx.metadata
                .iter()
                .map(|e| (e.key.clone(), e.values.clone())),
        ),
        auth: None,
    }))
}

fn span_context(ctx: &pb::RequestContext) -> Option<SpanContext> {
    let trace_id: [u8; 16] = ctx.trace_id.as_slice().try_into().ok()?;
    let span_id: [u8; 8] = ctx.span_id.as_slice().try_into().ok()?;
    Some(SpanContext::new(
        TraceId::from_bytes(trace_id),
        SpanId::from_bytes(span_id),
        TraceFlags::new(u8::try_from(ctx.trace_flags).unwrap_or(0)),
        ctx.remote,
        TraceState::from_str(&ctx.trace_state).unwrap_or_default(),
    ))
}

fn context_of(request: &RequestContext) -> pb::RequestContext {
    let client = request.client();
    let sc = request.span_context();
    pb::RequestContext {
        metadata: request
            .metadata()
            .iter()
            .map(|(k, v)| pb::MetadataEntry {
                key: k.to_string(),
                values: v.to_vec(),
            })
            .collect(),
        peer_address: client.and_then(|c| c.address.clone()).unwrap_or_default(),
        trace_id: if sc.is_valid() {
            sc.trace_id().to_bytes().to_vec()
        } else {
            Vec::new()
        },
        span_id: if sc.is_valid() {
            sc.span_id().to_bytes().to_vec()
        } else {
            Vec::new()
        },
        trace_flags: u32::from(sc.trace_flags().to_u8()),
        trace_state: sc.trace_state().header(),
        remote: sc.is_remote(),
    }
}

/// Contains a processor's panic as the bridge does: the request fails,
/// the server keeps running.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_string()))),
        }
    }
}

impl Service {
    async fn run(
        &self,
        handle: u64,
        request: pb::ProcessRequest,
        timeout: Option<Duration>,
    ) -> Result<pb::ProcessReply, ProcessingError> {
        let instance = self.instances.get(handle).ok_or_else(|| {
            ProcessingError::retryable(format!(
                "otelcol-rust-server: no processor instance {handle} (the server restarted)"
            ))
            .with_grpc(otelcol_rust_engine::GrpcCode::NotFound)
        })?;
        let signal = signal_of(request.signal)
            .filter(|s| *s == instance.signal)
            .ok_or_else(|| {
                ProcessingError::permanent(format!(
                    "{} handles {}, got signal {}",
                    instance.id, instance.signal, request.signal
                ))
            })?;
        let id = self.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        let ctx = request.context.unwrap_or_default();
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut rc = RequestContext::new(id)
            .with_deadline(deadline)
            .with_client(client_info(&ctx));
        if let Some(sc) = span_context(&ctx) {
            rc = rc.with_span_context(sc);
        }
        // Dropping this call (the Go caller gave up) cancels the token.
        let _cancel_on_drop = rc.cancellation().clone().drop_guard();
        let counts = Counts {
            items: request.items,
            encoded_size: request.encoded_size,
        };
        let otlp = if request.counts_only {
            OtlpData::from_counts_of_original(signal, counts)
        } else {
            OtlpData::from_original(signal, Bytes::from(request.data)).with_counts(counts)
        };
        let data: PData = Context::new(rc, otlp);

        let mut processor = instance.take();
        let mut effect_handler = instance.effect_handler();
        let work = EMITTED.scope(std::cell::RefCell::new(Vec::new()), async move {
            let result = processor
                .process(Message::PData(data), &mut effect_handler)
                .await;
            (processor, result, EMITTED.with(|e| e.take()))
        });
        let work = CatchUnwind(InInstance::new(handle, Box::pin(work)));
        let outcome = match deadline {
            Some(d) => tokio::time::timeout_at(d.into(), work)
                .await
                .map_err(|_| ProcessingError::DeadlineExceeded)?,
            None => work.await,
        };
        let emitted = match outcome {
            Ok((processor, result, emitted)) => {
                instance.put(processor);
                result?;
                emitted
            }
            Err(message) => {
                return Err(ProcessingError::Panic {
                    processor: instance.id.to_string(),
                    message,
                })
            }
        };
        let mut reply = pb::ProcessReply::default();
        // The request's own pdata goes to the first emission of it (as is,
        // or with the edit list Go replays on it); later ones travel
        // encoded, as in the cgo bridge.
        let mut handed_on = false;
        for data in emitted {
            let own = data.request().id() == id;
            let changed = data.request().metadata_changed();
            let mut emission = pb::Emission {
                context_changed: changed || !own,
                context: (changed || !own).then(|| context_of(data.request())),
                ..Default::default()
            };
            let edits_allowed = own && instance.mutates_data && !handed_on;
            match data.inner().outgoing(edits_allowed)? {
                Outgoing::Original if own && !handed_on => {
                    emission.unchanged = true;
                    handed_on = true;
                }
                Outgoing::Edits(list) => {
                    emission.edits = list.into_owned();
                    handed_on = true;
                }
                Outgoing::Encoded(bytes) => emission.data = bytes.into_owned(),
                Outgoing::Original => emission.data = data.inner().to_encoded()?.into_owned(),
            }
            reply.emissions.push(emission);
        }
        Ok(reply)
    }
}

#[tonic::async_trait]
impl pb::processors_server::Processors for Service {
    async fn validate(
        &self,
        request: Request<pb::ValidateRequest>,
    ) -> Result<Response<pb::ValidateReply>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            match crate::instances::effective(&req.processor_type, &req.config_json) {
                Ok(effective_config_json) => pb::ValidateReply {
                    effective_config_json,
                    error: String::new(),
                },
                Err(error) => pb::ValidateReply {
                    effective_config_json: String::new(),
                    error,
                },
            },
        ))
    }

    async fn create(
        &self,
        request: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateReply>, Status> {
        let req = request.into_inner();
        let signal = signal_of(req.signal)
            .ok_or_else(|| Status::invalid_argument(format!("unknown signal {}", req.signal)))?;
        let instance = self
            .instances
            .create(
                &req.component_id,
                &req.processor_type,
                &req.config_json,
                signal,
            )
            .map_err(Status::invalid_argument)?;
        logs::with_instance(instance, || {
            log::debug!(
                target: "otelcol_rust_server",
                processor_type = req.processor_type.as_str(), signal:% = signal;
                "processor instance created"
            );
        });
        Ok(Response::new(pb::CreateReply { instance }))
    }

    async fn destroy(
        &self,
        request: Request<pb::DestroyRequest>,
    ) -> Result<Response<pb::DestroyReply>, Status> {
        self.instances.remove(request.into_inner().instance);
        Ok(Response::new(pb::DestroyReply {}))
    }

    async fn process(
        &self,
        request: Request<pb::ProcessRequest>,
    ) -> Result<Response<pb::ProcessReply>, Status> {
        let timeout = grpc_timeout(&request);
        let req = request.into_inner();
        self.run(req.instance, req, timeout)
            .await
            .map(Response::new)
            .map_err(|e| crate::failure::status(&e))
    }

    async fn counters(
        &self,
        request: Request<pb::CountersRequest>,
    ) -> Result<Response<pb::CountersReply>, Status> {
        let handle = request.into_inner().instance;
        let instance = self
            .instances
            .get(handle)
            .ok_or_else(|| Status::not_found(format!("no processor instance {handle}")))?;
        let eh = instance.effect_handler();
        let mut counters: Vec<pb::Counter> = eh
            .counter_values()
            .into_iter()
            .enumerate()
            .map(|(i, value)| pb::Counter {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                value,
                attributes: Vec::new(),
            })
            .collect();
        for ((index, attrs), value) in eh.labeled_counter_values() {
            counters.push(pb::Counter {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                value,
                attributes: attrs
                    .into_iter()
                    .flat_map(|(k, v)| [k.to_string(), v])
                    .collect(),
            });
        }
        Ok(Response::new(pb::CountersReply { counters }))
    }

    type LogsStream =
        Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::LogRecord, Status>> + Send>>;

    async fn logs(
        &self,
        request: Request<pb::LogsRequest>,
    ) -> Result<Response<Self::LogsStream>, Status> {
        logs::set_level(request.into_inner().max_level);
        // Records a slow reader missed are dropped, never waited for.
        let records = BroadcastStream::new(logs::subscribe()).filter_map(|r| r.ok().map(Ok));
        let stream = tokio_stream::once(Ok(logs::ready())).chain(records);
        Ok(Response::new(Box::pin(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::processors_server::Processors as _;
    use otelcol_rust_engine::proto::{common, trace};
    use prost::Message as _;

    fn batch() -> Vec<u8> {
        trace::TracesData {
            resource_spans: vec![trace::ResourceSpans {
                scope_spans: vec![trace::ScopeSpans {
                    spans: vec![trace::Span {
                        name: "op".into(),
                        attributes: vec![common::KeyValue {
                            key: "keep".into(),
                            value: Some(common::AnyValue {
                                value: Some(common::any_value::Value::StringValue("v".into())),
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    async fn create(service: &Service, config: &str) -> u64 {
        service
            .create(Request::new(pb::CreateRequest {
                component_id: "rust_attributes/test".into(),
                processor_type: "rust_attributes".into(),
                config_json: config.into(),
                signal: pb::Signal::Traces as i32,
            }))
            .await
            .expect("create")
            .into_inner()
            .instance
    }

    fn process(instance: u64, ctx: Option<pb::RequestContext>) -> Request<pb::ProcessRequest> {
        Request::new(pb::ProcessRequest {
            instance,
            signal: pb::Signal::Traces as i32,
            data: batch(),
            context: ctx,
            items: 1,
            encoded_size: 0,
            counts_only: false,
        })
    }

    #[tokio::test]
    async fn edits_come_back_as_an_edit_list_and_metadata_is_readable() {
        let service = Service::default();
        let instance = create(
            &service,
            r#"{"actions": [{"key": "tenant", "from_context": "metadata.x-tenant", "action": "insert"}]}"#,
        )
        .await;
        let ctx = pb::RequestContext {
            metadata: vec![pb::MetadataEntry {
                key: "x-tenant".into(),
                values: vec![b"acme".to_vec()],
            }],
            ..Default::default()
        };
        let reply = service
            .process(process(instance, Some(ctx)))
            .await
            .expect("process")
            .into_inner();
        assert_eq!(reply.emissions.len(), 1);
        let e = &reply.emissions[0];
        assert!(!e.unchanged);
        assert!(e.data.is_empty(), "no whole batch for an attribute edit");
        let list = String::from_utf8_lossy(&e.edits);
        assert!(list.contains("tenant") && list.contains("acme"), "{list}");
    }

    #[tokio::test]
    async fn unchanged_data_is_not_sent_back() {
        let service = Service::default();
        let instance = create(
            &service,
            r#"{"actions": [{"key": "absent", "action": "delete"}]}"#,
        )
        .await;
        let reply = service
            .process(process(instance, None))
            .await
            .expect("process")
            .into_inner();
        assert_eq!(reply.emissions.len(), 1);
        assert!(reply.emissions[0].unchanged);
        assert!(reply.emissions[0].data.is_empty());
    }

    #[tokio::test]
    async fn an_unknown_instance_is_retryable_not_found() {
        let service = Service::default();
        let err = service
            .process(process(42, None))
            .await
            .expect_err("no such instance");
        assert_eq!(err.code(), tonic::Code::NotFound);
    }

    #[tokio::test]
    async fn invalid_configurations_name_the_field() {
        let service = Service::default();
        let reply = service
            .validate(Request::new(pb::ValidateRequest {
                processor_type: "rust_attributes".into(),
                config_json: r#"{"actions": [{"key": "k", "action": "explode"}]}"#.into(),
            }))
            .await
            .expect("validate")
            .into_inner();
        assert!(reply.error.contains("actions[0]"), "{}", reply.error);
    }

    #[test]
    fn timeouts_parse() {
        let mut r = Request::new(());
        r.metadata_mut()
            .insert("grpc-timeout", "250m".parse().expect("ascii"));
        assert_eq!(grpc_timeout(&r), Some(Duration::from_millis(250)));
        r.metadata_mut()
            .insert("grpc-timeout", "3S".parse().expect("ascii"));
        assert_eq!(grpc_timeout(&r), Some(Duration::from_secs(3)));
    }
}
