//! The Go functions Rust calls, declared by hand.
//!
//! rust2go's own build helper generates this binding by compiling the Go
//! package as a c-archive and running bindgen over its header. That assumes
//! Rust is the host program; here Go is, and the symbols below are resolved
//! when the Go linker links the final binary. The signatures are fixed by
//! the generated `//export CGoBridge_*` functions (each takes its argument's
//! `...Ref` struct by value), so six declarations replace a bindgen and
//! libclang dependency. `components/internal/bridge`'s ABI test checks the
//! struct layouts agree.

use std::ffi::c_void;

pub use super::ffi::SpanStartedRef;
use super::ffi::{CompletionRef, EmissionRef, LogRecordRef, ReleaseRef, SpanEndRef, SpanStartRef};

extern "C" {
    pub fn CGoBridge_emit(emission: EmissionRef);
    pub fn CGoBridge_complete(completion: CompletionRef);
    pub fn CGoBridge_release(release: ReleaseRef);
    pub fn CGoBridge_log(record: LogRecordRef);
    pub fn CGoBridge_span_start(start: SpanStartRef, slot: *mut c_void, cb: *mut c_void);
    pub fn CGoBridge_span_end(end: SpanEndRef);
}
