//! `rust_redaction`: contrib's `redactionprocessor` (v0.161.0) in Rust.
//!
//! Security teams put a redaction processor in every pipeline, and its
//! work is regular expressions over every attribute value: the kind of
//! work Rust does for much less CPU. The aim is a drop-in: a configuration
//! written for contrib loads unchanged, and gives the same output, down to
//! the order of attributes after removals and the text of the summary
//! attributes. Contrib is the oracle: the Go differential tests run both
//! processors on the same generated batches and compare the exports.
//!
//! Where the time goes, and why it is cheaper here:
//!
//! - only the attribute maps (and log bodies and span names) cross from Go,
//!   and only what changed goes back, as an edit list Go replays on its
//!   own data ([`DataAccess::AttributesAndRecordFields`]);
//! - each pattern list is one automaton ([`regex::RegexSet`]) asked once
//!   per value, where contrib runs each pattern in turn; only a value that
//!   matches is masked pattern by pattern, exactly as contrib masks it.
//!
//! The configuration is compiled once per component; the instances the
//! engine pools share it through an `Arc` and keep their own scratch
//! buffers, so a batch allocates only for the values it masks.

mod as_string;
mod config;
mod hash;
mod patterns;
mod redact;
mod url;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use otelcol_rust_engine::{
    effective_config, parse_config, ConfigError, DataAccess, EffectHandler, InstanceFactory,
    Message, MetricDescriptor, PData, ProcessingError, Processor, ProcessorFactory, Select, Signal,
    Stability, TargetKind, ValueRef,
};

pub use config::{Config, DbSanitizerConfig, DbSection, UrlSanitizerConfig};
use redact::{Changes, Lists, Redactor, BODY};
use url::UrlSanitizer;

/// Index of the `values_redacted` counter in [`FACTORY`]'s metrics.
const VALUES_REDACTED: usize = 0;
/// Index of the `keys_deleted` counter.
const KEYS_DELETED: usize = 1;

/// The factory the bridge registers for `rust_redaction`.
pub static FACTORY: ProcessorFactory = ProcessorFactory {
    name: "rust_redaction",
    description: "Removes attributes that are not allowed and masks or hashes values that match blocked patterns, as contrib's redaction processor.",
    stability: Stability::Alpha,
    signals: &[Signal::Traces, Signal::Metrics, Signal::Logs],
    mutates_data: true,
    needs_client_auth: false,
    data: DataAccess::AttributesAndRecordFields,
    default_config: || serde_json::json!({}),
    example_config: || {
        serde_json::json!({
            "allow_all_keys": true,
            "blocked_values": ["4[0-9]{12}(?:[0-9]{3})?", "[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}"],
            "summary": "info",
        })
    },
    readme: include_str!("README.md"),
    metrics: &[
        MetricDescriptor {
            name: "values_redacted",
            description: "Attribute and log body values masked or hashed.",
            unit: "{values}",
        },
        MetricDescriptor {
            name: "keys_deleted",
            description: "Attributes and log body keys removed because they are not allowed.",
            unit: "{keys}",
        },
    ],
    create,
    effective_config: effective_config::<Config>,
    // contrib types the key as configopaque.String.
    opaque_fields: &["hmac_key"],
};

fn create(value: &serde_json::Value) -> Result<InstanceFactory, ConfigError> {
    let redactor = Arc::new(parse_config::<Config>(value)?.compile()?);
    Ok(Arc::new(move || {
        Box::new(RedactionProcessor {
            redactor: redactor.clone(),
            lists: Lists::default(),
            bodies: Vec::new(),
            http_spans: Vec::new(),
        }) as Box<dyn Processor<PData>>
    }))
}

/// One instance; all instances of a component share `redactor`.
struct RedactionProcessor {
    redactor: Arc<Redactor>,
    /// Scratch for one map's key lists, kept across batches.
    lists: Lists,
    /// The body summaries of a logs batch, in record order, waiting to be
    /// written into the records' attributes.
    bodies: Vec<Lists>,
    /// Per span of a traces batch, in order: whether its attributes (after
    /// redaction) name it an HTTP span, for span name sanitizing.
    http_spans: Vec<bool>,
}

#[async_trait]
impl Processor<PData> for RedactionProcessor {
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError> {
        let Message::PData(mut data) = msg else {
            return Ok(());
        };
        let changes = if self.redactor.is_noop() {
            Changes::default()
        } else {
            self.redact(data.inner_mut())?
        };
        effect_handler.add_counter(VALUES_REDACTED, changes.masked);
        effect_handler.add_counter(KEYS_DELETED, changes.removed);
        effect_handler.forward(data).await
    }
}

impl RedactionProcessor {
    fn redact(
        &mut self,
        otlp: &mut otelcol_rust_engine::OtlpData,
    ) -> Result<Changes, ProcessingError> {
        let redactor = &*self.redactor;
        let lists = &mut self.lists;
        let mut changes = Changes::default();
        // Contrib's maps per signal: span links are left alone.
        let select = Select::RESOURCE
            .union(Select::SCOPE)
            .union(Select::RECORDS)
            .union(Select::SPAN_EVENTS);
        let names = otlp.signal() == Signal::Traces && redactor.sanitizes_span_names();
        let http_spans = &mut self.http_spans;
        http_spans.clear();
        otlp.edit_attributes(select, |target, attrs| {
            changes += redactor.redact_attributes(attrs, lists);
            if names && target.kind == TargetKind::Span {
                http_spans.push(UrlSanitizer::is_http(attrs));
            }
        })?;
        if names {
            // Contrib renames a span after redacting its attributes and
            // events; names are a pass of their own here, in the same order.
            let mut i = 0;
            otlp.edit_span_names(|_, name| {
                let http = http_spans.get(i).copied().unwrap_or(false);
                i += 1;
                if let Some(new_name) = redactor.span_name(name.get(), name.kind(), http) {
                    name.set(&new_name);
                }
            })?;
        }
        if otlp.signal() != Signal::Logs {
            return Ok(changes);
        }
        // A body's summary goes into its record's attributes, after the
        // attributes' own redaction and summary: bodies are redacted in a
        // second pass and the summaries written in a third.
        let mut pending = 0usize;
        let mut n = 0usize;
        let bodies = &mut self.bodies;
        otlp.edit_log_bodies(|_, body| {
            if bodies.len() <= n {
                bodies.push(Lists::default());
            }
            let body_lists = &mut bodies[n];
            n += 1;
            let (new_body, body_changes) = redactor.redact_body(body.get(), body_lists);
            changes += body_changes;
            if let Some(encoded) = new_body {
                // A rewritten body is an encoded AnyValue the redactor
                // made; it parses.
                if let Ok(value) = ValueRef::from_encoded(&encoded) {
                    body.set(value);
                }
            }
            if redactor.writes_summary(body_lists) {
                pending += 1;
            }
        })?;
        if pending > 0 {
            let mut i = 0usize;
            otlp.edit_attributes(Select::RECORDS, |_, attrs| {
                // Records are visited in the same order as their bodies.
                if let Some(body_lists) = bodies.get_mut(i) {
                    redactor.write_summary(attrs, body_lists, &BODY);
                }
                i += 1;
            })?;
        }
        Ok(changes)
    }
}
