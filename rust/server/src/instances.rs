//! The processor instances the server holds for the collector's
//! components, each named by a handle.
//!
//! The collector creates one instance per component id and signal (as the
//! cgo bridge creates one component); they all share this process. The
//! otap-dataflow API hands a processor `&mut self`, so a request takes a
//! processor from its instance's pool and puts it back when done: the pool
//! grows to the peak concurrency and no further, as in the bridge.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use otelcol_rust_engine::{
    EffectHandler, InstanceFactory, MessageSink, PData, ProcessingError, Processor,
    ProcessorFactory, Signal,
};

tokio::task_local! {
    /// What the current request's processor sent downstream.
    pub static EMITTED: std::cell::RefCell<Vec<PData>>;
}

/// Collects a request's emissions; the Go side calls the next consumer
/// with them after the reply.
struct Collect;

#[async_trait]
impl MessageSink<PData> for Collect {
    async fn send(&self, data: PData) -> Result<(), ProcessingError> {
        EMITTED
            .try_with(|e| e.borrow_mut().push(data))
            .map_err(|_| {
                ProcessingError::permanent(
                    "otelcol-rust-server: data sent outside a request cannot reach the collector",
                )
            })
    }
}

/// A processor of a component, created from its validated configuration.
pub struct Instance {
    /// The component id (`rust_attributes/edit`).
    pub id: Arc<str>,
    /// The signal it handles.
    pub signal: Signal,
    /// Whether it changes data (the Collector then hands it its own copy,
    /// which Go may edit in place).
    pub mutates_data: bool,
    factory: InstanceFactory,
    pool: Mutex<Vec<Box<dyn Processor<PData>>>>,
    effect_handler: EffectHandler<PData>,
}

impl Instance {
    /// A processor from the pool, or a new one.
    pub fn take(&self) -> Box<dyn Processor<PData>> {
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| (self.factory)())
    }

    /// Puts a processor back after its request.
    pub fn put(&self, processor: Box<dyn Processor<PData>>) {
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(processor);
    }

    /// The effect handler every processor of this instance shares (its
    /// counters).
    pub fn effect_handler(&self) -> EffectHandler<PData> {
        self.effect_handler.clone()
    }
}

/// The instances of this process.
pub struct Instances {
    map: RwLock<HashMap<u64, Arc<Instance>>>,
    next: AtomicU64,
}

impl Default for Instances {
    /// Handles start from the process's start time, so that a handle from
    /// a server that died never names an instance of its successor (a
    /// request in flight across the restart fails as unknown instead).
    fn default() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(1))
            << 8;
        Instances {
            map: RwLock::default(),
            next: AtomicU64::new(seed),
        }
    }
}

/// Parses the JSON configuration and runs the factory's validation; the
/// error names the field, as the cgo bridge's does.
pub fn build(
    processor_type: &str,
    config_json: &str,
) -> Result<
    (
        &'static ProcessorFactory,
        InstanceFactory,
        serde_json::Value,
    ),
    String,
> {
    let factory = otelcol_rust_processors::find(processor_type)
        .ok_or_else(|| format!("no Rust processor of type {processor_type:?} is registered"))?;
    let config: serde_json::Value = serde_json::from_str(config_json)
        .map_err(|e| format!("configuration is not valid JSON: {e}"))?;
    let instances = std::panic::catch_unwind(|| (factory.create)(&config))
        .map_err(|_| format!("validating the {processor_type} configuration panicked"))?
        .map_err(|e| e.to_string())?;
    Ok((factory, instances, config))
}

/// The configuration with every default written out, or why it is invalid.
pub fn effective(processor_type: &str, config_json: &str) -> Result<String, String> {
    let (factory, _, config) = build(processor_type, config_json)?;
    let effective = (factory.effective_config)(&config).map_err(|e| e.to_string())?;
    Ok(effective.to_string())
}

impl Instances {
    /// Creates an instance; returns its handle.
    pub fn create(
        &self,
        id: &str,
        processor_type: &str,
        config_json: &str,
        signal: Signal,
    ) -> Result<u64, String> {
        let (factory, instances, _) = build(processor_type, config_json)?;
        if !factory.signals.contains(&signal) {
            return Err(format!("{id}: {processor_type} does not handle {signal}"));
        }
        let handle = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let instance = Arc::new(Instance {
            id: Arc::from(id),
            signal,
            mutates_data: factory.mutates_data,
            factory: instances,
            pool: Mutex::new(Vec::new()),
            effect_handler: EffectHandler::new(id, Arc::new(Collect))
                .with_counters(factory.metrics.len()),
        });
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(handle, instance);
        Ok(handle)
    }

    /// The instance with this handle.
    pub fn get(&self, handle: u64) -> Option<Arc<Instance>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&handle)
            .cloned()
    }

    /// Forgets an instance; its idle processors are dropped.
    pub fn remove(&self, handle: u64) -> bool {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&handle)
            .is_some()
    }
}
