//! OTLP bytes as Rust receives them (rust/engine/src/pdata): the first
//! byte picks the signal and whether the bytes are a whole batch or Go's
//! attribute projection; the rest goes through both shipped processors, as
//! the bridge runs them, then out as Go would take it back (edit list or
//! encoding). Malformed bytes end in an error, never a panic.
#![no_main]

include!("go_stubs.rs");

use std::sync::OnceLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use otelcol_rust_engine::testing::{run_once, CollectSink};
use otelcol_rust_engine::{Context, OtlpData, RequestContext, Signal};
use otelcol_rust_processors::{attributes, ratelimit};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

fn configs() -> &'static [(
    &'static otelcol_rust_engine::ProcessorFactory,
    serde_json::Value,
)] {
    static CONFIGS: OnceLock<
        Vec<(
            &'static otelcol_rust_engine::ProcessorFactory,
            serde_json::Value,
        )>,
    > = OnceLock::new();
    CONFIGS.get_or_init(|| {
        vec![
            (
                &attributes::FACTORY,
                serde_json::json!({"actions": [
                    {"key": "k", "value": "v", "action": "insert"},
                    {"key": "c", "from_attribute": "k", "action": "upsert"},
                    {"key": "u", "value": 1.5, "action": "update"},
                    {"pattern": "^[a-m]", "action": "hash"},
                    {"key": "d", "pattern": "^x", "action": "delete"},
                ]}),
            ),
            (
                &ratelimit::FACTORY,
                serde_json::json!({"rate": 1e9, "burst": u32::MAX, "strategy": "records"}),
            ),
            (
                &ratelimit::FACTORY,
                serde_json::json!({"rate": 1e9, "burst": u32::MAX, "strategy": "bytes"}),
            ),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let Some(signal) = Signal::from_u8(head % 3) else {
        return;
    };
    let bytes = Bytes::copy_from_slice(body);
    for (factory, config) in configs() {
        if head & 0x80 != 0 && factory.name != "rust_attributes" {
            continue; // only attribute processors get a projection
        }
        let otlp = if head & 0x80 != 0 {
            OtlpData::from_attributes_of_original(signal, bytes.clone())
        } else {
            OtlpData::from_original(signal, bytes.clone())
        };
        let sink = CollectSink::new();
        let result = runtime().block_on(run_once(
            factory,
            config,
            Context::new(RequestContext::new(1), otlp),
            sink.clone(),
        ));
        for out in sink.take() {
            let out = out.into_inner();
            let _ = out.outgoing(true);
            let _ = out.to_encoded();
        }
        let _ = result;
    }
});
