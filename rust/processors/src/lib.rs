//! The Rust processors of otelcol-rust.
//!
//! One module per processor, each with its configuration, its README and
//! its tests. A processor is made available to the Collector by one line in
//! [`registry`] and `make generate`.

pub mod attributes;
pub mod ratelimit;
pub mod redaction;
pub mod registry;
#[cfg(test)]
mod test_alloc;
