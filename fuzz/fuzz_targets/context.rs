//! The request context Go writes (rust/bridge/src/context.rs): any bytes
//! decode to a context or an error, never a panic or an out-of-bounds
//! read; what decodes encodes again to bytes that decode to the same
//! context.
#![no_main]

include!("go_stubs.rs");

use libfuzzer_sys::fuzz_target;
use otelcol_rust_bridge::context::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode(data) else {
        return;
    };
    let span = decoded
        .span_context
        .clone()
        .unwrap_or(opentelemetry::trace::SpanContext::NONE);
    let again = encode(decoded.client.as_deref(), &span);
    let twice = decode(&again).expect("what Rust encodes decodes");
    // Auth attributes do not travel back to Go (by design).
    let strip = |c: Option<&otelcol_rust_engine::ClientInfo>| {
        c.map(|c| (c.address.clone(), c.metadata.clone()))
    };
    assert_eq!(
        strip(decoded.client.as_deref()),
        strip(twice.client.as_deref())
    );
    assert_eq!(decoded.span_context.is_some(), twice.span_context.is_some());
});
