//! Errors across the crossing: how a request's `ProcessingError` is handed
//! to Go, and how the next Go consumer's answer comes back into Rust.
//!
//! Go turns what it reads here into the error a Go processor would return
//! (`components/bridge/outcome.go`); the mapping table is in the bridge
//! README.

use std::ffi::c_void;
use std::sync::Arc;

use otelcol_rust_engine::{DownstreamError, ForeignError, GrpcCode, ProcessingError, Status};

use crate::abi::{
    OtelcolRustError, OTELCOL_RUST_ERR_BRIDGE, OTELCOL_RUST_ERR_CANCELLED,
    OTELCOL_RUST_ERR_DEADLINE, OTELCOL_RUST_ERR_DOWNSTREAM, OTELCOL_RUST_ERR_INVALID_DATA,
    OTELCOL_RUST_ERR_NONE, OTELCOL_RUST_ERR_PANIC, OTELCOL_RUST_ERR_PERMANENT,
    OTELCOL_RUST_ERR_RETRYABLE,
};
use crate::buffer::release_error;

/// Owns what an [`OtelcolRustError`] points to until Go frees it.
struct Details {
    message: Box<str>,
    _foreign: Option<Arc<ForeignError>>,
}

impl OtelcolRustError {
    /// No error.
    pub fn none() -> Self {
        OtelcolRustError {
            kind: OTELCOL_RUST_ERR_NONE,
            permanent: 0,
            grpc_code: 0,
            http_status: 0,
            foreign_error: 0,
            retry_after_nanos: 0,
            message: std::ptr::null(),
            message_len: 0,
            details: std::ptr::null_mut(),
        }
    }

    fn with_details(kind: u8, message: String, foreign: Option<Arc<ForeignError>>) -> Self {
        let details = Box::new(Details {
            message: message.into_boxed_str(),
            _foreign: foreign.clone(),
        });
        OtelcolRustError {
            kind,
            foreign_error: foreign.as_ref().map_or(0, |f| f.id()),
            message: details.message.as_ptr(),
            message_len: details.message.len(),
            details: Box::into_raw(details).cast(),
            ..OtelcolRustError::none()
        }
    }

    /// A request the bridge itself refused.
    pub fn bridge(message: impl Into<String>) -> Self {
        let mut e = OtelcolRustError::with_details(OTELCOL_RUST_ERR_BRIDGE, message.into(), None);
        e.permanent = 1;
        e
    }

    /// The kind and class of a result, without its details.
    pub fn from_kind(result: &Result<(), ProcessingError>) -> (u8, bool) {
        match result {
            Ok(()) => (OTELCOL_RUST_ERR_NONE, false),
            Err(err) => (Self::kind_of(err), err.is_permanent()),
        }
    }

    fn kind_of(err: &ProcessingError) -> u8 {
        match err.root() {
            ProcessingError::Permanent { .. } => OTELCOL_RUST_ERR_PERMANENT,
            ProcessingError::Retryable { .. } => OTELCOL_RUST_ERR_RETRYABLE,
            ProcessingError::Cancelled => OTELCOL_RUST_ERR_CANCELLED,
            ProcessingError::DeadlineExceeded => OTELCOL_RUST_ERR_DEADLINE,
            ProcessingError::Panic { .. } => OTELCOL_RUST_ERR_PANIC,
            ProcessingError::InvalidData { .. } => OTELCOL_RUST_ERR_INVALID_DATA,
            ProcessingError::Downstream(_) => OTELCOL_RUST_ERR_DOWNSTREAM,
            ProcessingError::Wrapped { .. } => unreachable!("root() unwraps every Wrapped"),
        }
    }

    /// How a request that ended with `result` ended.
    pub fn from_result(result: Result<(), ProcessingError>) -> Self {
        let err = match result {
            Ok(()) => return OtelcolRustError::none(),
            Err(err) => err,
        };
        let status = err.status();
        let kind = Self::kind_of(&err);
        let foreign = match err.root() {
            ProcessingError::Downstream(d) => d.origin.clone(),
            _ => None,
        };
        let mut e = OtelcolRustError::with_details(kind, err.to_string(), foreign);
        e.permanent = u8::from(err.is_permanent());
        e.grpc_code = status.grpc().map_or(0, |c| c as i32);
        e.http_status = status.http().map_or(0, i32::from);
        e.retry_after_nanos = status
            .retry_after()
            .map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64);
        e
    }
}

/// Frees what an error handed to Go owns, after Go has read it.
///
/// # Safety
/// `details` must come from an [`OtelcolRustError`] and be freed once.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_error_free(details: *mut c_void) {
    if !details.is_null() {
        // SAFETY: made by Box::into_raw in with_details; Go frees it once.
        drop(unsafe { Box::from_raw(details.cast::<Details>()) });
    }
}

/// Frees the per-processor outcomes of a chain's request after Go read
/// them.
///
/// # Safety
/// `outcomes` must come from a DONE step's `stage_outcomes`, with its
/// `stage_outcomes_len`, and be freed once.
#[no_mangle]
pub unsafe extern "C" fn otelcol_rust_stage_outcomes_free(
    outcomes: *mut crate::abi::OtelcolRustStageOutcome,
    len: usize,
) {
    if !outcomes.is_null() {
        // SAFETY: made from a boxed slice of `len` outcomes in
        // request.rs (Task::finish) and freed once (this function's
        // contract).
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(outcomes, len)) });
    }
}

/// The next consumer's answer to an emission, as Go passes it to
/// `otelcol_rust_request_resume`.
pub struct Reply<'a> {
    /// `OTELCOL_RUST_ERR_NONE`, or the class of the consumer's error.
    pub kind: u8,
    /// gRPC code, 0 when absent.
    pub grpc_code: i32,
    /// HTTP status, 0 when absent.
    pub http_status: i32,
    /// Go's id of the error value, 0 when none; Rust releases it.
    pub foreign_error: u64,
    /// The error text.
    pub message: &'a [u8],
}

impl Reply<'_> {
    /// What `send_message` returns to the processor.
    pub fn into_result(self) -> Result<(), ProcessingError> {
        let origin = (self.foreign_error != 0)
            .then(|| Arc::new(ForeignError::new(self.foreign_error, release_error)));
        if self.kind == OTELCOL_RUST_ERR_NONE {
            return Ok(());
        }
        let mut status = Status::default();
        if let Some(code) = GrpcCode::from_i32(self.grpc_code) {
            status = status.with_grpc(code);
        }
        if let Ok(http) = u16::try_from(self.http_status) {
            status = status.with_http(http);
        }
        Err(ProcessingError::Downstream(DownstreamError {
            message: String::from_utf8_lossy(self.message).into_owned(),
            permanent: self.kind == OTELCOL_RUST_ERR_PERMANENT,
            status,
            origin,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_class_codes_and_text() {
        let e = OtelcolRustError::from_result(Err(ProcessingError::resource_exhausted("slow")
            .with_retry_after(std::time::Duration::from_millis(1500))
            .wrap("tenant a")));
        assert_eq!(e.kind, OTELCOL_RUST_ERR_RETRYABLE);
        assert_eq!(e.permanent, 0);
        assert_eq!(e.grpc_code, 8);
        assert_eq!(e.http_status, 429);
        assert_eq!(e.retry_after_nanos, 1_500_000_000);
        // SAFETY: message/message_len describe the text `details` owns.
        let text = unsafe { std::slice::from_raw_parts(e.message, e.message_len) };
        assert_eq!(text, b"tenant a: slow");
        // SAFETY: freed once.
        unsafe { otelcol_rust_error_free(e.details) };
        let ok = OtelcolRustError::from_result(Ok(()));
        assert_eq!(ok.kind, OTELCOL_RUST_ERR_NONE);
        assert!(ok.details.is_null());
    }

    #[test]
    fn replies_keep_the_consumers_class_and_codes() {
        let r = Reply {
            kind: OTELCOL_RUST_ERR_PERMANENT,
            grpc_code: 3,
            http_status: 0,
            foreign_error: 0,
            message: b"bad",
        };
        let err = r.into_result().unwrap_err();
        assert!(err.is_permanent());
        assert_eq!(err.status().grpc(), Some(GrpcCode::InvalidArgument));
        assert_eq!(err.to_string(), "bad");
        let invalid = Reply {
            kind: OTELCOL_RUST_ERR_RETRYABLE,
            grpc_code: 0,
            http_status: 200,
            foreign_error: 0,
            message: b"",
        };
        assert_eq!(
            invalid.into_result().unwrap_err().status(),
            Status::default()
        );
    }
}
