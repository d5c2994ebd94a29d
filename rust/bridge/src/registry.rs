//! The processors this build of the bridge can create.
//!
//! An explicit list, not a linker-section registry: the bridge is linked
//! into the Go binary as a static archive, and a linker is free to drop
//! archive members nobody references, registrations included. Adding a
//! processor is one line here plus `make generate`, which writes its Go
//! component package from this list.

use otelcol_rust_engine::ProcessorFactory;

/// Every registered processor, in the order `components` lists them.
pub static PROCESSORS: &[&ProcessorFactory] = &[
    &otelcol_rust_processors::attributes::FACTORY,
    &otelcol_rust_processors::ratelimit::FACTORY,
    &otelcol_rust_processors::redaction::FACTORY,
    #[cfg(feature = "testing")]
    &crate::testing::NOOP,
    #[cfg(feature = "testing")]
    &crate::testing::SCRIPTED,
];

/// The factory registered under `name`.
pub fn find(name: &str) -> Option<&'static ProcessorFactory> {
    PROCESSORS.iter().copied().find(|f| f.name == name)
}
