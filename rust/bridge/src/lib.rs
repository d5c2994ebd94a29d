//! The Rust half of the otelcol-rust bridge, linked into the Go collector as
//! a static library.
//!
//! Go is the host program and drives every crossing:
//!
//! * the control plane ([`ffi::RustBridge`], rust2go `g2r`): registry,
//!   validate, create, start, shutdown, destroy, counters;
//! * the request path ([`request`], the C ABI of [`abi`]): Go starts a
//!   request, Rust polls the processor on the caller's thread and returns
//!   what it wants next (emit, wait, done); Go calls the next consumer
//!   itself and resumes the request with its answer.
//!
//! Rust calls back only through short, non-blocking functions
//! ([`ffi::GoBridge`], rust2go `r2g`): logs, spans, releases of Go memory
//! and wake-ups of waiting requests.
//!
//! How one request crosses, file by file, and why each unsafe block is
//! sound: `README.md` beside this crate.

pub mod abi;
#[cfg(feature = "testing")]
mod alloc;
mod answers;
mod buffer;
pub mod component;
pub mod context;
mod control;
pub mod describe;
mod emission;
// rust2go's macros write the FFI glue (structs and their extern functions)
// without docs; every item written by hand in ffi.rs has its own.
#[allow(missing_docs)]
pub mod ffi;
mod go_exports;
mod go_regex_bridge;
mod outcome;
pub mod registry;
pub mod request;
mod runtime;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod wake;

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
