//! The processors of the distribution, listed once for every host.
//!
//! Two hosts run these processors: the bridge linked into the Go collector
//! through cgo (`rust/bridge`) and the Rust process the cgo-free collector
//! talks to (`rust/server`). Both must offer exactly the same processors,
//! so the list lives here and each host takes it from [`registry!`]; the
//! bridge appends its test-only processors to it.
//!
//! It is an explicit list, not a linker-section registry: the bridge is
//! linked into the Go binary as a static archive, and a linker is free to
//! drop archive members nobody references, registrations included. Adding
//! a processor is one line here plus `make generate`, which writes its Go
//! component packages from this list.

use otelcol_rust_engine::ProcessorFactory;

/// The distribution's processors followed by `extra` ones, as a
/// `&'static [&'static ProcessorFactory]` expression.
#[macro_export]
macro_rules! registry {
    ($($extra:expr),* $(,)?) => {
        &[
            &$crate::attributes::FACTORY,
            &$crate::ratelimit::FACTORY,
            &$crate::redaction::FACTORY,
            $($extra,)*
        ]
    };
}

/// Every processor of the distribution, in the order `components` lists
/// them.
pub static PROCESSORS: &[&ProcessorFactory] = registry!();

/// The processor of the distribution registered under `name`.
pub fn find(name: &str) -> Option<&'static ProcessorFactory> {
    PROCESSORS.iter().copied().find(|f| f.name == name)
}
