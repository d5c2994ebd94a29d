//! The one error type a processor returns, shaped after what the Collector's
//! `consumererror` package can express on the Go side.
//!
//! A Go caller of a Rust processor must not be able to tell it from a Go
//! processor by its errors, so the variants follow the Collector's
//! classification rather than Rust habits: every error is either permanent
//! (the data is bad or rejected: never retry) or retryable, and may carry the
//! gRPC code and HTTP status an OTLP receiver should answer with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Signal;

/// gRPC status codes, numbered as in `google.golang.org/grpc/codes`.
///
/// `OK` is deliberately absent: an error never carries it (the Collector's
/// `NewOTLPGRPCError` panics on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum GrpcCode {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl GrpcCode {
    /// The code for its number; `None` for OK and for numbers gRPC does not
    /// define.
    pub fn from_i32(code: i32) -> Option<Self> {
        use GrpcCode::*;
        Some(match code {
            1 => Cancelled,
            2 => Unknown,
            3 => InvalidArgument,
            4 => DeadlineExceeded,
            5 => NotFound,
            6 => AlreadyExists,
            7 => PermissionDenied,
            8 => ResourceExhausted,
            9 => FailedPrecondition,
            10 => Aborted,
            11 => OutOfRange,
            12 => Unimplemented,
            13 => Internal,
            14 => Unavailable,
            15 => DataLoss,
            16 => Unauthenticated,
            _ => return None,
        })
    }
}

/// Transport status an error asks the receiver to answer with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    grpc: Option<GrpcCode>,
    http: Option<u16>,
    retry_after: Option<Duration>,
}

impl Status {
    /// The gRPC code, if one was set.
    pub fn grpc(&self) -> Option<GrpcCode> {
        self.grpc
    }

    /// The HTTP status, if one was set. Always an error status (4xx or 5xx).
    pub fn http(&self) -> Option<u16> {
        self.http
    }

    /// How long the client should wait before retrying, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Sets the gRPC code.
    pub fn with_grpc(mut self, code: GrpcCode) -> Self {
        self.grpc = Some(code);
        self
    }

    /// Sets the HTTP status. Anything outside 400..=599 is ignored: the
    /// Collector would panic on a 2xx and has no meaning for the rest.
    pub fn with_http(mut self, status: u16) -> Self {
        self.http = (400..=599).contains(&status).then_some(status);
        self
    }

    /// Sets the retry delay.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }
}

/// An error value owned by the other runtime (a Go `error` returned by the
/// downstream consumer). Rust keeps only its id; dropping the last reference
/// releases the Go value.
pub struct ForeignError {
    id: u64,
    release: fn(u64),
}

impl ForeignError {
    /// Wraps a foreign error id; `release` runs once, when it is dropped.
    pub fn new(id: u64, release: fn(u64)) -> Self {
        ForeignError { id, release }
    }

    /// The id the other runtime knows the error by.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for ForeignError {
    fn drop(&mut self) {
        (self.release)(self.id)
    }
}

impl fmt::Debug for ForeignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignError")
            .field("id", &self.id)
            .finish()
    }
}

/// What the next consumer returned, as a processor sees it.
#[derive(Debug, Clone)]
pub struct DownstreamError {
    /// The error's text (`err.Error()` in Go).
    pub message: String,
    /// Whether the consumer marked it permanent.
    pub permanent: bool,
    /// The codes the consumer's error carried.
    pub status: Status,
    /// The original error value, so that returning this error unchanged
    /// gives the Go caller the very same value.
    pub origin: Option<Arc<ForeignError>>,
}

/// Everything that can go wrong while processing a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProcessingError {
    /// The data was rejected and retrying it cannot help.
    #[error("{message}")]
    Permanent {
        /// What was wrong.
        message: String,
        /// Transport status for the client.
        status: Status,
    },
    /// A transient failure: the same data may succeed later.
    #[error("{message}")]
    Retryable {
        /// What went wrong.
        message: String,
        /// Transport status for the client.
        status: Status,
    },
    /// The batch could not be decoded or does not hold the expected signal.
    #[error("invalid {signal} data: {reason}")]
    InvalidData {
        /// The signal the batch was said to hold.
        signal: Signal,
        /// What the decoder reported.
        reason: String,
    },
    /// The request was cancelled by its caller.
    #[error("context canceled")]
    Cancelled,
    /// The request's deadline passed before the work finished.
    #[error("context deadline exceeded")]
    DeadlineExceeded,
    /// The processor panicked; the panic was contained by the bridge.
    #[error("processor {processor} panicked: {message}")]
    Panic {
        /// The component id of the processor.
        processor: String,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// The next consumer failed.
    #[error("{}", .0.message)]
    Downstream(DownstreamError),
    /// Another error with more context. Keeps the inner error's class and
    /// codes; a wrapped downstream error still unwraps, in Go, to the
    /// original Go value.
    #[error("{context}: {source}")]
    Wrapped {
        /// What was being done.
        context: String,
        /// The error being wrapped.
        source: Box<ProcessingError>,
    },
}

impl ProcessingError {
    /// A permanent rejection.
    pub fn permanent(message: impl Into<String>) -> Self {
        ProcessingError::Permanent {
            message: message.into(),
            status: Status::default(),
        }
    }

    /// A retryable failure.
    pub fn retryable(message: impl Into<String>) -> Self {
        ProcessingError::Retryable {
            message: message.into(),
            status: Status::default(),
        }
    }

    /// Invalid or undecodable data (permanent).
    pub fn invalid_data(signal: Signal, reason: impl Into<String>) -> Self {
        ProcessingError::InvalidData {
            signal,
            reason: reason.into(),
        }
    }

    /// The client sent too much: retryable, gRPC `RESOURCE_EXHAUSTED`,
    /// HTTP 429 (what a rate limiter answers).
    pub fn resource_exhausted(message: impl Into<String>) -> Self {
        ProcessingError::retryable(message)
            .with_grpc(GrpcCode::ResourceExhausted)
            .with_http(429)
    }

    /// The data is invalid: permanent, gRPC `INVALID_ARGUMENT`, HTTP 400.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        ProcessingError::permanent(message)
            .with_grpc(GrpcCode::InvalidArgument)
            .with_http(400)
    }

    /// A transient failure: retryable, gRPC `UNAVAILABLE`, HTTP 503.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ProcessingError::retryable(message)
            .with_grpc(GrpcCode::Unavailable)
            .with_http(503)
    }

    /// A contained panic, from its payload (a `catch_unwind` result or a
    /// tokio `JoinError::into_panic`).
    pub fn panic(processor: impl Into<String>, payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        ProcessingError::Panic {
            processor: processor.into(),
            message,
        }
    }

    /// Wraps the error with what was being done.
    pub fn wrap(self, context: impl Into<String>) -> Self {
        ProcessingError::Wrapped {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The innermost error, through any [`ProcessingError::Wrapped`].
    pub fn root(&self) -> &ProcessingError {
        match self {
            ProcessingError::Wrapped { source, .. } => source.root(),
            other => other,
        }
    }

    /// Sets how long the client should wait before retrying (carried as
    /// gRPC `RetryInfo` and the HTTP `Retry-After` header).
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        if let Some(status) = self.status_mut() {
            *status = status.with_retry_after(delay);
        }
        self
    }

    /// Attaches a gRPC code (to `Permanent` and `Retryable`; others keep
    /// their fixed meaning).
    pub fn with_grpc(mut self, code: GrpcCode) -> Self {
        if let Some(status) = self.status_mut() {
            *status = status.with_grpc(code);
        }
        self
    }

    /// Attaches an HTTP status (see [`Status::with_http`]).
    pub fn with_http(mut self, http: u16) -> Self {
        if let Some(status) = self.status_mut() {
            *status = status.with_http(http);
        }
        self
    }

    fn status_mut(&mut self) -> Option<&mut Status> {
        match self {
            ProcessingError::Permanent { status, .. }
            | ProcessingError::Retryable { status, .. } => Some(status),
            _ => None,
        }
    }

    /// The transport status the error carries, if any.
    pub fn status(&self) -> Status {
        match self {
            ProcessingError::Permanent { status, .. }
            | ProcessingError::Retryable { status, .. } => *status,
            ProcessingError::Downstream(d) => d.status,
            ProcessingError::Wrapped { source, .. } => source.status(),
            _ => Status::default(),
        }
    }

    /// Whether retrying the same data can never succeed.
    pub fn is_permanent(&self) -> bool {
        match self {
            ProcessingError::Permanent { .. }
            | ProcessingError::InvalidData { .. }
            | ProcessingError::Panic { .. } => true,
            ProcessingError::Downstream(d) => d.permanent,
            ProcessingError::Wrapped { source, .. } => source.is_permanent(),
            ProcessingError::Retryable { .. }
            | ProcessingError::Cancelled
            | ProcessingError::DeadlineExceeded => false,
        }
    }

    /// Whether the caller may retry the same data.
    pub fn is_retryable(&self) -> bool {
        !self.is_permanent()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(ProcessingError::permanent("x").is_permanent());
        assert!(ProcessingError::retryable("x").is_retryable());
        assert!(ProcessingError::invalid_data(Signal::Logs, "x").is_permanent());
        assert!(!ProcessingError::Cancelled.is_permanent());
    }

    #[test]
    fn invalid_codes_are_absent() {
        assert_eq!(GrpcCode::from_i32(0), None);
        assert_eq!(GrpcCode::from_i32(17), None);
        assert_eq!(GrpcCode::from_i32(8), Some(GrpcCode::ResourceExhausted));
        let err = ProcessingError::retryable("slow down").with_http(200);
        assert_eq!(err.status().http(), None);
        let err = ProcessingError::retryable("slow down").with_http(429);
        assert_eq!(err.status().http(), Some(429));
    }

    #[test]
    fn constructors_and_wrapping() {
        let err = ProcessingError::resource_exhausted("slow down")
            .with_retry_after(Duration::from_secs(2));
        assert!(err.is_retryable());
        assert_eq!(err.status().grpc(), Some(GrpcCode::ResourceExhausted));
        assert_eq!(err.status().http(), Some(429));
        assert_eq!(err.status().retry_after(), Some(Duration::from_secs(2)));
        let wrapped = err.wrap("tenant a");
        assert_eq!(wrapped.to_string(), "tenant a: slow down");
        assert!(wrapped.is_retryable());
        assert_eq!(wrapped.status().http(), Some(429));
        assert!(matches!(wrapped.root(), ProcessingError::Retryable { .. }));
        let bad = ProcessingError::invalid_argument("no");
        assert!(bad.is_permanent());
        assert_eq!(bad.status().grpc(), Some(GrpcCode::InvalidArgument));
        let p = ProcessingError::panic("p/1", Box::new("boom"));
        assert_eq!(p.to_string(), "processor p/1 panicked: boom");
        assert!(p.is_permanent());
    }

    #[test]
    fn foreign_error_released_once() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static RELEASED: AtomicU64 = AtomicU64::new(0);
        fn release(id: u64) {
            RELEASED.fetch_add(id, Ordering::SeqCst);
        }
        let origin = Arc::new(ForeignError::new(7, release));
        let err = ProcessingError::Downstream(DownstreamError {
            message: "boom".into(),
            permanent: true,
            status: Status::default(),
            origin: Some(origin),
        });
        let copy = err.clone();
        drop(err);
        assert_eq!(RELEASED.load(Ordering::SeqCst), 0);
        drop(copy);
        assert_eq!(RELEASED.load(Ordering::SeqCst), 7);
    }
}
