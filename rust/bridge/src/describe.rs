//! The registry as JSON, for `otelcol-rust-builder`.
//!
//! The builder writes a Go component package for every processor of the
//! crates a manifest lists, and needs each factory's type, signals,
//! stability, example configuration, README and counters to do so. It
//! cannot link those crates itself (they are the user's), and starting a
//! Go program to ask the staticlib would cost a cgo build. So the crate it
//! generates also has a tiny binary, [`describe_main!`](crate::describe_main),
//! that links the same registry without Go and prints [`describe`].

use serde_json::{json, Value};

use crate::registry;

/// Every registered processor as one JSON object each: the crate it comes
/// from and everything its generated Go package is written from.
pub fn describe() -> Value {
    registry::processors()
        .map(|(r, f)| {
            json!({
                "crate": r.crate_name,
                "crate_version": r.crate_version,
                "name": f.name,
                "description": f.description,
                "stability": f.stability.as_str(),
                "signals": f.signals.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "mutates_data": f.mutates_data,
                "needs_client_auth": f.needs_client_auth,
                "data_access": f.data.as_str(),
                "default_config": (f.default_config)(),
                "example_config": (f.example_config)(),
                "readme": f.readme,
                "metrics": f.metrics.iter().map(|m| json!({
                    "name": m.name,
                    "description": m.description,
                    "unit": m.unit,
                })).collect::<Vec<_>>(),
                "opaque_fields": f.opaque_fields,
            })
        })
        .collect()
}

/// The `main` of a program that prints [`describe`] and exits.
///
/// The bridge's code calls into Go (logs, wake-ups, Go's regexp); a
/// program without Go needs those symbols to link, so the expansion
/// defines inert ones. `describe` never reaches them. Use it only in a
/// binary of its own, never in the staticlib Go links, where Go defines
/// them. The list is that of `go_exports.rs` plus Go's regexp normalizer:
/// a Go export added there needs its inert twin here, or the describe
/// program of every `otelcol-rust-builder` build fails to link.
#[macro_export]
macro_rules! describe_main {
    () => {
        fn main() {
            println!("{}", $crate::describe::describe());
        }

        #[no_mangle]
        extern "C" fn CGoBridge_release(_release: $crate::ffi::ReleaseRef) {}

        #[no_mangle]
        extern "C" fn CGoBridge_wake(_wake: $crate::ffi::WakeRef) {}

        #[no_mangle]
        extern "C" fn CGoBridge_log(_record: $crate::ffi::LogRecordRef) {}

        #[no_mangle]
        extern "C" fn CGoBridge_span_start(
            _start: $crate::ffi::SpanStartRef,
            _slot: *mut ::std::ffi::c_void,
            _cb: *mut ::std::ffi::c_void,
        ) {
        }

        #[no_mangle]
        extern "C" fn CGoBridge_span_end(_end: $crate::ffi::SpanEndRef) {}

        #[no_mangle]
        extern "C" fn otelcolRustGoRegexNormalize(
            _pattern: *const u8,
            _len: usize,
            _out: *mut *mut ::std::ffi::c_char,
            _out_len: *mut usize,
        ) -> ::std::ffi::c_int {
            0
        }
    };
}

#[cfg(all(test, feature = "builtin"))]
mod tests {
    use super::*;

    /// Every Go export Rust declares has its inert twin in
    /// `describe_main!`, or the describe program would not link.
    #[test]
    fn describe_main_defines_every_go_export() {
        let exports = include_str!("go_exports.rs");
        let this = include_str!("describe.rs");
        let names: Vec<&str> = exports
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub fn "))
            .filter_map(|l| l.split('(').next())
            .collect();
        assert!(!names.is_empty());
        for name in names {
            assert!(
                this.contains(&format!("extern \"C\" fn {name}(")),
                "describe_main! lacks {name}"
            );
        }
    }

    #[test]
    fn describes_every_builtin_processor_with_its_crate() {
        let all = describe();
        let list = all.as_array().expect("a list");
        let names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
        assert!(names.contains(&"rust_attributes"), "{names:?}");
        let attrs = list
            .iter()
            .find(|p| p["name"] == "rust_attributes")
            .expect("rust_attributes");
        assert_eq!(attrs["crate"], "otelcol-rust-processors");
        assert_eq!(attrs["crate_version"], env!("CARGO_PKG_VERSION"));
        assert!(attrs["signals"].as_array().is_some_and(|s| !s.is_empty()));
    }
}
