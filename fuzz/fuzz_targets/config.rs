//! Processor configurations (the JSON Go hands over): any JSON is
//! accepted or refused with a ConfigError, never a panic, for every
//! shipped processor.
#![no_main]

include!("go_stubs.rs");

use libfuzzer_sys::fuzz_target;
use otelcol_rust_processors::{attributes, ratelimit};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for factory in [&attributes::FACTORY, &ratelimit::FACTORY] {
        if let Ok(make) = (factory.create)(&value) {
            drop(make());
        }
    }
});
