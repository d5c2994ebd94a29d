//! The Rust processors of otelcol-rust.
//!
//! One module per processor, each with its configuration, its README and
//! its tests. [`PROCESSORS`] names every factory of the crate: the bridge
//! registers the list as a whole (`otelcol-rust-builder` does the same for
//! any processor crate a collector manifest lists), so a new processor is
//! one module here and one entry in that list.

pub mod attributes;
pub mod ratelimit;
pub mod redaction;
#[cfg(test)]
mod test_alloc;

use otelcol_rust_engine::ProcessorFactory;

/// Every processor of this crate, in the order `components` lists them.
pub static PROCESSORS: &[&ProcessorFactory] = &[
    &attributes::FACTORY,
    &ratelimit::FACTORY,
    &redaction::FACTORY,
];

/// The processor of this crate registered under `name`: how the cgo-free
/// Rust process (`otelcol-rust-server`), which serves this crate's
/// processors, finds one.
pub fn find(name: &str) -> Option<&'static ProcessorFactory> {
    PROCESSORS.iter().copied().find(|f| f.name == name)
}
