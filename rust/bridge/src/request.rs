//! The request path: Go drives every request, Rust never calls a consumer.
//!
//! A Go processor runs on its caller's goroutine and calls the next
//! consumer synchronously. A Rust request does the same, turned inside
//! out: Go calls in (`otelcol_rust_request_start`), Rust polls the
//! processor's future right there on the caller's thread, and the call
//! returns a [`OtelcolRustStep`] saying what the processor wants next:
//!
//! * EMIT: it called `send_message`; Go calls the next consumer on its own
//!   goroutine, outside any cgo call, and resumes the request with the
//!   consumer's answer (`otelcol_rust_request_resume`), which
//!   `send_message` returns;
//! * PENDING: it waits (a timer, a queue); Go registers a waiter, arms the
//!   request's wake-up (`otelcol_rust_request_arm`) and parks the goroutine
//!   until the waker calls it back, then polls again
//!   (`otelcol_rust_request_poll`); if the caller's context ends first, Go
//!   drops the request (`otelcol_rust_request_cancel`) and returns at once;
//! * DONE: the processor returned; the step carries how;
//! * FORWARD: the processor ended by handing its data on with
//!   `EffectHandler::forward` (its last act, whose answer it does not look
//!   at): the request is over in Rust, and Go delivers the data and
//!   returns the next consumer's answer to its caller itself.
//!
//! Attribute edits, filters and redaction never wait and end with
//! `forward`, so the common request is one crossing, with the consumer
//! called after it on the goroutine, exactly where a Go processor calls
//! it. A processor that sends with `send_message` gets the consumer's
//! answer back: two crossings. Tokio's workers only run timers and tasks
//! processors spawn; they never run a request or Go code beyond a wake-up.
//!
//! A request that ends in its first crossing never leaves the stack of
//! `otelcol_rust_request_start`; only one that emits or waits moves to the
//! heap, where Go holds it between calls.
//!
//! Go owns the request between calls: it holds the task pointer, calls it
//! from one goroutine at a time, and ends it exactly once (DONE or cancel),
//! after which the pointer is gone.

use std::borrow::Cow;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use otelcol_rust_engine::{
    Canceller, Context, Counts, OtlpData, Outgoing, PData, ProcessingError, RequestContext, Signal,
};

use crate::abi::{
    OtelcolRustError, OtelcolRustStep, OTELCOL_RUST_COUNTS_UNKNOWN, OTELCOL_RUST_FORM_EDITS,
    OTELCOL_RUST_FORM_ENCODED, OTELCOL_RUST_FORM_ORIGINAL, OTELCOL_RUST_INPUT_ATTRIBUTES,
    OTELCOL_RUST_INPUT_ATTRIBUTES_AND_RECORD_FIELDS, OTELCOL_RUST_INPUT_COUNTS,
    OTELCOL_RUST_STEP_DONE, OTELCOL_RUST_STEP_EMIT, OTELCOL_RUST_STEP_FORWARD,
    OTELCOL_RUST_STEP_PENDING, OTELCOL_RUST_WAKE_REQUEST,
};
use crate::buffer::{go_bytes, release_buffer, BufferLease};
use crate::component::{self, run_stage, Component, StageFuture};
use crate::emission::{CurrentSlot, EmitSlot, Parked};
use crate::outcome::Reply;
use crate::runtime::{drop_contained, panic_message, runtime};
use crate::wake::WakeCell;

/// Requests inside Rust right now.
pub static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
/// Requests that waited (went PENDING at least once).
pub static SLOW_PATH_TOTAL: AtomicU64 = AtomicU64::new(0);

/// How many times a poll loop polls again, after wake-ups that came in
/// while it polled, before it lets Go reschedule the goroutine.
const MAX_REPOLLS: u32 = 64;

/// One request while Go drives it.
pub struct Task {
    component: Arc<Component>,
    request_id: u64,
    future: Option<StageFuture>,
    wake: Arc<WakeCell>,
    waker: Waker,
    slot: EmitSlot,
    /// Taken when the request ends, to complete.
    lease: Option<Arc<BufferLease>>,
    cancellation: Canceller,
    /// The request's own pdata went to the next consumer (forwarded or
    /// edited in place): later emissions of it travel encoded.
    handed_on: bool,
    went_pending: bool,
    /// What the current emission's pointers point into.
    held: Option<Held>,
    /// The sequence number of a forwarded emission that went to Go as an
    /// ordinary one (the processor went on after `forward`): its answer
    /// is kept for the outcome, not handed to the processor.
    forwarded_seq: Option<u64>,
    /// The next consumer's error for that emission: the request's outcome
    /// if the processor itself ends well.
    forwarded_error: Option<ProcessingError>,
}

struct Held {
    _data: PData,
    _bytes: Option<Vec<u8>>,
    _context: Vec<u8>,
}

fn step(task: *mut Task, kind: u8) -> OtelcolRustStep {
    OtelcolRustStep {
        task: task.cast(),
        kind,
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

fn done(error: OtelcolRustError, buffer_retained: bool) -> OtelcolRustStep {
    done_with(error, buffer_retained, Vec::new())
}

fn done_with(
    error: OtelcolRustError,
    buffer_retained: bool,
    stages: Vec<crate::abi::OtelcolRustStageOutcome>,
) -> OtelcolRustStep {
    let mut s = step(std::ptr::null_mut(), OTELCOL_RUST_STEP_DONE);
    s.error = error;
    s.buffer_retained = u8::from(buffer_retained);
    if !stages.is_empty() {
        s.stage_outcomes_len = stages.len();
        s.stage_outcomes = Box::into_raw(stages.into_boxed_slice()).cast();
    }
    s
}

enum Driven {
    Step(OtelcolRustStep),
    Finished(Result<(), ProcessingError>),
    /// The processor forwarded this data and ended well.
    Forward(PData),
}

impl Task {
    /// Polls until the request emits, waits or ends.
    fn drive(&mut self) -> Driven {
        self.held = None;
        if self.future.is_none() {
            return Driven::Finished(Err(ProcessingError::permanent(
                "otelcol-rust bridge: request polled after it ended",
            )));
        }
        for _ in 0..MAX_REPOLLS {
            self.wake.begin_poll();
            let polled = {
                let future = self
                    .future
                    .as_mut()
                    .expect("checked above; taken only on return");
                let _slot = CurrentSlot::enter(&self.slot);
                let _runtime = runtime().enter();
                let mut cx = TaskContext::from_waker(&self.waker);
                catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)))
            };
            // An answer nobody took (the emission future was dropped) goes.
            self.slot.reply.borrow_mut().take();
            match polled {
                Ok(Poll::Ready(result)) => {
                    let parked = self.slot.pending.borrow_mut().take();
                    return match (parked, result) {
                        (Some(p), Ok(())) if p.forwarded => Driven::Forward(p.data),
                        // An emission nobody awaits any more, or one the
                        // processor forwarded before it failed: the
                        // processor's own outcome stands.
                        (_, result) => Driven::Finished(result),
                    };
                }
                Ok(Poll::Pending) => {
                    let pending = self.slot.pending.borrow_mut().take();
                    if let Some(Parked {
                        seq,
                        data,
                        forwarded,
                    }) = pending
                    {
                        match self.emission(data) {
                            Ok(s) => {
                                if forwarded {
                                    self.forwarded_seq = Some(seq);
                                }
                                return Driven::Step(s);
                            }
                            Err(err) if forwarded => {
                                // Nobody waits for the answer: the request
                                // ends with the error unless it fails first.
                                self.forwarded_error.get_or_insert(err);
                                continue;
                            }
                            Err(err) => {
                                // The data cannot cross (it could not be
                                // encoded): send_message returns the error.
                                *self.slot.reply.borrow_mut() = Some((seq, Err(err)));
                                continue;
                            }
                        }
                    }
                    if !self.wake.woken_during_poll() {
                        if !self.went_pending {
                            self.went_pending = true;
                            SLOW_PATH_TOTAL.fetch_add(1, Ordering::Relaxed);
                        }
                        let mut s = step(self as *mut Task, OTELCOL_RUST_STEP_PENDING);
                        s.wake_state = self.wake.state_ptr();
                        return Driven::Step(s);
                    }
                }
                Err(payload) => {
                    // The stage wrappers contain a processor's panic; this
                    // is the last fence (the bridge's own code).
                    if let Some(f) = self.future.take() {
                        drop_contained(f);
                    }
                    return Driven::Finished(Err(ProcessingError::Panic {
                        processor: self.component.id.to_string(),
                        message: panic_message(payload.as_ref()),
                    }));
                }
            }
        }
        // Woken on every poll: let Go reschedule, then poll again.
        Driven::Step(step(self as *mut Task, OTELCOL_RUST_STEP_PENDING))
    }

    /// Prepares an EMIT step for `data`.
    fn emission(&mut self, data: PData) -> Result<OtelcolRustStep, ProcessingError> {
        let own = data.request().id() == self.request_id;
        let edits_allowed = own && self.component.mutates_data && !self.handed_on;
        let outgoing = match data.inner().outgoing(edits_allowed)? {
            Outgoing::Original if !own || self.handed_on => {
                Outgoing::Encoded(data.inner().to_encoded()?)
            }
            other => other,
        };
        let mut s = step(self as *mut Task, OTELCOL_RUST_STEP_EMIT);
        s.signal = data.inner().signal() as u8;
        s.own_request = u8::from(own);
        let request = data.request();
        s.metadata_changed = u8::from(request.metadata_changed());
        s.span_handle = request.span_handle();
        s.deadline_nanos = request
            .remaining()
            .map_or(-1, |d| d.as_nanos().min(i64::MAX as u128) as i64);
        // Borrowed bytes live in `data`'s heap buffers, which stay put when
        // `data` moves into `held` below.
        let (form, owned, borrowed) = match outgoing {
            Outgoing::Original => (OTELCOL_RUST_FORM_ORIGINAL, None, None),
            Outgoing::Edits(Cow::Owned(v)) => (OTELCOL_RUST_FORM_EDITS, Some(v), None),
            Outgoing::Edits(Cow::Borrowed(b)) => {
                (OTELCOL_RUST_FORM_EDITS, None, Some((b.as_ptr(), b.len())))
            }
            Outgoing::Encoded(Cow::Owned(v)) => (OTELCOL_RUST_FORM_ENCODED, Some(v), None),
            Outgoing::Encoded(Cow::Borrowed(b)) => {
                (OTELCOL_RUST_FORM_ENCODED, None, Some((b.as_ptr(), b.len())))
            }
        };
        s.form = form;
        if let Some((ptr, len)) = borrowed {
            (s.data, s.data_len) = (ptr, len);
        }
        if let Some(bytes) = &owned {
            (s.data, s.data_len) = (bytes.as_ptr(), bytes.len());
        }
        if form != OTELCOL_RUST_FORM_ENCODED {
            self.handed_on = true;
        }
        let context = if own && !request.metadata_changed() {
            Vec::new()
        } else {
            crate::context::encode(request.client(), request.span_context())
        };
        (s.context, s.context_len) = if context.is_empty() {
            (std::ptr::null(), 0)
        } else {
            (context.as_ptr(), context.len())
        };
        #[cfg(feature = "testing")]
        crate::testing::record_emission(s.data);
        self.held = Some(Held {
            _data: data,
            _bytes: owned,
            _context: context,
        });
        Ok(s)
    }

    /// Ends the request: the outcome for Go, the buffer's fate, the
    /// bookkeeping. The task is inert afterwards; its owner drops it.
    fn finish(&mut self, result: Result<(), ProcessingError>) -> OtelcolRustStep {
        let result = match (result, self.forwarded_error.take()) {
            (Ok(()), Some(err)) => Err(err),
            (result, _) => result,
        };
        drop_contained(self.held.take());
        let (stages, lease) = self.end();
        let error = OtelcolRustError::from_result(result);
        let retained = lease.is_some_and(BufferLease::complete);
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        done_with(error, retained, stages)
    }

    /// Ends the request with the data the processor forwarded: a FORWARD
    /// step, whose emission Go delivers after the request is over here.
    fn finish_forwarding(&mut self, data: PData) -> OtelcolRustStep {
        let mut s = match self.emission(data) {
            Ok(s) => s,
            Err(err) => return self.finish(Err(err)),
        };
        s.kind = OTELCOL_RUST_STEP_FORWARD;
        let held = self.held.take();
        let (stages, lease) = self.end();
        if !stages.is_empty() {
            s.stage_outcomes_len = stages.len();
            s.stage_outcomes = Box::into_raw(stages.into_boxed_slice()).cast();
        }
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        if s.data.is_null() && s.context.is_null() {
            // Go reads nothing of Rust's: the request is over at once.
            drop_contained(held);
            s.buffer_retained = u8::from(lease.is_some_and(BufferLease::complete));
            s.task = std::ptr::null_mut();
        } else {
            s.task = Box::into_raw(Box::new(ForwardHold { held, lease })).cast();
        }
        s
    }

    /// Drops the processor's future and whatever else of the request holds
    /// its data; returns the chain's outcomes and the buffer lease, to
    /// complete (once nothing else of the request refers to the buffer).
    fn end(
        &mut self,
    ) -> (
        Vec<crate::abi::OtelcolRustStageOutcome>,
        Option<Arc<BufferLease>>,
    ) {
        self.wake.kill();
        drop_contained(self.future.take());
        drop_contained(self.slot.pending.borrow_mut().take());
        let stages = std::mem::take(&mut *self.slot.stages.borrow_mut());
        (stages, self.lease.take())
    }
}

/// What a FORWARD step's pointers point into, until Go read them.
struct ForwardHold {
    held: Option<Held>,
    lease: Option<Arc<BufferLease>>,
}

/// Runs a new request until it emits, waits or ends. The task moves to
/// the heap only when the request outlives this crossing: most end in it,
/// and their task never moves.
fn run(mut task: Task) -> OtelcolRustStep {
    match task.drive() {
        Driven::Step(mut s) => {
            // The step's only pointer to the task itself; the others point
            // into heap memory the task owns, which stays put.
            s.task = Box::into_raw(Box::new(task)).cast();
            s
        }
        Driven::Finished(result) => task.finish(result),
        Driven::Forward(data) => task.finish_forwarding(data),
    }
}

/// Frees what a FORWARD step held for Go, once Go read the emission;
/// returns 1 when Rust still holds the request's input buffer (Go keeps it
/// pinned until a release for the request).
///
/// # Safety
/// `hold` must be the `task` of a FORWARD step, released once.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_forward_release(hold: *mut c_void) -> u8 {
    catch_unwind(AssertUnwindSafe(|| {
        if hold.is_null() {
            return 0;
        }
        // SAFETY: made by Box::into_raw in finish_forwarding and released
        // once (this function's contract).
        let hold = unsafe { Box::from_raw(hold.cast::<ForwardHold>()) };
        let ForwardHold { held, lease } = *hold;
        drop_contained(held);
        u8::from(lease.is_some_and(BufferLease::complete))
    }))
    // Keep the buffer pinned rather than risk Rust reading freed memory.
    .unwrap_or(1)
}

/// Takes the task pointer Go passed back.
///
/// # Safety
/// `task` must come from a step of a request that has not ended, and Go
/// must not use it concurrently.
unsafe fn task_from<'a>(task: *mut c_void) -> Option<&'a mut Task> {
    // SAFETY: forwarded contract.
    unsafe { task.cast::<Task>().as_mut() }
}

fn continue_task(task: &mut Task) -> OtelcolRustStep {
    match task.drive() {
        Driven::Step(s) => s,
        // SAFETY: `task` came from Box::into_raw in `run` and Go gives up
        // the pointer with this call (a DONE step ends the request).
        Driven::Finished(result) => unsafe { Box::from_raw(task as *mut Task) }.finish(result),
        Driven::Forward(data) => {
            // SAFETY: as above (a FORWARD step ends the request too).
            unsafe { Box::from_raw(task as *mut Task) }.finish_forwarding(data)
        }
    }
}

fn contained(what: &str, f: impl FnOnce() -> OtelcolRustStep) -> OtelcolRustStep {
    // A panic must never unwind into Go. Everything that can panic inside
    // is contained already; this is the last fence.
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        done(
            OtelcolRustError::bridge(format!(
                "otelcol-rust bridge panicked in {what}: {}",
                panic_message(payload.as_ref())
            )),
            false,
        )
    })
}

/// Starts a request of `component` and runs it until it emits, waits or
/// ends. `input` says what `data` holds: the whole batch, only its
/// attribute maps (with the log bodies and span names and kinds, for
/// processors that rewrite them), or nothing (`OTELCOL_RUST_INPUT_*`, from
/// the processors' `DataAccess`); `items` and `encoded_size` are what Go
/// measured of its pdata (`items` is `OTELCOL_RUST_COUNTS_UNKNOWN` when no
/// processor asked).
///
/// # Safety
/// `component` must come from `otelcol_rust_component_retain` and not be
/// released yet. `data..data+len` must stay readable and unchanged until
/// the request ends without retaining it (`buffer_retained` 0 in the DONE step, or the
/// return of `otelcol_rust_request_cancel`), or until a release for
/// `request_id` arrives. `ctx..ctx+ctx_len` must be readable for the call.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otelcol_rust_request_start(
    component: *const c_void,
    request_id: u64,
    signal: u8,
    timeout_nanos: i64,
    data: *const u8,
    len: usize,
    ctx: *const u8,
    ctx_len: usize,
    input: u8,
    items: u64,
    encoded_size: u64,
) -> OtelcolRustStep {
    contained("start", || {
        // SAFETY: forwarded from this function's contract.
        let Some(component) = (unsafe { component::from_go(component) }) else {
            return done(
                OtelcolRustError::bridge("otelcol-rust bridge: a request without a component"),
                false,
            );
        };
        let signal = match Signal::from_u8(signal) {
            Some(s) if s == component.signal => s,
            _ => {
                return done(
                    OtelcolRustError::bridge(format!(
                        "otelcol-rust bridge: {} handles {}, got signal {signal}",
                        component.id, component.signal
                    )),
                    false,
                )
            }
        };
        let ctx = if ctx.is_null() || ctx_len == 0 {
            &[][..]
        } else {
            // SAFETY: Go passes ctx_len readable bytes for the call; they
            // are decoded into owned values before it returns.
            unsafe { std::slice::from_raw_parts(ctx, ctx_len) }
        };
        let decoded = match crate::context::decode(ctx) {
            Ok(d) => d,
            Err(e) => {
                return done(
                    OtelcolRustError::bridge(format!("otelcol-rust bridge: {e}")),
                    false,
                )
            }
        };
        let deadline = u64::try_from(timeout_nanos)
            .ok()
            .map(|n| Instant::now() + Duration::from_nanos(n));
        let mut request = RequestContext::new(request_id)
            .with_deadline(deadline)
            .with_client(decoded.client);
        if let Some(sc) = decoded.span_context {
            request = request.with_span_context(sc);
        }
        let cancellation = request.canceller();

        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        let lease = BufferLease::new(request_id, release_buffer);
        // SAFETY: forwarded from this function's contract.
        let bytes = unsafe { go_bytes(data, len, lease.clone()) };
        let counts = (items != OTELCOL_RUST_COUNTS_UNKNOWN).then_some(Counts {
            items,
            encoded_size,
        });
        let otlp = match (input, counts) {
            (OTELCOL_RUST_INPUT_COUNTS, Some(counts)) => {
                OtlpData::from_counts_of_original(signal, counts)
            }
            (OTELCOL_RUST_INPUT_COUNTS, None) => {
                return done(
                    OtelcolRustError::bridge(
                        "otelcol-rust bridge: a request without data came without counts",
                    ),
                    false,
                )
            }
            (OTELCOL_RUST_INPUT_ATTRIBUTES, _) => {
                OtlpData::from_attributes_of_original(signal, bytes)
            }
            (OTELCOL_RUST_INPUT_ATTRIBUTES_AND_RECORD_FIELDS, _) => {
                OtlpData::from_attributes_and_record_fields_of_original(signal, bytes)
            }
            _ => OtlpData::from_original(signal, bytes),
        };
        let otlp = match counts {
            Some(counts) if !otlp.is_counts_only() => otlp.with_counts(counts),
            _ => otlp,
        };
        let pdata = Context::new(request, otlp);
        let wake = WakeCell::new(OTELCOL_RUST_WAKE_REQUEST, request_id);
        let future = run_stage(component.handle, component.stages[0].clone(), pdata);
        let slot = EmitSlot::new(request_id, component.stages.len());
        run(Task {
            waker: Waker::from(wake.clone()),
            wake,
            component,
            request_id,
            future: Some(future),
            slot,
            lease: Some(lease),
            cancellation,
            handed_on: false,
            went_pending: false,
            held: None,
            forwarded_seq: None,
            forwarded_error: None,
        })
    })
}

/// Resumes a request after an EMIT step with the next consumer's answer.
///
/// # Safety
/// `task` must come from the EMIT step of a request that has not ended;
/// `message..message+message_len` must be readable for the call.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otelcol_rust_request_resume(
    task: *mut c_void,
    error_kind: u8,
    grpc_code: i32,
    http_status: i32,
    foreign_error: u64,
    message: *const u8,
    message_len: usize,
) -> OtelcolRustStep {
    contained("resume", || {
        // SAFETY: forwarded contract.
        let Some(task) = (unsafe { task_from(task) }) else {
            return done(
                OtelcolRustError::bridge("otelcol-rust bridge: resume without a request"),
                false,
            );
        };
        let message = if message.is_null() || message_len == 0 {
            &[][..]
        } else {
            // SAFETY: Go passes message_len readable bytes for the call;
            // Reply copies them.
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
        let seq = task.slot_seq();
        if task.forwarded_seq == Some(seq) {
            // The answer to a forwarded emission: the outcome's, if any.
            task.forwarded_seq = None;
            if let Err(err) = result {
                task.forwarded_error.get_or_insert(err);
            }
        } else {
            *task.slot.reply.borrow_mut() = Some((seq, result));
        }
        continue_task(task)
    })
}

impl Task {
    fn slot_seq(&self) -> u64 {
        self.slot.last_seq()
    }
}

/// Polls a request again after Go was woken.
///
/// # Safety
/// `task` must come from the PENDING step of a request that has not ended.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_request_poll(task: *mut c_void) -> OtelcolRustStep {
    contained("poll", || {
        // SAFETY: forwarded contract.
        match unsafe { task_from(task) } {
            Some(task) => continue_task(task),
            None => done(
                OtelcolRustError::bridge("otelcol-rust bridge: poll without a request"),
                false,
            ),
        }
    })
}

/// Arms the wake-up of a request after a PENDING step, once Go's waiter is
/// registered. Returns 1 when Go should wait for the wake-up, 0 when one
/// already came (poll at once).
///
/// # Safety
/// `task` must come from the PENDING step of a request that has not ended.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_request_arm(task: *mut c_void) -> u8 {
    // SAFETY: forwarded contract.
    match unsafe { task_from(task) } {
        Some(task) => u8::from(task.wake.arm()),
        None => 0,
    }
}

/// Ends a request Go no longer waits for (its context ended, or the
/// component shuts down): the cancellation token fires, the processor's
/// future is dropped with whatever it awaited, and the request is freed.
/// Returns 1 when Rust still holds the input buffer (Go keeps it pinned
/// until a release for the request arrives).
///
/// # Safety
/// `task` must come from a step of a request that has not ended; Go gives
/// the pointer up with this call.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_request_cancel(task: *mut c_void) -> u8 {
    catch_unwind(AssertUnwindSafe(|| {
        if task.is_null() {
            return 0;
        }
        // SAFETY: forwarded contract; the pointer came from Box::into_raw.
        let mut task = unsafe { Box::from_raw(task.cast::<Task>()) };
        task.cancellation.cancel();
        let step = task.finish(Err(ProcessingError::Cancelled));
        // SAFETY: the details and outcomes were made by finish and are
        // freed once, here.
        unsafe {
            crate::outcome::otelcol_rust_error_free(step.error.details);
            crate::outcome::otelcol_rust_stage_outcomes_free(
                step.stage_outcomes,
                step.stage_outcomes_len,
            );
        }
        step.buffer_retained
    }))
    .unwrap_or(1)
}
