//! The processor trait and the factory a processor registers.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{ConfigError, EffectHandler, Message, PData, ProcessingError, Signal};

/// A pipeline processor.
///
/// `process` takes `&mut self`: an instance handles one message at a time.
/// The bridge keeps a pool of instances per component so that concurrent
/// Go callers still run in parallel; state shared between instances belongs
/// in an `Arc` the factory hands to each.
#[async_trait]
pub trait Processor<PData: Send + 'static>: Send {
    /// Handles one message. Data is passed on with
    /// [`EffectHandler::send_message`]; returning without sending drops it.
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError>;

    /// The only attribute keys this processor reads or changes, when its
    /// configuration names them all (no key patterns, no walk over every
    /// entry of a map); `None`, the default, when it may touch any entry.
    ///
    /// For a processor that declared [`DataAccess::Attributes`] (or
    /// `AttributesAndRecordFields`) and names its keys, the bridge sends
    /// only the entries with those keys; every other entry crosses as a
    /// placeholder that keeps its place: an entry whose key is empty and
    /// whose value is empty. Indexes and map lengths are then still Go's,
    /// so edits stay exact (a `remove` that moves the last entry into the
    /// hole moves the placeholder), while Go writes and Rust indexes a
    /// fraction of the batch. A processor that declares keys must look up
    /// only those (`Attributes::find`, `get`, `put`, `insert`, `remove`):
    /// iterating a map would meet the placeholders. No key may be empty,
    /// which would match them: return `None` then.
    fn attribute_keys(&self) -> Option<Vec<Vec<u8>>> {
        None
    }
}

/// Makes processor instances that share one validated configuration.
pub type InstanceFactory = Arc<dyn Fn() -> Box<dyn Processor<PData>> + Send + Sync>;

/// The Collector's stability levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// Not ready for use.
    Development,
    /// Usable; config and behaviour may still change.
    Alpha,
    /// Config and behaviour are settled.
    Beta,
    /// Covered by compatibility guarantees.
    Stable,
}

impl Stability {
    /// The level's name as metadata.yaml writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Development => "development",
            Stability::Alpha => "alpha",
            Stability::Beta => "beta",
            Stability::Stable => "stable",
        }
    }
}

/// What of a batch a processor reads and changes, which decides what the
/// bridge sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAccess {
    /// Attribute maps only (resource, scope, span, span event and link,
    /// log record and data point attributes), read and edited through
    /// [`OtlpData::visit_attributes`](crate::OtlpData::visit_attributes) and
    /// [`OtlpData::edit_attributes`](crate::OtlpData::edit_attributes). The
    /// bridge then sends only those maps, in their places, which costs Go
    /// much less than marshalling the batch; anything else of the batch
    /// (names, ids, timestamps, bodies, values) is not in Rust, and asking
    /// for it ([`OtlpData::to_encoded`](crate::OtlpData::to_encoded), owned
    /// types) is an error.
    Attributes,
    /// [`Attributes`](DataAccess::Attributes) and the record fields
    /// processors rewrite whole: the body of every log record and the name
    /// (with the kind) of every span, read and replaced through
    /// [`OtlpData::edit_log_bodies`](crate::OtlpData::edit_log_bodies) and
    /// [`OtlpData::edit_span_names`](crate::OtlpData::edit_span_names).
    /// They cross only for components with such a processor; for metrics
    /// this is the same as `Attributes`.
    AttributesAndRecordFields,
    /// Nothing of the batch but its item count and encoded size
    /// ([`OtlpData::item_count`](crate::OtlpData::item_count),
    /// [`OtlpData::encoded_size`](crate::OtlpData::encoded_size)), which Go
    /// measures on its own pdata: no bytes cross at all, so such a
    /// processor (a rate limiter) costs Go neither a marshal nor the memory
    /// of a second copy of a large batch. Anything else is an error.
    Counts,
    /// The whole batch, as OTLP.
    Full,
}

impl DataAccess {
    /// The name the registry gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            DataAccess::Attributes => "attributes",
            DataAccess::AttributesAndRecordFields => "attributes_and_record_fields",
            DataAccess::Counts => "counts",
            DataAccess::Full => "full",
        }
    }
}

/// A counter a processor reports (a monotonic sum in the Collector's
/// metrics, named `otelcol_rust_processor_<type>_<name>`).
#[derive(Debug, Clone, Copy)]
pub struct MetricDescriptor {
    /// Name within the processor (`actions_applied`).
    pub name: &'static str,
    /// What it counts.
    pub description: &'static str,
    /// UCUM unit (`{actions}`, `By`).
    pub unit: &'static str,
}

/// What a processor registers: its Collector type, what it handles, its
/// default configuration and how to build instances from a configuration.
pub struct ProcessorFactory {
    /// The Collector component type, as written in YAML (`rust_attributes`).
    pub name: &'static str,
    /// One line for the generated README and `components` output.
    pub description: &'static str,
    /// Stability for every signal it supports.
    pub stability: Stability,
    /// The signals it handles.
    pub signals: &'static [Signal],
    /// Whether it changes the data it is given (the Collector's
    /// `MutatesData` capability).
    pub mutates_data: bool,
    /// Whether it reads the client's auth attributes. Only then do they
    /// cross into Rust ([`RequestContext::auth`](crate::RequestContext::auth)).
    pub needs_client_auth: bool,
    /// What of a batch it reads and changes.
    pub data: DataAccess,
    /// The default configuration, as the JSON form of the YAML section.
    pub default_config: fn() -> serde_json::Value,
    /// A small valid configuration: the generated component's
    /// `testdata/config.yaml` and the Collector's generated lifecycle tests
    /// use it.
    pub example_config: fn() -> serde_json::Value,
    /// The processor's README (Markdown), copied into its generated Go
    /// component package.
    pub readme: &'static str,
    /// The counters the processor reports through the Collector's own
    /// metrics; it adds to them with
    /// [`EffectHandler::add_counter`](crate::EffectHandler::add_counter)
    /// by index into this list.
    pub metrics: &'static [MetricDescriptor],
    /// Validates a configuration and returns a maker of instances.
    pub create: fn(&serde_json::Value) -> Result<InstanceFactory, ConfigError>,
    /// The configuration as the processor understands it, every default
    /// written out: what `otelcol-rust print-config` shows. Usually
    /// [`effective_config::<Config>`](crate::effective_config), a serde
    /// round trip through the processor's own configuration type. Only
    /// called on a configuration `create` accepted; its result must give
    /// itself back.
    pub effective_config: fn(&serde_json::Value) -> Result<serde_json::Value, ConfigError>,
    /// Fields whose values are secrets, as dotted paths into the JSON
    /// form (`auth.token`; `*` stands for any map key or list index:
    /// `headers.*`). The Collector prints them as `[REDACTED]`, as it
    /// prints a `configopaque.String`.
    pub opaque_fields: &'static [&'static str],
}

impl std::fmt::Debug for ProcessorFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessorFactory")
            .field("name", &self.name)
            .field("stability", &self.stability)
            .field("signals", &self.signals)
            .finish()
    }
}
