//! The Rust half of the otelcol-rust bridge, linked into the Go collector as
//! a static library.
//!
//! Go is the host program. It calls in through two doors:
//!
//! * the control plane ([`ffi::RustBridge`], rust2go `g2r`): registry,
//!   validate, create, start, shutdown, destroy;
//! * the request path ([`request::otelcol_rust_process`], hand-written
//!   cgo): one call per `ConsumeTraces/Metrics/Logs`.
//!
//! Rust calls back through [`ffi::GoBridge`] (rust2go `r2g`): emissions to
//! the next Go consumer, completions of slow-path requests, releases of Go
//! memory and errors it no longer needs.
//!
//! Why the request path is hand-written, how memory crosses, and what each
//! unsafe block relies on: see `README.md` beside this crate.

pub mod abi;
#[cfg(feature = "testing")]
mod alloc;
mod buffer;
pub mod component;
mod control;
pub mod ffi;
mod go_exports;
pub mod registry;
pub mod request;
mod runtime;
mod sink;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod wire;

pub use control::build;

#[cfg(feature = "testing")]
#[global_allocator]
static ALLOCATOR: alloc::CountingAllocator = alloc::CountingAllocator;

/// Rust's live heap bytes (test builds only; 0 otherwise).
pub fn live_heap_bytes() -> u64 {
    #[cfg(feature = "testing")]
    {
        alloc::LIVE_BYTES.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(feature = "testing"))]
    {
        0
    }
}

// The Go exports `go_exports` declares exist only in the final Go binary.
// Rust unit tests link without Go, so they get inert definitions.
#[cfg(test)]
mod go_exports_for_tests {
    use std::ffi::c_void;

    use crate::ffi::{
        CompletionRef, EmissionRef, LogRecordRef, ReleaseRef, SpanEndRef, SpanStartRef,
    };

    #[no_mangle]
    extern "C" fn CGoBridge_emit(_emission: EmissionRef) {}
    #[no_mangle]
    extern "C" fn CGoBridge_complete(_completion: CompletionRef) {}
    #[no_mangle]
    extern "C" fn CGoBridge_release(_release: ReleaseRef) {}
    #[no_mangle]
    extern "C" fn CGoBridge_log(_record: LogRecordRef) {}
    #[no_mangle]
    extern "C" fn CGoBridge_span_start(_start: SpanStartRef, _slot: *mut c_void, _cb: *mut c_void) {
        unreachable!("unit tests start no spans")
    }
    #[no_mangle]
    extern "C" fn CGoBridge_span_end(_end: SpanEndRef) {}
}
