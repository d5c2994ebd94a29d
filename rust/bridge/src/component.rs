//! Component instances: what Go's `CreateTracesProcessor` (and friends)
//! create, start, shut down and destroy, each named by a handle.
//!
//! A component owns a pool of processor instances. The otap-dataflow API
//! hands a processor `&mut self`, so one instance serves one request at a
//! time; the Collector calls a processor from many goroutines at once, so
//! each concurrent request takes its own instance from the pool and puts it
//! back when done. Instances are made on demand from the component's
//! validated configuration, so the pool grows to the peak concurrency and
//! no further.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use otelcol_rust_engine::{EffectHandler, InstanceFactory, PData, Processor, Signal};

use crate::sink::GoSink;

/// Processor instances alive, pooled or busy.
pub static PROCESSOR_INSTANCES: AtomicU64 = AtomicU64::new(0);

static COMPONENTS: RwLock<Option<HashMap<u64, Arc<Component>>>> = RwLock::new(None);
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// A processor instance, counted while alive.
/// Each instance keeps its own clone of the component's effect handler, so
/// a request costs no reference-count traffic for it.
pub struct Instance {
    processor: Box<dyn Processor<PData>>,
    effect_handler: EffectHandler<PData>,
}

impl Instance {
    /// The processor and its effect handler, borrowed together.
    pub fn parts(&mut self) -> (&mut dyn Processor<PData>, &mut EffectHandler<PData>) {
        (self.processor.as_mut(), &mut self.effect_handler)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        PROCESSOR_INSTANCES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One created component.
pub struct Component {
    /// The handle Go knows it by.
    pub handle: u64,
    /// The component id (`type/name`).
    pub id: Arc<str>,
    /// The signal it was created for.
    pub signal: Signal,
    factory: InstanceFactory,
    pool: Mutex<Vec<Instance>>,
    effect_handler: EffectHandler<PData>,
}

impl Component {
    /// A processor instance for one request.
    pub fn take_instance(&self) -> Instance {
        if let Some(instance) = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return instance;
        }
        PROCESSOR_INSTANCES.fetch_add(1, Ordering::Relaxed);
        Instance {
            processor: (self.factory)(),
            effect_handler: self.effect_handler.clone(),
        }
    }

    /// Returns an instance to the pool after its request.
    pub fn put_instance(&self, instance: Instance) {
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(instance);
    }

    /// The component's effect handler (its counters, for the metrics
    /// collection).
    pub fn effect_handler(&self) -> &EffectHandler<PData> {
        &self.effect_handler
    }

    /// Drops the idle instances. Go stops sending requests before it calls
    /// shutdown; requests still in flight return their instances, which go
    /// when the component itself is dropped.
    pub fn shutdown(&self) {
        let idle = std::mem::take(&mut *self.pool.lock().unwrap_or_else(|e| e.into_inner()));
        crate::runtime::drop_contained(idle);
    }
}

/// Registers a new component and returns it.
pub fn insert(
    id: &str,
    signal: Signal,
    factory: InstanceFactory,
    counters: usize,
) -> Arc<Component> {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let component = Arc::new(Component {
        handle,
        id: Arc::from(id),
        signal,
        factory,
        pool: Mutex::new(Vec::new()),
        effect_handler: EffectHandler::new(id, Arc::new(GoSink::new(handle)))
            .with_counters(counters)
            .with_spans(Arc::new(crate::telemetry::GoSpans::new(handle))),
    });
    COMPONENTS
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(handle, component.clone());
    component
}

/// The component with this handle.
pub fn lookup(handle: u64) -> Option<Arc<Component>> {
    COMPONENTS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&handle).cloned())
}

/// Unregisters a component; it is freed when its last request finishes.
pub fn remove(handle: u64) -> Option<Arc<Component>> {
    COMPONENTS
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
        .and_then(|m| m.remove(&handle))
}

/// How many components are registered.
pub fn count() -> u64 {
    COMPONENTS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or(0, |m| m.len() as u64)
}
