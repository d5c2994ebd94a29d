//! The C ABI of the request path, in one place.
//!
//! Every struct and constant the Go half reads or writes on the request
//! path is defined here, and only here: `make generate` runs cbindgen on
//! this crate and writes `components/bridge/otelcol_rust_bridge.h`, which
//! the Go half uses through `C.` names (struct fields, constants and the
//! prototypes of the `extern "C"` functions in `request.rs`). A field or
//! constant changed here changes the header; a Go use that no longer fits
//! fails to compile, and `make check-generated` fails when the checked-in
//! header is stale.
//!
//! Constants that the engine defines for its own formats (the edit list)
//! are repeated here for the header and tied to the engine's by
//! compile-time assertions, so they cannot drift either.

use std::ffi::c_void;

use otelcol_rust_engine::{edit_format, Signal, TargetKind};

// What a crossing returns (`OtelcolRustStep::kind`).

/// The request ended; `error` says how.
pub const OTELCOL_RUST_STEP_DONE: u8 = 0;
/// The processor sends data to the next consumer: Go calls it and resumes
/// the request with its answer (`otelcol_rust_request_resume`).
pub const OTELCOL_RUST_STEP_EMIT: u8 = 1;
/// The processor waits (a timer, a queue): Go arms the request's wake-up
/// (`otelcol_rust_request_arm`) and polls again when woken.
pub const OTELCOL_RUST_STEP_PENDING: u8 = 2;
/// The request ended by forwarding data (`EffectHandler::forward`): Go
/// reads the emission as for EMIT, frees what `task` holds with
/// `otelcol_rust_forward_release` (when `task` is not null), then calls the
/// next consumer and returns its answer as the request's outcome. The
/// fields of DONE hold too (`stage_outcomes`; `buffer_retained` when `task`
/// is null).
pub const OTELCOL_RUST_STEP_FORWARD: u8 = 3;

// How emitted data crosses (`OtelcolRustStep::form`).

/// The request's own data, unchanged: Go forwards its own pdata.
pub const OTELCOL_RUST_FORM_ORIGINAL: u8 = 0;
/// The request's own data with attribute edits: Go applies the edit list
/// (`data`) to its own pdata and forwards it.
pub const OTELCOL_RUST_FORM_EDITS: u8 = 1;
/// A complete OTLP batch (`data`): Go unmarshals it.
pub const OTELCOL_RUST_FORM_ENCODED: u8 = 2;

// What a request brings in (`otelcol_rust_request_start`'s `input`),
// decided by the processors' `DataAccess`.

/// The whole batch, as Go marshalled it.
pub const OTELCOL_RUST_INPUT_WHOLE: u8 = 0;
/// Only the batch's attribute maps (Go's projection).
pub const OTELCOL_RUST_INPUT_ATTRIBUTES: u8 = 1;
/// No bytes: only the item count and encoded size.
pub const OTELCOL_RUST_INPUT_COUNTS: u8 = 2;
/// The attribute maps and the record fields processors rewrite whole (log
/// bodies, span names and kinds).
pub const OTELCOL_RUST_INPUT_ATTRIBUTES_AND_RECORD_FIELDS: u8 = 3;
/// `items` when Go did not measure the batch (no processor asked).
pub const OTELCOL_RUST_COUNTS_UNKNOWN: u64 = u64::MAX;

// Error kinds (`OtelcolRustError::kind`, and the reply Go gives to an
// emission).

/// No error.
pub const OTELCOL_RUST_ERR_NONE: u8 = 0;
/// Permanent rejection.
pub const OTELCOL_RUST_ERR_PERMANENT: u8 = 1;
/// Retryable failure.
pub const OTELCOL_RUST_ERR_RETRYABLE: u8 = 2;
/// Cancelled by the caller.
pub const OTELCOL_RUST_ERR_CANCELLED: u8 = 3;
/// Deadline exceeded.
pub const OTELCOL_RUST_ERR_DEADLINE: u8 = 4;
/// The processor panicked (permanent).
pub const OTELCOL_RUST_ERR_PANIC: u8 = 5;
/// Undecodable or mismatched data (permanent).
pub const OTELCOL_RUST_ERR_INVALID_DATA: u8 = 6;
/// The next consumer's error, passed back out.
pub const OTELCOL_RUST_ERR_DOWNSTREAM: u8 = 7;
/// The bridge itself refused the call (unknown component, bad signal).
pub const OTELCOL_RUST_ERR_BRIDGE: u8 = 8;

// Signals (`otelcol_rust_engine::Signal`).

/// Traces.
pub const OTELCOL_RUST_SIGNAL_TRACES: u8 = 0;
/// Metrics.
pub const OTELCOL_RUST_SIGNAL_METRICS: u8 = 1;
/// Logs.
pub const OTELCOL_RUST_SIGNAL_LOGS: u8 = 2;
const _: () = assert!(Signal::Traces as u8 == OTELCOL_RUST_SIGNAL_TRACES);
const _: () = assert!(Signal::Metrics as u8 == OTELCOL_RUST_SIGNAL_METRICS);
const _: () = assert!(Signal::Logs as u8 == OTELCOL_RUST_SIGNAL_LOGS);

// What `GoBridge::release` releases (`Release::kind`).

/// A request's pinned input buffer, by request id.
pub const OTELCOL_RUST_RELEASE_BUFFER: u8 = 1;
/// A Go error value Rust held, by error id.
pub const OTELCOL_RUST_RELEASE_ERROR: u8 = 2;

// What `GoBridge::wake` wakes (`Wake::kind`).

/// A pending request, by request id.
pub const OTELCOL_RUST_WAKE_REQUEST: u8 = 1;
/// The value of a request's wake-up state once it was woken.
pub const OTELCOL_RUST_WAKE_NOTIFIED: u32 = 1;
const _: () = assert!(crate::wake::NOTIFIED == OTELCOL_RUST_WAKE_NOTIFIED);

/// A component's emitter, by component handle: emissions made outside any
/// request are queued.
pub const OTELCOL_RUST_WAKE_COMPONENT: u8 = 2;

// Log levels (`LogRecord::level`, `LogLevelRequest::level`), zap's order.

/// Logging off.
pub const OTELCOL_RUST_LOG_OFF: u8 = 0;
/// Error.
pub const OTELCOL_RUST_LOG_ERROR: u8 = 1;
/// Warn.
pub const OTELCOL_RUST_LOG_WARN: u8 = 2;
/// Info.
pub const OTELCOL_RUST_LOG_INFO: u8 = 3;
/// Debug (and trace).
pub const OTELCOL_RUST_LOG_DEBUG: u8 = 4;

// The edit list (see `otelcol_rust_engine::pdata::edits`).

/// Replace the value of entry `index`.
pub const OTELCOL_RUST_EDIT_OP_SET_AT: u8 = 1;
/// Append an entry.
pub const OTELCOL_RUST_EDIT_OP_APPEND: u8 = 2;
/// `pcommon.Map.Remove(key)`.
pub const OTELCOL_RUST_EDIT_OP_REMOVE: u8 = 3;
/// `pcommon.Map.RemoveIf` with a keep mask.
pub const OTELCOL_RUST_EDIT_OP_RETAIN: u8 = 4;
/// Skip `n` bytes: an operation a later write made void.
pub const OTELCOL_RUST_EDIT_OP_SKIP: u8 = 5;
/// No value.
pub const OTELCOL_RUST_EDIT_VALUE_EMPTY: u8 = 0;
/// A string.
pub const OTELCOL_RUST_EDIT_VALUE_STR: u8 = 1;
/// A boolean.
pub const OTELCOL_RUST_EDIT_VALUE_BOOL: u8 = 2;
/// A 64-bit integer.
pub const OTELCOL_RUST_EDIT_VALUE_INT: u8 = 3;
/// A 64-bit float.
pub const OTELCOL_RUST_EDIT_VALUE_DOUBLE: u8 = 4;
/// Bytes.
pub const OTELCOL_RUST_EDIT_VALUE_BYTES: u8 = 5;
/// An encoded AnyValue (arrays and maps).
pub const OTELCOL_RUST_EDIT_VALUE_RAW: u8 = 6;
const _: () = {
    assert!(edit_format::OP_SET_AT == OTELCOL_RUST_EDIT_OP_SET_AT);
    assert!(edit_format::OP_APPEND == OTELCOL_RUST_EDIT_OP_APPEND);
    assert!(edit_format::OP_REMOVE == OTELCOL_RUST_EDIT_OP_REMOVE);
    assert!(edit_format::OP_RETAIN == OTELCOL_RUST_EDIT_OP_RETAIN);
    assert!(edit_format::OP_SKIP == OTELCOL_RUST_EDIT_OP_SKIP);
    assert!(edit_format::VALUE_EMPTY == OTELCOL_RUST_EDIT_VALUE_EMPTY);
    assert!(edit_format::VALUE_STR == OTELCOL_RUST_EDIT_VALUE_STR);
    assert!(edit_format::VALUE_BOOL == OTELCOL_RUST_EDIT_VALUE_BOOL);
    assert!(edit_format::VALUE_INT == OTELCOL_RUST_EDIT_VALUE_INT);
    assert!(edit_format::VALUE_DOUBLE == OTELCOL_RUST_EDIT_VALUE_DOUBLE);
    assert!(edit_format::VALUE_BYTES == OTELCOL_RUST_EDIT_VALUE_BYTES);
    assert!(edit_format::VALUE_RAW == OTELCOL_RUST_EDIT_VALUE_RAW);
};

/// Resource attributes.
pub const OTELCOL_RUST_TARGET_RESOURCE: u8 = 1;
/// Scope attributes.
pub const OTELCOL_RUST_TARGET_SCOPE: u8 = 2;
/// Span attributes.
pub const OTELCOL_RUST_TARGET_SPAN: u8 = 3;
/// Span event attributes.
pub const OTELCOL_RUST_TARGET_SPAN_EVENT: u8 = 4;
/// Span link attributes.
pub const OTELCOL_RUST_TARGET_SPAN_LINK: u8 = 5;
/// Log record attributes.
pub const OTELCOL_RUST_TARGET_LOG_RECORD: u8 = 6;
/// Number data point attributes (gauge, sum).
pub const OTELCOL_RUST_TARGET_NUMBER_DATA_POINT: u8 = 7;
/// Histogram data point attributes.
pub const OTELCOL_RUST_TARGET_HISTOGRAM_DATA_POINT: u8 = 8;
/// Exponential histogram data point attributes.
pub const OTELCOL_RUST_TARGET_EXPONENTIAL_HISTOGRAM_DATA_POINT: u8 = 9;
/// Summary data point attributes.
pub const OTELCOL_RUST_TARGET_SUMMARY_DATA_POINT: u8 = 10;
/// A log record's body (a map of one entry: only `OP_SET_AT 0`).
pub const OTELCOL_RUST_TARGET_LOG_BODY: u8 = 11;
/// A span's name (a map of one entry: only `OP_SET_AT 0` with a string).
pub const OTELCOL_RUST_TARGET_SPAN_NAME: u8 = 12;
const _: () = {
    assert!(TargetKind::Resource as u8 == OTELCOL_RUST_TARGET_RESOURCE);
    assert!(TargetKind::Scope as u8 == OTELCOL_RUST_TARGET_SCOPE);
    assert!(TargetKind::Span as u8 == OTELCOL_RUST_TARGET_SPAN);
    assert!(TargetKind::SpanEvent as u8 == OTELCOL_RUST_TARGET_SPAN_EVENT);
    assert!(TargetKind::SpanLink as u8 == OTELCOL_RUST_TARGET_SPAN_LINK);
    assert!(TargetKind::LogRecord as u8 == OTELCOL_RUST_TARGET_LOG_RECORD);
    assert!(TargetKind::NumberDataPoint as u8 == OTELCOL_RUST_TARGET_NUMBER_DATA_POINT);
    assert!(TargetKind::HistogramDataPoint as u8 == OTELCOL_RUST_TARGET_HISTOGRAM_DATA_POINT);
    assert!(
        TargetKind::ExponentialHistogramDataPoint as u8
            == OTELCOL_RUST_TARGET_EXPONENTIAL_HISTOGRAM_DATA_POINT
    );
    assert!(TargetKind::SummaryDataPoint as u8 == OTELCOL_RUST_TARGET_SUMMARY_DATA_POINT);
    assert!(TargetKind::LogBody as u8 == OTELCOL_RUST_TARGET_LOG_BODY);
    assert!(TargetKind::SpanName as u8 == OTELCOL_RUST_TARGET_SPAN_NAME);
};

/// How a request ended, or what the next consumer answered.
#[repr(C)]
#[derive(Debug)]
pub struct OtelcolRustError {
    /// One of the `OTELCOL_RUST_ERR_*` kinds.
    pub kind: u8,
    /// 1 when the error is permanent (for every kind, so that a downstream
    /// error whose Go original is gone keeps its class).
    pub permanent: u8,
    /// gRPC code, 0 when absent.
    pub grpc_code: i32,
    /// HTTP status, 0 when absent.
    pub http_status: i32,
    /// Id of the Go error to return as it is, 0 when none.
    pub foreign_error: u64,
    /// Retry delay in nanoseconds, 0 when absent.
    pub retry_after_nanos: u64,
    /// Error text (UTF-8, not NUL-terminated), owned by `details`.
    pub message: *const u8,
    /// Length of the text.
    pub message_len: usize,
    /// What Go frees with `otelcol_rust_error_free` after reading the
    /// above, or null. Until then the foreign error stays referenced.
    pub details: *mut c_void,
}

/// What a crossing into a request returns.
///
/// Pointers point into memory the request owns; they stay valid until the
/// next call on the same request (for FORWARD, until
/// `otelcol_rust_forward_release`). Fields marked EMIT hold for FORWARD
/// too.
#[repr(C)]
#[derive(Debug)]
pub struct OtelcolRustStep {
    /// The request, to pass to the next call; null once it is done. For
    /// FORWARD, what Go releases once it read the emission (null when
    /// nothing needs releasing).
    pub task: *mut c_void,
    /// `OTELCOL_RUST_STEP_*`.
    pub kind: u8,
    /// EMIT: `OTELCOL_RUST_FORM_*`.
    pub form: u8,
    /// EMIT: the signal of the data.
    pub signal: u8,
    /// EMIT: 1 when the data belongs to this request (then Go delivers it
    /// with the request's own context); 0 for data of another request,
    /// delivered with a context rebuilt from `context`.
    pub own_request: u8,
    /// EMIT: 1 when the processor changed the client metadata; `context`
    /// holds the new metadata.
    pub metadata_changed: u8,
    /// DONE (and FORWARD with a null task): 1 when Rust still holds the
    /// request's input buffer after the request: Go keeps it pinned until
    /// a release for the request.
    pub buffer_retained: u8,
    /// EMIT: the edit list or the encoded batch (unused for ORIGINAL).
    pub data: *const u8,
    /// Length of `data`.
    pub data_len: usize,
    /// EMIT: the data's context (client info and span context in the
    /// `OtelcolRustContext` layout), when Go needs it.
    pub context: *const u8,
    /// Length of `context`.
    pub context_len: usize,
    /// EMIT: time left before the data's deadline in nanoseconds, -1 for
    /// none.
    pub deadline_nanos: i64,
    /// EMIT: the processor span to deliver under (Go's handle), 0 for none.
    pub span_handle: u64,
    /// PENDING: the request's wake-up state, which Go may watch (atomic
    /// 32-bit load) for `OTELCOL_RUST_WAKE_NOTIFIED` before it arms the
    /// wake-up and parks.
    pub wake_state: *const u32,
    /// DONE, for a component of several processors (a fused chain): an
    /// array of one [`OtelcolRustStageOutcome`] per processor, which Go
    /// frees with `otelcol_rust_stage_outcomes_free`; null otherwise.
    pub stage_outcomes: *mut OtelcolRustStageOutcome,
    /// Length of `stage_outcomes`.
    pub stage_outcomes_len: usize,
    /// DONE: how the request ended.
    pub error: OtelcolRustError,
}

/// How one processor of a chain handled a request: what Go records in
/// that processor's own request metrics.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct OtelcolRustStageOutcome {
    /// 1 when the request reached this processor.
    pub entered: u8,
    /// `OTELCOL_RUST_ERR_*`: how the processor's `process` ended.
    pub error_kind: u8,
    /// 1 when that error is permanent.
    pub permanent: u8,
    /// Unused (alignment).
    pub reserved: u8,
    /// Unused (alignment).
    pub reserved2: u32,
    /// Time the request spent in this processor and the ones after it.
    pub nanos: u64,
}

/// A byte range within a context buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OtelcolRustRange {
    /// Offset from the start of the buffer.
    pub offset: u32,
    /// Length in bytes, or number of elements for arrays.
    pub len: u32,
}

/// The head of a request context buffer.
///
/// A context buffer carries what a Go `context.Context` holds besides
/// deadline and cancellation, in one allocation without pointers: this
/// head at offset 0, then arrays and bytes it refers to by
/// [`OtelcolRustRange`]. Go writes it for each request that has something
/// to carry; Rust writes one for an emission whose context Go must rebuild
/// or update. Both sides check every range against the buffer's length.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct OtelcolRustContext {
    /// `OTELCOL_RUST_CONTEXT_HAS_*` bits.
    pub flags: u8,
    /// W3C trace flags.
    pub trace_flags: u8,
    /// 1 when the span context came from a remote parent.
    pub remote: u8,
    /// Unused (alignment).
    pub reserved: u8,
    /// Unused (alignment).
    pub reserved2: u32,
    /// Trace id.
    pub trace_id: [u8; 16],
    /// Span id.
    pub span_id: [u8; 8],
    /// W3C trace state header.
    pub trace_state: OtelcolRustRange,
    /// The peer address (`client.Info.Addr`), empty for none.
    pub address: OtelcolRustRange,
    /// An array of [`OtelcolRustMetadataEntry`].
    pub metadata: OtelcolRustRange,
    /// An array of [`OtelcolRustAuthEntry`].
    pub auth: OtelcolRustRange,
}

/// The buffer has a span context.
pub const OTELCOL_RUST_CONTEXT_HAS_SPAN: u8 = 1;
/// The buffer has client info.
pub const OTELCOL_RUST_CONTEXT_HAS_CLIENT: u8 = 2;

/// One metadata key and its values.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct OtelcolRustMetadataEntry {
    /// The key.
    pub key: OtelcolRustRange,
    /// An array of [`OtelcolRustRange`], one per value.
    pub values: OtelcolRustRange,
}

/// An auth attribute that is a single string.
pub const OTELCOL_RUST_AUTH_STRING: u8 = 0;
/// An auth attribute that is a list of strings.
pub const OTELCOL_RUST_AUTH_LIST: u8 = 1;

/// One auth attribute.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct OtelcolRustAuthEntry {
    /// The attribute's name.
    pub name: OtelcolRustRange,
    /// `OTELCOL_RUST_AUTH_*`.
    pub kind: u8,
    /// Unused (alignment).
    pub reserved: [u8; 3],
    /// STRING: the bytes; LIST: an array of [`OtelcolRustRange`].
    pub value: OtelcolRustRange,
}
