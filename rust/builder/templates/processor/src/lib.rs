//! `__TYPE__`: sets one attribute on every span, log record and metric
//! data point that does not have it yet.
//!
//! A processor crate for otelcol-rust. It depends on `otelcol-rust-engine`
//! only; `otelcol-rust-builder` links it into a collector when a manifest
//! lists it under `rust.processors`, and registers every factory of
//! [`PROCESSORS`].

use std::sync::Arc;

use async_trait::async_trait;
use otelcol_rust_engine::{
    effective_config, parse_config, ConfigError, DataAccess, EffectHandler, InstanceFactory,
    Message, MetricDescriptor, PData, ProcessingError, Processor, ProcessorFactory, Select, Signal,
    Stability, ValueRef,
};
use serde::{Deserialize, Serialize};

/// Every processor of this crate: what the builder registers.
pub static PROCESSORS: &[&ProcessorFactory] = &[&FACTORY];

/// Index of the `attributes_set` counter in [`FACTORY`]'s metrics.
const ATTRIBUTES_SET: usize = 0;

/// The factory of `__TYPE__`.
pub static FACTORY: ProcessorFactory = ProcessorFactory {
    name: "__TYPE__",
    description: "Sets an attribute on every span, log record and metric data point that lacks it.",
    stability: Stability::Development,
    signals: &[Signal::Traces, Signal::Metrics, Signal::Logs],
    mutates_data: true,
    needs_client_auth: false,
    // Only attribute maps cross into Rust; edits go back as a list.
    data: DataAccess::Attributes,
    default_config: || serde_json::json!({ "key": "", "value": "" }),
    example_config: || serde_json::json!({ "key": "team", "value": "payments" }),
    readme: include_str!("../README.md"),
    metrics: &[MetricDescriptor {
        name: "attributes_set",
        description: "Attributes the processor set.",
        unit: "{attributes}",
    }],
    create,
    effective_config: effective_config::<Config>,
    opaque_fields: &[],
};

/// The configuration, as the collector YAML writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The attribute to set.
    pub key: String,
    /// Its value (a string).
    #[serde(default)]
    pub value: String,
}

fn create(value: &serde_json::Value) -> Result<InstanceFactory, ConfigError> {
    let config: Config = parse_config(value)?;
    if config.key.is_empty() {
        return Err(ConfigError::at("key", "must not be empty"));
    }
    let config = Arc::new(config);
    Ok(Arc::new(move || {
        Box::new(SetAttribute {
            config: config.clone(),
        }) as Box<dyn Processor<PData>>
    }))
}

/// One instance; the instances of a component share the configuration.
struct SetAttribute {
    config: Arc<Config>,
}

#[async_trait]
impl Processor<PData> for SetAttribute {
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError> {
        let Message::PData(mut data) = msg else {
            return Ok(());
        };
        let key = self.config.key.as_bytes();
        let value = ValueRef::Str(self.config.value.as_bytes());
        let mut set = 0;
        // Spans, log records and data points; a record that already has the
        // key is left alone, and a batch nothing changed goes on as Go's own.
        data.inner_mut()
            .edit_attributes(Select::RECORDS, |_, attributes| {
                if attributes.insert(key, value) {
                    set += 1;
                }
            })?;
        effect_handler.add_counter(ATTRIBUTES_SET, set);
        effect_handler.forward(data).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otelcol_rust_engine::testing::{run_once, traces, CollectSink};
    use otelcol_rust_engine::{Context, OtlpData, RequestContext};

    #[tokio::test]
    async fn sets_the_attribute_on_every_span() {
        let sink = CollectSink::new();
        let data = Context::new(
            RequestContext::new(1),
            OtlpData::from_traces(traces(&[2, 1])),
        );
        let config = serde_json::json!({ "key": "team", "value": "payments" });
        run_once(&FACTORY, &config, data, sink.clone())
            .await
            .expect("processed");
        let mut emitted = sink.take();
        assert_eq!(emitted.len(), 1);
        let mut seen = 0;
        emitted[0]
            .inner_mut()
            .visit_attributes(Select::RECORDS, |_, attributes| {
                assert_eq!(
                    attributes.get(b"team"),
                    Some(ValueRef::Str(b"payments")),
                    "every span has it"
                );
                seen += 1;
            })
            .expect("attributes");
        assert_eq!(seen, 3);
    }

    #[test]
    fn an_empty_key_is_refused_with_its_path() {
        let Err(err) = (FACTORY.create)(&serde_json::json!({ "key": "" })) else {
            panic!("an empty key must be refused");
        };
        assert_eq!(err.path, "key");
    }

    #[test]
    fn an_unknown_field_is_refused_with_its_path() {
        let Err(err) = (FACTORY.create)(&serde_json::json!({ "key": "k", "colour": 1 })) else {
            panic!("an unknown field must be refused");
        };
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
