//! The per-request path: inline first, the runtime only when it must wait.
//!
//! A Go processor runs on its caller's goroutine and calls the next consumer
//! synchronously. To cost about the same, a Rust request starts on the
//! calling thread: its future is polled once, right there, with a no-op
//! waker. Attribute edits and filters never wait, so they run to completion
//! in that poll, and their `send_message` calls the next Go consumer on the
//! same thread. Only a future that returns `Pending` (it awaits a timer, a
//! queue, an emission that outlives the call) is moved to the bridge's tokio
//! runtime; Go then waits for its completion callback. The first poll on
//! the runtime re-registers the real waker, so moving a future that was
//! polled under a no-op waker loses no wake-up.

use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use otelcol_rust_engine::{
    CancellationToken, Context, Message, OtlpData, ProcessingError, RequestContext, Signal,
};

use crate::abi::Outcome;
use crate::buffer::{go_bytes, BufferLease};
use crate::component::{self, Component, Instance};
use crate::ffi::{Completion, GoBridge, GoBridgeImpl};
use crate::runtime::{drop_contained, panic_message, runtime, CatchUnwind};
use crate::sink::release_buffer;
use crate::telemetry::{ComponentScope, InComponent};
use crate::wire;

/// Requests inside Rust right now.
pub static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
/// Requests that finished on the slow path.
pub static SLOW_PATH_TOTAL: AtomicU64 = AtomicU64::new(0);

/// Cancellation tokens of the requests on the slow path, by request id:
/// what Go's `context.AfterFunc` triggers.
static PENDING: Mutex<Option<HashMap<u64, CancellationToken>>> = Mutex::new(None);

fn pending_insert(request_id: u64, token: CancellationToken) {
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(request_id, token);
}

fn pending_remove(request_id: u64) {
    if let Some(map) = PENDING.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        map.remove(&request_id);
    }
}

/// What Go passes with each request besides its data.
pub struct RequestArgs {
    /// The component.
    pub component: u64,
    /// The request's id.
    pub request_id: u64,
    /// 0 traces, 1 metrics, 2 logs.
    pub signal: u8,
    /// Time left before the Go deadline in nanoseconds; negative for none.
    pub timeout_nanos: i64,
}

type RequestFuture = Pin<Box<dyn Future<Output = (Instance, Result<(), ProcessingError>)> + Send>>;

/// Runs one request of `component`. See the module docs.
///
/// # Safety
/// `data..data+len` must stay readable and unchanged until the returned
/// outcome (or, for a pending one, the completion) says the buffer is not
/// retained, or until a release for `request_id` arrives.
pub unsafe fn process(args: RequestArgs, data: *const u8, len: usize, ctx: &[u8]) -> Outcome {
    let RequestArgs {
        component: component_handle,
        request_id,
        signal,
        timeout_nanos,
    } = args;
    let Some(component) = component::lookup(component_handle) else {
        return Outcome::bridge_error(format!(
            "otelcol-rust bridge: no component with handle {component_handle} (already shut down?)"
        ));
    };
    let signal = match Signal::from_u8(signal) {
        Some(s) if s == component.signal => s,
        _ => {
            return Outcome::bridge_error(format!(
                "otelcol-rust bridge: {} handles {}, got signal {signal}",
                component.id, component.signal
            ))
        }
    };
    let decoded = match wire::decode(ctx) {
        Ok(d) => d,
        Err(e) => return Outcome::bridge_error(format!("otelcol-rust bridge: {e}")),
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
    let cancellation = request.cancellation().clone();

    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let lease = BufferLease::new(request_id, release_buffer);
    // SAFETY: forwarded from this function's contract.
    let bytes = unsafe { go_bytes(data, len, lease.clone()) };
    let pdata = Context::new(request, OtlpData::from_original(signal, bytes));

    let started = catch_unwind(AssertUnwindSafe(|| {
        let mut instance = component.take_instance();
        let future: RequestFuture = Box::pin(async move {
            let (processor, effect_handler) = instance.parts();
            let result = processor
                .process(Message::PData(pdata), effect_handler)
                .await;
            (instance, result)
        });
        future
    }));
    let mut future = match started {
        Ok(future) => future,
        Err(payload) => {
            return finish(&component, lease, Err(panic_error(&component, payload)));
        }
    };

    let polled = {
        let _runtime = runtime().enter();
        let _scope = ComponentScope::enter(component_handle);
        let mut cx = TaskContext::from_waker(Waker::noop());
        catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)))
    };
    match polled {
        Ok(Poll::Ready((instance, result))) => {
            drop(future);
            component.put_instance(instance);
            finish(&component, lease, result)
        }
        Ok(Poll::Pending) => {
            // Registered before Go learns the request is pending, so a
            // cancel from Go always finds the token.
            pending_insert(request_id, cancellation.clone());
            spawn_slow_path(component, request_id, future, lease, cancellation, deadline);
            Outcome::pending()
        }
        Err(payload) => {
            drop_contained(future);
            finish(&component, lease, Err(panic_error(&component, payload)))
        }
    }
}

fn spawn_slow_path(
    component: Arc<Component>,
    request_id: u64,
    future: RequestFuture,
    lease: Arc<BufferLease>,
    cancellation: CancellationToken,
    deadline: Option<Instant>,
) {
    runtime().spawn(async move {
        let expiry = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        // Cancellation and the deadline win over the work: the processor's
        // future is dropped at once, with whatever it was waiting on.
        let result = tokio::select! {
            biased;
            _ = cancellation.cancelled() => Err(ProcessingError::Cancelled),
            _ = expiry => Err(ProcessingError::DeadlineExceeded),
            out = CatchUnwind(InComponent { component: component.handle, future }) => match out {
                Ok((instance, result)) => {
                    component.put_instance(instance);
                    result
                }
                Err(payload) => Err(panic_error(&component, payload)),
            },
        };
        pending_remove(request_id);
        let outcome = finish(&component, lease, result);
        SLOW_PATH_TOTAL.fetch_add(1, Ordering::Relaxed);
        let outcome = Box::into_raw(Box::new(outcome));
        GoBridgeImpl::complete(&Completion {
            request_id,
            outcome_ptr: outcome as usize,
        });
        // SAFETY: Go read the outcome during the call and freed its details;
        // the struct itself is ours to free, once.
        drop(unsafe { Box::from_raw(outcome) });
    });
}

fn finish(
    _component: &Component,
    lease: Arc<BufferLease>,
    result: Result<(), ProcessingError>,
) -> Outcome {
    let retained = lease.complete();
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    Outcome::from_result(result, retained)
}

fn panic_error(component: &Component, payload: Box<dyn std::any::Any + Send>) -> ProcessingError {
    let message = panic_message(payload.as_ref());
    drop_contained(payload);
    ProcessingError::Panic {
        processor: component.id.to_string(),
        message,
    }
}

/// The per-request entry point Go calls (hand-written cgo, see the README).
///
/// # Safety
/// See [`process`]: Go pins `data` and frees it only when the outcome or a
/// later release says Rust is done with it.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otelcol_rust_process(
    component: u64,
    request_id: u64,
    signal: u8,
    timeout_nanos: i64,
    data: *const u8,
    len: usize,
    ctx: *const u8,
    ctx_len: usize,
) -> Outcome {
    // A panic must never unwind into Go; everything that can panic inside
    // `process` is already contained, this is the last fence.
    catch_unwind(AssertUnwindSafe(|| {
        let ctx = if ctx.is_null() || ctx_len == 0 {
            &[][..]
        } else {
            // SAFETY: Go passes a buffer of ctx_len bytes that lives for the
            // whole call; it is decoded into owned values before anything
            // can call back into Go.
            unsafe { std::slice::from_raw_parts(ctx, ctx_len) }
        };
        let args = RequestArgs {
            component,
            request_id,
            signal,
            timeout_nanos,
        };
        // SAFETY: forwarded contract.
        unsafe { process(args, data, len, ctx) }
    }))
    .unwrap_or_else(|payload| {
        Outcome::bridge_error(format!(
            "otelcol-rust bridge panicked: {}",
            panic_message(payload.as_ref())
        ))
    })
}

/// Cancels a request on the slow path: Go calls this from
/// `context.AfterFunc` the moment the caller's context is done. The
/// processor's future is dropped on the runtime right away; the completion
/// that follows is absorbed by Go. Unknown ids (already finished) are
/// ignored.
#[no_mangle]
pub extern "C" fn otelcol_rust_cancel(request_id: u64) {
    let token = PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&request_id).cloned());
    if let Some(token) = token {
        token.cancel();
    }
}
