//! The processor API that every otelcol-rust processor is written against.
//!
//! It has the shape of the [otap-dataflow] engine's processor API:
//! a [`Processor`] receives a [`Message`] and an [`EffectHandler`], and emits
//! downstream with [`EffectHandler::send_message`]. The data travels inside a
//! [`Context`], which carries what the Go `context.Context` of the request
//! carried: its deadline and cancellation, the `client.Info` metadata and
//! auth, and the trace span context.
//!
//! # Why a crate of our own
//!
//! The upstream otap-dataflow crates are not published on crates.io and no
//! git source can be fetched where this project is built. This crate keeps
//! the same names and call shapes (`process(msg, &mut effect_handler)`,
//! `Message<PData>`, `EffectHandler<PData>`, a thiserror error enum), so a
//! processor written here reads like one written for otap-dataflow. One
//! difference is deliberate and would not survive a move upstream as a mere
//! rename: [`EffectHandler::send_message`] returns the next consumer's
//! answer to this very request, as the Collector's `Consume*` does, where
//! otap-dataflow acknowledges data later with Ack/Nack control messages.
//! The crate is deliberately small: it holds no FFI and knows nothing about
//! Go; the `otelcol-rust-bridge` crate drives it.
//!
//! # Data
//!
//! Pipeline data is OTLP protobuf ([`OtlpData`]). What arrives is what the
//! processors declared they read ([`DataAccess`]): the whole batch as Go
//! marshalled it, only its attribute maps (Go's projection), or only its
//! counts. Attributes are read and edited in place on the bytes; an edit
//! is recorded, and Go replays the edit list on its own pdata. A processor
//! that changes nothing forwards the original, and Go passes its own
//! `pdata` on without unmarshalling anything. A typed view (prost, the
//! generated types of `opentelemetry-proto`) is there for processors that
//! rewrite a whole batch.
//!
//! # The one dependency of a processor crate
//!
//! A processor crate depends on this crate and nothing else of otelcol-rust:
//! it exports its factories in a `pub static PROCESSORS: &[&ProcessorFactory]`
//! and `otelcol-rust-builder` links it into a collector
//! (`docs/writing-a-processor.md` in the repository). [`testing`] runs a
//! processor without Go for its unit tests. Every public item is
//! documented; the crate denies `missing_docs` to keep it so.
//!
//! [otap-dataflow]: https://github.com/open-telemetry/otel-arrow/tree/main/rust/otap-dataflow

#![deny(missing_docs)]

pub mod config;
mod context;
mod effect_handler;
mod error;
pub mod go_regex;
mod message;
mod pdata;
mod processor;
pub mod testing;

pub use config::{effective_config, parse_config, ConfigError};
pub use context::{
    AuthInfo, AuthValue, Canceller, ClientInfo, Context, Metadata, RequestContext, RequestId,
};
pub use effect_handler::{EffectHandler, LabeledCounters, MessageSink, ProcessorSpan, SpanSink};
pub use error::{DownstreamError, ForeignError, GrpcCode, ProcessingError, Status};
pub use message::{ControlMsg, Message};
pub use pdata::{
    edit_format, wire, Attributes, Counts, LogBody, OtlpData, Outgoing, RawAnyValue, Select,
    Signal, SpanName, Target, TargetKind, Value, ValueRef,
};
pub use processor::{
    DataAccess, InstanceFactory, MetricDescriptor, Processor, ProcessorFactory, Stability,
};

/// The OTLP message types processors read and edit, re-exported so that
/// processors depend on the engine's version of them.
pub mod proto {
    pub use opentelemetry_proto::tonic::common::v1 as common;
    pub use opentelemetry_proto::tonic::logs::v1 as logs;
    pub use opentelemetry_proto::tonic::metrics::v1 as metrics;
    pub use opentelemetry_proto::tonic::resource::v1 as resource;
    pub use opentelemetry_proto::tonic::trace::v1 as trace;
}

pub use opentelemetry::trace::SpanContext;
pub use tokio_util::sync::CancellationToken;

/// The data every processor of this project handles: OTLP with its request
/// context.
pub type PData = Context<OtlpData>;

/// The README's example processor, compiled as a doctest so that it stays
/// true to this API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
