//! Emissions to the next Go consumer.
//!
//! `send_message` calls Go synchronously, on whatever thread the processor
//! runs: the Go caller's own thread on the inline path, a runtime worker on
//! the slow path. Go answers through an [`EmitReply`] that lives on this
//! stack frame, so the consumer's error is the result of `send_message`.

use std::ffi::c_void;
use std::sync::Arc;

use async_trait::async_trait;
use otelcol_rust_engine::{
    DownstreamError, ForeignError, GrpcCode, MessageSink, PData, ProcessingError, Status,
};

use crate::abi::{EmitReply, ERR_NONE, ERR_PERMANENT};
use crate::ffi::{Emission, GoBridge, GoBridgeImpl, Release};
use crate::wire;

/// `Release::kind` for a Go error value.
pub const RELEASE_ERROR: u8 = 2;
/// `Release::kind` for a request's pinned input buffer.
pub const RELEASE_BUFFER: u8 = 1;

extern "C" {
    fn free(ptr: *mut c_void);
}

/// Tells Go that Rust dropped its last reference to a Go error value.
pub fn release_error(id: u64) {
    GoBridgeImpl::release(&Release {
        kind: RELEASE_ERROR,
        id,
    });
}

/// Tells Go that Rust no longer reads a request's input buffer.
pub fn release_buffer(request_id: u64) {
    GoBridgeImpl::release(&Release {
        kind: RELEASE_BUFFER,
        id: request_id,
    });
}

/// The sink of one component: its next Go consumer.
pub struct GoSink {
    component: u64,
}

impl GoSink {
    /// The sink of the component with this handle.
    pub fn new(component: u64) -> Self {
        GoSink { component }
    }

    fn deliver(&self, data: PData) -> Result<(), ProcessingError> {
        let (request, otlp) = data.into_parts();
        let original = otlp.is_original();
        let encoded;
        let owned;
        let bytes: &[u8] = match otlp.encoded() {
            Some(bytes) => {
                encoded = bytes.clone();
                &encoded
            }
            None => {
                owned = otlp.encode_decoded().unwrap_or_default();
                &owned
            }
        };
        // The context travels along whenever there is one: Go uses it when
        // the metadata changed or when the request already completed.
        let ctx = wire::encode(request.client(), request.span_context());
        let deadline_nanos = request
            .remaining()
            .map_or(-1, |d| d.as_nanos().min(i64::MAX as u128) as i64);
        let mut reply = EmitReply::default();
        #[cfg(feature = "testing")]
        crate::testing::record_emission(bytes.as_ptr());
        GoBridgeImpl::emit(&Emission {
            component: self.component,
            request_id: request.id(),
            signal: otlp.signal() as u8,
            original,
            data_ptr: bytes.as_ptr() as usize,
            data_len: bytes.len(),
            reply_ptr: &mut reply as *mut EmitReply as usize,
            ctx_ptr: ctx.as_ptr() as usize,
            ctx_len: ctx.len(),
            deadline_nanos,
            metadata_changed: request.metadata_changed(),
            span_handle: request.span_handle(),
        });
        reply_to_result(reply)
    }
}

#[async_trait]
impl MessageSink<PData> for GoSink {
    async fn send(&self, data: PData) -> Result<(), ProcessingError> {
        self.deliver(data)
    }
}

fn reply_to_result(reply: EmitReply) -> Result<(), ProcessingError> {
    let message = if reply.message.is_null() {
        String::new()
    } else {
        // SAFETY: Go wrote `message_len` bytes with C.CBytes (malloc) and
        // handed ownership to Rust; they are freed exactly once, here.
        unsafe {
            let bytes = std::slice::from_raw_parts(reply.message as *const u8, reply.message_len);
            let text = String::from_utf8_lossy(bytes).into_owned();
            free(reply.message.cast());
            text
        }
    };
    if reply.error_kind == ERR_NONE {
        return Ok(());
    }
    let origin = (reply.foreign_error != 0)
        .then(|| Arc::new(ForeignError::new(reply.foreign_error, release_error)));
    let mut status = Status::default();
    if let Some(code) = GrpcCode::from_i32(reply.grpc_code) {
        status = status.with_grpc(code);
    }
    if let Ok(http) = u16::try_from(reply.http_status) {
        status = status.with_http(http);
    }
    Err(ProcessingError::Downstream(DownstreamError {
        message,
        permanent: reply.error_kind == ERR_PERMANENT,
        status,
        origin,
    }))
}
