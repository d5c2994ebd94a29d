//! Components: what Go's `CreateTracesProcessor` (and friends) create,
//! start, shut down and destroy, each named by a handle.
//!
//! A component is a chain of one or more stages. A stage is one Rust
//! processor of the pipeline with its own component id, effect handler
//! (counters, spans) and pool of instances. Usually a component has one
//! stage; adjacent Rust processors of a pipeline are fused into one
//! component at config time, and then data passes from stage to stage
//! inside Rust: one crossing in, one out.
//!
//! The otap-dataflow API hands a processor `&mut self`, so one instance
//! serves one request at a time; the Collector calls a processor from many
//! goroutines at once, so each concurrent request takes its own instance
//! from the stage's pool and puts it back when done. Instances are made on
//! demand from the stage's validated configuration, so the pool grows to
//! the peak concurrency and no further.

use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context as TaskContext, Waker};

use async_trait::async_trait;
use otelcol_rust_engine::{
    ControlMsg, EffectHandler, InstanceFactory, Message, MessageSink, PData, ProcessingError,
    Processor, Signal,
};

use crate::abi::OTELCOL_RUST_WAKE_COMPONENT;
use crate::emission::{BackgroundQueue, GoSink};
use crate::runtime::{drop_contained, panic_message, CatchUnwind};
use crate::telemetry::InStage;
use crate::wake::WakeCell;

/// Processor instances alive, pooled or busy.
pub static PROCESSOR_INSTANCES: AtomicU64 = AtomicU64::new(0);

static COMPONENTS: RwLock<Option<HashMap<u64, Arc<Component>>>> = RwLock::new(None);
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// A processor instance, counted while alive. Each instance keeps its own
/// clone of its stage's effect handler, so a request costs no
/// reference-count traffic for it.
pub struct Instance {
    processor: Box<dyn Processor<PData>>,
    effect_handler: EffectHandler<PData>,
}

impl Instance {
    /// Runs the processor on one message.
    pub async fn process(&mut self, msg: Message<PData>) -> Result<(), ProcessingError> {
        self.processor.process(msg, &mut self.effect_handler).await
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        PROCESSOR_INSTANCES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One processor of a component.
pub struct Stage {
    /// The processor's component id (`type/name`).
    pub id: Arc<str>,
    /// Its position in the component.
    pub index: u32,
    /// The component is a chain, which reports each processor's time and
    /// outcome (a single processor's are the request's, which Go times).
    in_chain: bool,
    factory: InstanceFactory,
    pool: Mutex<Vec<Instance>>,
    effect_handler: EffectHandler<PData>,
}

impl Stage {
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

    /// The stage's effect handler (its counters, for the metrics
    /// collection).
    pub fn effect_handler(&self) -> &EffectHandler<PData> {
        &self.effect_handler
    }

    /// Tells every idle instance the component is shutting down, then
    /// drops it. Go ended every request before, and the background queue
    /// is closed: a processor can release what it holds but no longer send
    /// data. Its answer is polled once, in the stage's telemetry scope; one
    /// that would wait is dropped rather than awaited, as shutdown must not
    /// hang on a processor.
    fn shut_down_idle(&self, component: u64) {
        let idle = std::mem::take(&mut *self.pool.lock().unwrap_or_else(|e| e.into_inner()));
        for mut instance in idle {
            // A panic is logged by the panic hook, in the stage's scope.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let future = std::pin::pin!(async {
                    let told = instance.process(Message::Control(ControlMsg::Shutdown));
                    if let Err(e) = told.await {
                        log::warn!("Rust processor failed at shutdown: {e}");
                    }
                });
                let mut scoped = InStage::new(component, self.index, future);
                let _ = Pin::new(&mut scoped).poll(&mut TaskContext::from_waker(Waker::noop()));
            }));
            drop_contained(instance);
        }
    }
}

/// The future of one message through a stage and everything after it.
pub type StageFuture = Pin<Box<dyn Future<Output = Result<(), ProcessingError>> + Send>>;

/// Runs `data` through `stage`: an instance from its pool, the processor
/// polled in the stage's telemetry scope, a panic contained and reported
/// as the stage's own.
pub fn run_stage(component: u64, stage: Arc<Stage>, data: PData) -> StageFuture {
    Box::pin(async move {
        let start = stage.in_chain.then(std::time::Instant::now);
        let mut instance = stage.take_instance();
        let future = std::pin::pin!(async move {
            let result = instance.process(Message::PData(data)).await;
            (instance, result)
        });
        let result = match CatchUnwind(InStage::new(component, stage.index, future)).await {
            Ok((instance, result)) => {
                stage.put_instance(instance);
                result
            }
            Err(payload) => Err(panic_error(&stage.id, payload)),
        };
        if let Some(start) = start {
            let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            crate::emission::record_stage(stage.index, &result, nanos);
        }
        result
    })
}

/// A contained panic as the error of the processor that panicked.
pub fn panic_error(processor: &str, payload: Box<dyn std::any::Any + Send>) -> ProcessingError {
    let message = panic_message(payload.as_ref());
    drop_contained(payload);
    ProcessingError::Panic {
        processor: processor.to_string(),
        message,
    }
}

/// The sink of a stage that has another after it: the next stage, in Rust.
struct NextStage {
    component: u64,
    next: Arc<Stage>,
}

#[async_trait]
impl MessageSink<PData> for NextStage {
    async fn send(&self, data: PData) -> Result<(), ProcessingError> {
        // This stage waits for the answer of the stages after it, so the
        // last one cannot let Go take the next consumer's answer for it.
        let _observing = crate::emission::Observing::enter();
        run_stage(self.component, self.next.clone(), data).await
    }

    async fn forward(&self, data: PData) -> Result<(), ProcessingError> {
        run_stage(self.component, self.next.clone(), data).await
    }
}

/// What a stage is made of before it is created.
pub struct StageSpec {
    /// The processor's component id.
    pub id: String,
    /// Its validated configuration.
    pub factory: InstanceFactory,
    /// How many counters its factory declares.
    pub counters: usize,
}

/// One created component.
pub struct Component {
    /// The handle Go knows it by.
    pub handle: u64,
    /// The component id Go created it under.
    pub id: Arc<str>,
    /// The signal it was created for.
    pub signal: Signal,
    /// Whether Go lets it edit the request's data in place.
    pub mutates_data: bool,
    /// The processors, in pipeline order.
    pub stages: Vec<Arc<Stage>>,
    /// Emissions made outside any request.
    pub background: Arc<BackgroundQueue>,
}

impl Component {
    /// Stops queueing emissions and drops the idle instances. Go ends every
    /// request before it calls shutdown; instances in flight elsewhere (a
    /// task a processor spawned) go when their owner drops them.
    pub fn shutdown(&self) {
        self.background.close();
        for stage in &self.stages {
            stage.shut_down_idle(self.handle);
        }
    }
}

/// Registers a new component and returns it.
pub fn insert(
    id: &str,
    signal: Signal,
    mutates_data: bool,
    specs: Vec<StageSpec>,
) -> Arc<Component> {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let background = Arc::new(BackgroundQueue::new(WakeCell::new(
        OTELCOL_RUST_WAKE_COMPONENT,
        handle,
    )));
    // Built from the last stage back: each stage's sink is the one after it.
    let mut stages: Vec<Arc<Stage>> = Vec::with_capacity(specs.len());
    let n = specs.len();
    for (i, spec) in specs.into_iter().enumerate().rev() {
        let sink: Arc<dyn MessageSink<PData>> = match stages.last() {
            None => Arc::new(GoSink::new(background.clone())),
            Some(next) => Arc::new(NextStage {
                component: handle,
                next: next.clone(),
            }),
        };
        let effect_handler = EffectHandler::new(spec.id.as_str(), sink)
            .with_counters(spec.counters)
            .with_spans(Arc::new(crate::telemetry::GoSpans::new(handle, i as u32)));
        stages.push(Arc::new(Stage {
            id: Arc::from(spec.id),
            index: i as u32,
            in_chain: n > 1,
            factory: spec.factory,
            pool: Mutex::new(Vec::new()),
            effect_handler,
        }));
    }
    stages.reverse();
    debug_assert_eq!(stages.len(), n);
    let component = Arc::new(Component {
        handle,
        id: Arc::from(id),
        signal,
        mutates_data,
        stages,
        background,
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

/// A reference to the component with this handle that Go keeps for its
/// requests, so that starting one costs no registry lookup (a lock shared
/// by every request); null when there is none. Go releases it with
/// `otelcol_rust_component_release` once no request can start any more.
#[no_mangle]
pub extern "C" fn otelcol_rust_component_retain(handle: u64) -> *const std::ffi::c_void {
    catch_unwind(|| lookup(handle).map_or(std::ptr::null(), |c| Arc::into_raw(c).cast()))
        .unwrap_or(std::ptr::null())
}

/// Gives up a reference `otelcol_rust_component_retain` made.
///
/// # Safety
/// `component` must come from `otelcol_rust_component_retain`, released
/// once, and not used after.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_component_release(component: *const std::ffi::c_void) {
    if component.is_null() {
        return;
    }
    // SAFETY: made by Arc::into_raw in otelcol_rust_component_retain and
    // released once (this function's contract).
    drop_contained(unsafe { Arc::from_raw(component.cast::<Component>()) });
}

/// The component a reference Go retained points to, for one request.
///
/// # Safety
/// `component` must be null or come from `otelcol_rust_component_retain`
/// and not be released yet.
pub unsafe fn from_go(component: *const std::ffi::c_void) -> Option<Arc<Component>> {
    if component.is_null() {
        return None;
    }
    let component = component.cast::<Component>();
    // SAFETY: Go's reference keeps the count above zero while this runs
    // (the contract), so adding one and taking it as an Arc is sound.
    unsafe {
        Arc::increment_strong_count(component);
        Some(Arc::from_raw(component))
    }
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
