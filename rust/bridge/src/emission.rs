//! Emissions: a processor's `send_message` to the next Go consumer.
//!
//! Go drives the crossing, so `send_message` never calls Go. While Go
//! polls a request, the emission future parks the data in the request's
//! [`EmitSlot`] and returns Pending; the poll then returns EMIT to Go,
//! which calls the next consumer on the caller's goroutine, outside any
//! cgo call, and resumes the request with the consumer's answer, which the
//! same future returns. A consumer that blocks therefore holds a goroutine,
//! never an OS thread, exactly as behind a Go processor.
//!
//! An emission made outside any request's poll (a task the processor
//! spawned, data held past its request) is queued on its component and the
//! component's emitter goroutine in Go delivers it the same way
//! (`otelcol_rust_component_next_emission`), with a context rebuilt from
//! the data's own.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use otelcol_rust_engine::{MessageSink, PData, ProcessingError};
use tokio::sync::oneshot;

use crate::abi::{
    OtelcolRustError, OtelcolRustStageOutcome, OtelcolRustStep, OTELCOL_RUST_FORM_ENCODED,
    OTELCOL_RUST_STEP_DONE, OTELCOL_RUST_STEP_EMIT,
};
use crate::outcome::Reply;
use crate::wake::WakeCell;

/// An emission waiting to go to Go.
pub struct Parked {
    /// Its sequence number within the request.
    pub seq: u64,
    /// The data.
    pub data: PData,
    /// Made by `forward`: nobody waits for the answer, which becomes the
    /// request's outcome.
    pub forwarded: bool,
}

/// Where the emission futures of one request meet the poll loop.
#[derive(Default)]
pub struct EmitSlot {
    /// An emission waiting to go to Go.
    pub pending: RefCell<Option<Parked>>,
    /// Go's answer to the emission with this sequence number.
    pub reply: RefCell<Option<(u64, Result<(), ProcessingError>)>>,
    next_seq: Cell<u64>,
    /// How many stages of a chain wait for the answer of the stages after
    /// them (`send_message` to the next stage): while one does, a
    /// `forward` to Go must come back with Go's answer, so it cannot end
    /// the request in the same crossing.
    observers: Cell<u32>,
    /// The request's id (the slot moves with its request).
    request_id: u64,
    /// For a chain: how each processor handled the request.
    pub stages: RefCell<Vec<OtelcolRustStageOutcome>>,
}

impl EmitSlot {
    /// A slot for request `request_id` of a component with `n_stages`
    /// processors.
    #[inline]
    pub fn new(request_id: u64, n_stages: usize) -> Self {
        let slot = EmitSlot {
            request_id,
            ..EmitSlot::default()
        };
        if n_stages > 1 {
            *slot.stages.borrow_mut() = vec![OtelcolRustStageOutcome::default(); n_stages];
        }
        slot
    }

    /// The sequence number of the latest emission.
    pub fn last_seq(&self) -> u64 {
        self.next_seq.get()
    }

    fn park(&self, data: PData, forwarded: bool) -> u64 {
        let seq = self.next_seq.get() + 1;
        self.next_seq.set(seq);
        *self.pending.borrow_mut() = Some(Parked {
            seq,
            data,
            forwarded,
        });
        seq
    }
}

/// Marks, while it lives, that a stage of the request being polled waits
/// for the answer of the stages after it.
pub struct Observing(Option<u64>);

impl Observing {
    /// Starts observing (nothing outside a request).
    pub fn enter() -> Self {
        Observing(with_current(|slot| {
            let slot = slot?;
            slot.observers.set(slot.observers.get() + 1);
            Some(slot.request_id)
        }))
    }
}

impl Drop for Observing {
    fn drop(&mut self) {
        let Some(entered) = self.0 else { return };
        // Dropped outside its request's poll only when the request's
        // future goes, and its slot with it.
        with_current(|slot| {
            if let Some(slot) = slot.filter(|s| s.request_id == entered) {
                slot.observers.set(slot.observers.get().saturating_sub(1));
            }
        });
    }
}

/// Parks `data` as the request's forwarded last emission, if a request is
/// being polled on this thread, nothing else waits to go, and no stage
/// waits for the answer; gives the data back otherwise.
fn park_forwarded(data: PData) -> Result<(), PData> {
    with_current(|slot| match slot {
        Some(slot) if slot.observers.get() == 0 && slot.pending.borrow().is_none() => {
            slot.park(data, true);
            Ok(())
        }
        _ => Err(data),
    })
}

/// Records how a processor of a chain handled the request being polled on
/// this thread (nothing outside a request, or for a single processor).
pub fn record_stage(index: u32, result: &Result<(), ProcessingError>, nanos: u64) {
    with_current(|slot| {
        let Some(slot) = slot else { return };
        if let Some(o) = slot.stages.borrow_mut().get_mut(index as usize) {
            let e = OtelcolRustError::from_kind(result);
            *o = OtelcolRustStageOutcome {
                entered: 1,
                error_kind: e.0,
                permanent: u8::from(e.1),
                nanos,
                ..Default::default()
            };
        }
    });
}

thread_local! {
    static CURRENT: Cell<Option<NonNull<EmitSlot>>> = const { Cell::new(None) };
}

/// Makes `slot` the current request's slot on this thread while a poll
/// runs.
pub struct CurrentSlot(Option<NonNull<EmitSlot>>);

impl CurrentSlot {
    /// Enters the slot; the previous one comes back on drop.
    pub fn enter(slot: &EmitSlot) -> Self {
        CurrentSlot(CURRENT.with(|c| c.replace(Some(NonNull::from(slot)))))
    }
}

impl Drop for CurrentSlot {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Runs `f` with the slot of the request being polled on this thread.
fn with_current<R>(f: impl FnOnce(Option<&EmitSlot>) -> R) -> R {
    let slot = CURRENT.with(Cell::get);
    // SAFETY: CURRENT is set only by CurrentSlot::enter, whose guard lives
    // on the stack of the poll loop for exactly as long as the poll, while
    // the slot (owned by the request, which the poll loop borrows) is
    // alive; the guard restores the previous value before the borrow ends.
    // The slot is only touched from this thread during that time.
    f(slot.map(|p| unsafe { p.as_ref() }))
}

/// An emission made outside any request, waiting for the component's
/// emitter goroutine.
pub struct Background {
    /// The data.
    pub data: PData,
    /// Where the consumer's answer goes.
    pub reply: oneshot::Sender<Result<(), ProcessingError>>,
}

/// The emissions a component queued outside its requests.
pub struct BackgroundQueue {
    queue: Mutex<Option<VecDeque<Background>>>,
    wake: Arc<WakeCell>,
}

impl BackgroundQueue {
    /// An open queue whose arrivals wake `wake`.
    pub fn new(wake: Arc<WakeCell>) -> Self {
        BackgroundQueue {
            queue: Mutex::new(Some(VecDeque::new())),
            wake,
        }
    }

    /// Queues an emission; false when the queue is closed (the item is
    /// dropped, and its reply with it).
    fn push(&self, item: Background) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        match q.as_mut() {
            Some(q) => {
                q.push_back(item);
                true
            }
            None => false,
        }
    }

    /// The next queued emission.
    pub fn pop(&self) -> Option<Background> {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .and_then(VecDeque::pop_front)
    }

    /// The wake-up cell of the component's emitter.
    pub fn wake_cell(&self) -> &Arc<WakeCell> {
        &self.wake
    }

    /// Stops queueing; what is queued is answered with a retryable error.
    pub fn close(&self) {
        let drained = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        for item in drained.into_iter().flatten() {
            let _ = item.reply.send(Err(ProcessingError::unavailable(
                "the processor is shut down",
            )));
        }
        self.wake.kill();
    }
}

/// The sink of a component's last processor: the next Go consumer.
pub struct GoSink {
    background: Arc<BackgroundQueue>,
}

impl GoSink {
    /// A sink whose emissions outside requests go to `background`.
    pub fn new(background: Arc<BackgroundQueue>) -> Self {
        GoSink { background }
    }
}

#[async_trait]
impl MessageSink<PData> for GoSink {
    async fn send(&self, data: PData) -> Result<(), ProcessingError> {
        EmitToGo {
            state: State::Start(Some(data)),
            background: &self.background,
        }
        .await
    }

    /// Within a request, parks the data as the request's last emission:
    /// the poll then ends the request with the emission
    /// (`OTELCOL_RUST_STEP_FORWARD`), and Go returns the next consumer's
    /// answer to its caller. Elsewhere `forward` sends it as `send` does.
    fn try_forward(&self, data: PData) -> Result<(), PData> {
        park_forwarded(data)
    }
}

// Start holds the batch until the first poll, which moves it out; boxing
// it would cost an allocation per emission to save stack in a future that
// lives for one request.
#[allow(clippy::large_enum_variant)]
enum State {
    Start(Option<PData>),
    InRequest(u64),
    Queued(oneshot::Receiver<Result<(), ProcessingError>>),
}

struct EmitToGo<'a> {
    state: State,
    background: &'a BackgroundQueue,
}

impl Future for EmitToGo<'_> {
    type Output = Result<(), ProcessingError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Start(data) => {
                    let parked = with_current(|slot| {
                        let slot = slot?;
                        if slot.pending.borrow().is_some() {
                            // Another emission of this request goes first;
                            // the poll after its answer polls this one again.
                            return Some(None);
                        }
                        let data = data.take().expect("data present until parked");
                        Some(Some(slot.park(data, false)))
                    });
                    match parked {
                        Some(Some(seq)) => {
                            this.state = State::InRequest(seq);
                            return Poll::Pending;
                        }
                        Some(None) => {
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                        None => {
                            let (tx, rx) = oneshot::channel();
                            let item = Background {
                                data: data.take().expect("data present until queued"),
                                reply: tx,
                            };
                            if !this.background.push(item) {
                                return Poll::Ready(Err(ProcessingError::unavailable(
                                    "the processor is shut down",
                                )));
                            }
                            crate::wake::wake_cell(&this.background.wake);
                            this.state = State::Queued(rx);
                        }
                    }
                }
                State::InRequest(seq) => {
                    let seq = *seq;
                    let reply = with_current(|slot| {
                        let slot = slot?;
                        let mut reply = slot.reply.borrow_mut();
                        match reply.take() {
                            Some((s, r)) if s == seq => Some(r),
                            other => {
                                *reply = other;
                                None
                            }
                        }
                    });
                    return match reply {
                        Some(r) => Poll::Ready(r),
                        None => Poll::Pending,
                    };
                }
                State::Queued(rx) => {
                    return Pin::new(rx).poll(cx).map(|r| {
                        r.unwrap_or_else(|_| {
                            Err(ProcessingError::unavailable("the processor is shut down"))
                        })
                    });
                }
            }
        }
    }
}

/// One queued emission while Go delivers it.
struct BackgroundTask {
    reply: oneshot::Sender<Result<(), ProcessingError>>,
    _bytes: std::borrow::Cow<'static, [u8]>,
    _context: Vec<u8>,
}

fn no_emission() -> OtelcolRustStep {
    OtelcolRustStep {
        task: std::ptr::null_mut(),
        kind: OTELCOL_RUST_STEP_DONE,
        form: 0,
        signal: 0,
        own_request: 0,
        metadata_changed: 0,
        buffer_retained: 0,
        data: std::ptr::null(),
        data_len: 0,
        context: std::ptr::null(),
        context_len: 0,
        deadline_nanos: -1,
        span_handle: 0,
        wake_state: std::ptr::null(),
        stage_outcomes: std::ptr::null_mut(),
        stage_outcomes_len: 0,
        error: OtelcolRustError::none(),
    }
}

/// The next emission a component queued outside its requests, as an EMIT
/// step whose task Go passes to `otelcol_rust_emission_reply`; a DONE step
/// with a null task when none is queued.
#[no_mangle]
pub extern "C" fn otelcol_rust_component_next_emission(component: u64) -> OtelcolRustStep {
    std::panic::catch_unwind(|| {
        let Some(component) = crate::component::lookup(component) else {
            return no_emission();
        };
        while let Some(item) = component.background.pop() {
            let (request, otlp) = item.data.into_parts();
            // The data's request is over (or not this goroutine's): Go
            // gets the batch itself and a context rebuilt from Rust's.
            let bytes = match otlp.to_encoded() {
                Ok(b) => b.into_owned(),
                Err(err) => {
                    let _ = item.reply.send(Err(err));
                    continue;
                }
            };
            let context = crate::context::encode(request.client(), request.span_context());
            let mut step = no_emission();
            step.kind = OTELCOL_RUST_STEP_EMIT;
            step.form = OTELCOL_RUST_FORM_ENCODED;
            step.signal = otlp.signal() as u8;
            step.span_handle = request.span_handle();
            step.deadline_nanos = request
                .remaining()
                .map_or(-1, |d| d.as_nanos().min(i64::MAX as u128) as i64);
            (step.data, step.data_len) = (bytes.as_ptr(), bytes.len());
            if !context.is_empty() {
                (step.context, step.context_len) = (context.as_ptr(), context.len());
            }
            let task = Box::new(BackgroundTask {
                reply: item.reply,
                _bytes: std::borrow::Cow::Owned(bytes),
                _context: context,
            });
            step.task = Box::into_raw(task).cast();
            return step;
        }
        no_emission()
    })
    .unwrap_or_else(|_| no_emission())
}

/// Arms the component emitter's wake-up once its queue is drained: 1 when
/// Go should wait, 0 when something may have arrived meanwhile (drain
/// again).
#[no_mangle]
pub extern "C" fn otelcol_rust_component_arm(component: u64) -> u8 {
    match crate::component::lookup(component) {
        Some(c) => u8::from(c.background.wake_cell().arm_or_clear()),
        // Gone: nothing will ever arrive; let the emitter wait for its stop.
        None => 1,
    }
}

/// Hands the next consumer's answer to a queued emission back to the
/// processor that made it, and frees the emission.
///
/// # Safety
/// `task` must come from `otelcol_rust_component_next_emission` and be
/// answered once; `message..message+message_len` must be readable for the
/// call.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_emission_reply(
    task: *mut std::ffi::c_void,
    error_kind: u8,
    grpc_code: i32,
    http_status: i32,
    foreign_error: u64,
    message: *const u8,
    message_len: usize,
) {
    if task.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw in otelcol_rust_component_next_emission
    // and answered once (this function's contract).
    let task = unsafe { Box::from_raw(task.cast::<BackgroundTask>()) };
    let message = if message.is_null() || message_len == 0 {
        &[][..]
    } else {
        // SAFETY: Go passes message_len readable bytes for the call; Reply
        // copies them.
        unsafe { std::slice::from_raw_parts(message, message_len) }
    };
    let result = Reply {
        kind: error_kind,
        grpc_code,
        http_status,
        foreign_error,
        message,
    }
    .into_result();
    let _ = task.reply.send(result);
}
