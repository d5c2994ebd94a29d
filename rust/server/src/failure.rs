//! A `ProcessingError` as a gRPC status the Go side turns back into the
//! error a Go processor would return.
//!
//! The status code is the error's own gRPC code when it has one, so that
//! even a client of this service that knows nothing of the details sees
//! the right class; the details carry a `ProcessingFailure` (class, gRPC
//! and HTTP codes, retry delay, text), which the Go side reads to build
//! exactly what the cgo bridge builds.

use bytes::Bytes;
use otelcol_rust_engine::ProcessingError;
use prost::Message as _;
use tonic::{Code, Status};

use crate::pb::{processing_failure::Kind, ProcessingFailure, RpcAny, RpcStatus};

/// The type URL the Go side registers for [`ProcessingFailure`].
const FAILURE_TYPE_URL: &str = "type.googleapis.com/otelcolrust.v1.ProcessingFailure";

/// The failure of a request, classified.
pub fn failure(err: &ProcessingError) -> ProcessingFailure {
    let kind = match err.root() {
        ProcessingError::Retryable { .. } => Kind::Retryable,
        ProcessingError::Cancelled => Kind::Cancelled,
        ProcessingError::DeadlineExceeded => Kind::Deadline,
        ProcessingError::Panic { .. } => Kind::Panic,
        // Downstream errors cannot occur here (the Go side calls the next
        // consumer itself); InvalidData and Permanent are permanent.
        _ if err.is_permanent() => Kind::Permanent,
        _ => Kind::Retryable,
    };
    let status = err.status();
    ProcessingFailure {
        kind: kind as i32,
        permanent: err.is_permanent(),
        grpc_code: status.grpc().map_or(0, |c| c as i32),
        http_status: status.http().map_or(0, i32::from),
        retry_after_nanos: status
            .retry_after()
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        message: err.to_string(),
    }
}

/// The status a failed `Process` returns.
pub fn status(err: &ProcessingError) -> Status {
    let failure = failure(err);
    let code = match Kind::try_from(failure.kind) {
        Ok(Kind::Cancelled) => Code::Cancelled,
        Ok(Kind::Deadline) => Code::DeadlineExceeded,
        _ if failure.grpc_code > 0 => Code::from_i32(failure.grpc_code),
        _ if failure.permanent => Code::InvalidArgument,
        _ => Code::Unavailable,
    };
    let details = RpcStatus {
        code: code as i32,
        message: failure.message.clone(),
        details: vec![RpcAny {
            type_url: FAILURE_TYPE_URL.to_string(),
            value: failure.encode_to_vec(),
        }],
    };
    Status::with_details(code, failure.message, Bytes::from(details.encode_to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn resource_exhausted_keeps_its_codes_and_delay() {
        let err = ProcessingError::resource_exhausted("over budget")
            .with_retry_after(Duration::from_millis(1500));
        let st = status(&err);
        assert_eq!(st.code(), Code::ResourceExhausted);
        let details = RpcStatus::decode(st.details()).expect("details decode");
        let f = ProcessingFailure::decode(details.details[0].value.as_slice()).expect("failure");
        assert_eq!(f.grpc_code, 8);
        assert_eq!(f.retry_after_nanos, 1_500_000_000);
        assert_eq!(f.message, "over budget");
    }

    #[test]
    fn permanent_without_code_is_invalid_argument() {
        let st = status(&ProcessingError::permanent("bad"));
        assert_eq!(st.code(), Code::InvalidArgument);
        let st = status(&ProcessingError::retryable("later"));
        assert_eq!(st.code(), Code::Unavailable);
    }
}
