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

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};

use otelcol_rust_engine::{Context, Message, OtlpData, ProcessingError, RequestContext, Signal};

use crate::abi::Outcome;
use crate::buffer::{go_bytes, BufferLease};
use crate::component::{self, Component, Instance};
use crate::ffi::{Completion, GoBridge, GoBridgeImpl};
use crate::runtime::{drop_contained, panic_message, runtime, CatchUnwind};
use crate::sink::release_buffer;

/// Requests inside Rust right now.
pub static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
/// Requests that finished on the slow path.
pub static SLOW_PATH_TOTAL: AtomicU64 = AtomicU64::new(0);

type RequestFuture = Pin<Box<dyn Future<Output = (Instance, Result<(), ProcessingError>)> + Send>>;

/// Runs one request of `component`. See the module docs.
///
/// # Safety
/// `data..data+len` must stay readable and unchanged until the returned
/// outcome (or, for a pending one, the completion) says the buffer is not
/// retained, or until a release for `request_id` arrives.
pub unsafe fn process(
    component_handle: u64,
    request_id: u64,
    signal: u8,
    data: *const u8,
    len: usize,
) -> Outcome {
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
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let lease = BufferLease::new(request_id, release_buffer);
    // SAFETY: forwarded from this function's contract.
    let bytes = unsafe { go_bytes(data, len, lease.clone()) };
    let pdata = Context::new(
        RequestContext::new(request_id),
        OtlpData::from_original(signal, bytes),
    );

    let started = catch_unwind(AssertUnwindSafe(|| {
        let mut instance = component.take_instance();
        let mut effect_handler = component.effect_handler();
        let future: RequestFuture = Box::pin(async move {
            let result = instance
                .processor()
                .process(Message::PData(pdata), &mut effect_handler)
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
            spawn_slow_path(component, request_id, future, lease);
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
) {
    runtime().spawn(async move {
        let outcome = match CatchUnwind(future).await {
            Ok((instance, result)) => {
                component.put_instance(instance);
                finish(&component, lease, result)
            }
            Err(payload) => {
                let err = panic_error(&component, payload);
                finish(&component, lease, Err(err))
            }
        };
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
pub unsafe extern "C" fn otelcol_rust_process(
    component: u64,
    request_id: u64,
    signal: u8,
    data: *const u8,
    len: usize,
) -> Outcome {
    // A panic must never unwind into Go; everything that can panic inside
    // `process` is already contained, this is the last fence.
    // SAFETY: forwarded contract.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        process(component, request_id, signal, data, len)
    }))
    .unwrap_or_else(|payload| {
        Outcome::bridge_error(format!(
            "otelcol-rust bridge panicked: {}",
            panic_message(payload.as_ref())
        ))
    })
}
