//! The hand-written part of the C ABI: the per-request call and the structs
//! that cross with it.
//!
//! Layouts here must match `components/internal/bridge/bridge.h`; the Go
//! ABI test compares the sizes and offsets Rust reports through
//! [`otelcol_rust_abi_layout`] with what cgo sees.

use std::ffi::c_char;
use std::sync::Arc;

use otelcol_rust_engine::{ForeignError, ProcessingError};

/// The request is finished.
pub const STATE_DONE: u8 = 0;
/// The request moved to the slow path; a `GoBridge::complete` call follows.
pub const STATE_PENDING: u8 = 1;

/// No error.
pub const ERR_NONE: u8 = 0;
/// Permanent rejection.
pub const ERR_PERMANENT: u8 = 1;
/// Retryable failure.
pub const ERR_RETRYABLE: u8 = 2;
/// Cancelled by the caller.
pub const ERR_CANCELLED: u8 = 3;
/// Deadline exceeded.
pub const ERR_DEADLINE: u8 = 4;
/// The processor panicked (permanent).
pub const ERR_PANIC: u8 = 5;
/// Undecodable or mismatched data (permanent).
pub const ERR_INVALID_DATA: u8 = 6;
/// The next consumer's error, passed back out.
pub const ERR_DOWNSTREAM: u8 = 7;
/// The bridge itself refused the call (unknown component, bad signal).
pub const ERR_BRIDGE: u8 = 8;

/// How a request ended, as Go reads it.
///
/// When `details` is not null, Go reads `message` and `foreign_error` and
/// then frees the details with [`otelcol_rust_details_free`]; until then the
/// foreign error stays referenced, so Go can still find the original value.
#[repr(C)]
#[derive(Debug)]
pub struct Outcome {
    /// [`STATE_DONE`] or [`STATE_PENDING`].
    pub state: u8,
    /// One of the `ERR_*` kinds.
    pub error_kind: u8,
    /// Whether Rust still holds the request's input buffer: Go must keep it
    /// pinned until a `Release` for this request arrives.
    pub buffer_retained: u8,
    /// 1 when the error is permanent (for every kind, so that a downstream
    /// error whose Go original is gone keeps its class).
    pub permanent: u8,
    /// gRPC code, 0 when absent.
    pub grpc_code: i32,
    /// HTTP status, 0 when absent.
    pub http_status: i32,
    /// Id of the Go error to return as is, 0 when none.
    pub foreign_error: u64,
    /// Retry delay in nanoseconds, 0 when absent.
    pub retry_after_nanos: u64,
    /// Error text (UTF-8, not NUL-terminated), owned by `details`.
    pub message_ptr: *const c_char,
    /// Length of the error text.
    pub message_len: usize,
    /// What Go must free, or null.
    pub details: *mut OutcomeDetails,
}

/// Owns what an [`Outcome`] points to.
#[derive(Debug)]
pub struct OutcomeDetails {
    message: Box<str>,
    _foreign: Option<Arc<ForeignError>>,
}

impl Outcome {
    /// A finished request without error.
    pub fn ok(buffer_retained: bool) -> Self {
        Outcome {
            state: STATE_DONE,
            error_kind: ERR_NONE,
            buffer_retained: buffer_retained as u8,
            permanent: 0,
            grpc_code: 0,
            http_status: 0,
            foreign_error: 0,
            retry_after_nanos: 0,
            message_ptr: std::ptr::null(),
            message_len: 0,
            details: std::ptr::null_mut(),
        }
    }

    /// A request that moved to the slow path.
    pub fn pending() -> Self {
        Outcome {
            state: STATE_PENDING,
            ..Outcome::ok(false)
        }
    }

    /// A request that the bridge itself refused.
    pub fn bridge_error(message: impl Into<String>) -> Self {
        let mut outcome = Outcome::with_details(ERR_BRIDGE, message.into(), None);
        outcome.permanent = 1;
        outcome
    }

    fn with_details(kind: u8, message: String, foreign: Option<Arc<ForeignError>>) -> Self {
        let foreign_error = foreign.as_ref().map_or(0, |f| f.id());
        let details = Box::new(OutcomeDetails {
            message: message.into_boxed_str(),
            _foreign: foreign,
        });
        let mut outcome = Outcome::ok(false);
        outcome.error_kind = kind;
        outcome.foreign_error = foreign_error;
        outcome.message_ptr = details.message.as_ptr().cast();
        outcome.message_len = details.message.len();
        outcome.details = Box::into_raw(details);
        outcome
    }

    /// The outcome of a request that ended with `result`.
    pub fn from_result(result: Result<(), ProcessingError>, buffer_retained: bool) -> Self {
        let err = match result {
            Ok(()) => return Outcome::ok(buffer_retained),
            Err(err) => err,
        };
        let status = err.status();
        let (kind, foreign) = match err.root() {
            ProcessingError::Permanent { .. } => (ERR_PERMANENT, None),
            ProcessingError::Retryable { .. } => (ERR_RETRYABLE, None),
            ProcessingError::Cancelled => (ERR_CANCELLED, None),
            ProcessingError::DeadlineExceeded => (ERR_DEADLINE, None),
            ProcessingError::Panic { .. } => (ERR_PANIC, None),
            ProcessingError::InvalidData { .. } => (ERR_INVALID_DATA, None),
            ProcessingError::Downstream(d) => (ERR_DOWNSTREAM, d.origin.clone()),
            ProcessingError::Wrapped { .. } => unreachable!("root() unwraps every Wrapped"),
        };
        let mut outcome = Outcome::with_details(kind, err.to_string(), foreign);
        outcome.buffer_retained = buffer_retained as u8;
        outcome.permanent = err.is_permanent() as u8;
        outcome.grpc_code = status.grpc().map_or(0, |c| c as i32);
        outcome.http_status = status.http().map_or(0, i32::from);
        outcome.retry_after_nanos = status
            .retry_after()
            .map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64);
        outcome
    }
}

/// Where Go writes the next consumer's answer to an emission.
#[repr(C)]
#[derive(Debug, Default)]
pub struct EmitReply {
    /// 0: delivered. Otherwise [`ERR_PERMANENT`] or [`ERR_RETRYABLE`], or
    /// [`ERR_CANCELLED`] / [`ERR_DEADLINE`] when the consumer returned the
    /// context's error.
    pub error_kind: u8,
    /// gRPC code, 0 when absent.
    pub grpc_code: i32,
    /// HTTP status, 0 when absent.
    pub http_status: i32,
    /// Id of the Go error value, 0 when none. Rust releases it.
    pub foreign_error: u64,
    /// The error text, `malloc`ed by Go; Rust frees it.
    pub message: *mut c_char,
    /// Length of the error text.
    pub message_len: usize,
}

// SAFETY: the pointers are owned by the outcome or reply they sit in and are
// only read by the thread that holds it.
unsafe impl Send for Outcome {}
unsafe impl Send for EmitReply {}

/// Frees the details of an outcome after Go has read them.
///
/// # Safety
/// `details` must come from an [`Outcome`] and be freed exactly once.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_details_free(details: *mut OutcomeDetails) {
    if !details.is_null() {
        // SAFETY: created by Box::into_raw in Outcome::with_details, and the
        // caller frees it once.
        drop(unsafe { Box::from_raw(details) });
    }
}

/// Sizes and field offsets of the structs above, for the Go ABI test.
#[repr(C)]
#[derive(Debug, Default)]
pub struct AbiLayout {
    /// `size_of::<Outcome>()`
    pub outcome_size: usize,
    /// Offset of `Outcome::foreign_error`.
    pub outcome_foreign_error: usize,
    /// Offset of `Outcome::details`.
    pub outcome_details: usize,
    /// `size_of::<EmitReply>()`
    pub emit_reply_size: usize,
    /// Offset of `EmitReply::message_len`.
    pub emit_reply_message_len: usize,
}

/// Reports the layouts of the hand-written structs.
#[no_mangle]
pub extern "C" fn otelcol_rust_abi_layout() -> AbiLayout {
    AbiLayout {
        outcome_size: std::mem::size_of::<Outcome>(),
        outcome_foreign_error: std::mem::offset_of!(Outcome, foreign_error),
        outcome_details: std::mem::offset_of!(Outcome, details),
        emit_reply_size: std::mem::size_of::<EmitReply>(),
        emit_reply_message_len: std::mem::offset_of!(EmitReply, message_len),
    }
}
