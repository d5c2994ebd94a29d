//! A timing loop for rust_attributes passes over one batch, alone and as a
//! fused chain of three: the Rust share of the Go benchmark
//! `BenchmarkAttributesChain1k`, without the crossing, in a few seconds.
//! Run by hand:
//!
//! ```text
//! cargo test --release -p otelcol-rust-processors chain_timing -- --ignored --nocapture
//! ```
//!
//! `ONLY=<name>` keeps one configuration, `STAGES=<n>` one chain length
//! (for a profiler).

use std::time::Instant;

use bytes::Bytes;
use otelcol_rust_engine::proto::common::{any_value, AnyValue};
use otelcol_rust_engine::testing::load_batch;
use otelcol_rust_engine::{parse_config, OtlpData, Outgoing, RequestContext, Select, Signal};
use prost::Message;

use super::config::Config;

/// Each configuration's stages: one configuration for every stage, or one
/// per stage.
fn configs() -> Vec<(&'static str, Vec<serde_json::Value>)> {
    let action = |key: &str, action: &str, value: Option<&str>| {
        let mut a = serde_json::json!({"key": key, "action": action});
        if let Some(v) = value {
            a["value"] = v.into();
        }
        a
    };
    let insert = action("environment", "insert", Some("production"));
    let update = action("http.method", "update", Some("GET"));
    let delete = action("internal.debug", "delete", None);
    let hash = action("user.email", "hash", None);
    let all = vec![insert.clone(), update.clone(), delete.clone(), hash.clone()];
    [
        ("all", all),
        ("no-hash", vec![insert.clone(), update, delete]),
        ("hash-only", vec![hash.clone()]),
        // The same, on a batch whose every span has its own address: the
        // memo of recent hashes misses every time.
        (UNIQUE, vec![hash]),
        ("insert-only", vec![insert]),
        ("nothing", vec![action("no.such", "delete", None)]),
    ]
    .into_iter()
    .map(|(name, actions)| (name, vec![serde_json::json!({ "actions": actions })]))
    .chain(std::iter::once(("distinct", distinct_stages())))
    .collect()
}

/// Stages that all record operations on every span (`distinctStage` of
/// the Go benchmark): each inserts its own key and updates `http.method`
/// to a value of another length.
fn distinct_stages() -> Vec<serde_json::Value> {
    ["GET", "HEAD", "PATCH"]
        .iter()
        .enumerate()
        .map(|(i, method)| {
            serde_json::json!({"actions": [
                {"key": format!("stage.{i}"), "value": "production", "action": "insert"},
                {"key": "http.method", "value": method, "action": "update"},
            ]})
        })
        .collect()
}

/// The configuration timed on a batch of distinct values.
const UNIQUE: &str = "hash-only, distinct values";

#[test]
#[ignore = "a timing loop, run by hand"]
fn chain_timing() {
    const SPANS: usize = 1000;
    let bytes = Bytes::from(load_batch(SPANS).encode_to_vec());
    let mut distinct = load_batch(SPANS);
    for (i, span) in distinct.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        for kv in &mut span.attributes {
            if kv.key == "user.email" {
                kv.value = Some(AnyValue {
                    value: Some(any_value::Value::StringValue(format!(
                        "user{i}@example.com"
                    ))),
                });
            }
        }
    }
    let distinct = Bytes::from(distinct.encode_to_vec());
    let request = RequestContext::new(1);
    let only = std::env::var("ONLY").ok();
    let stages: Vec<usize> =
        std::env::var("STAGES").map_or(vec![1, 3], |s| vec![s.parse().unwrap()]);
    for (name, configs) in configs() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let actions: Vec<_> = configs
            .iter()
            .map(|c| parse_config::<Config>(c).unwrap().compile().unwrap())
            .collect();
        for &n in &stages {
            let mut best = f64::MAX;
            let mut list_len = 0;
            for _ in 0..20 {
                let start = Instant::now();
                for _ in 0..50 {
                    let batch = if name == UNIQUE { &distinct } else { &bytes };
                    let mut otlp =
                        OtlpData::from_attributes_of_original(Signal::Traces, batch.clone());
                    for stage in 0..n {
                        let actions = &actions[stage % actions.len()];
                        otlp.edit_attributes(Select::RECORDS, |_, a| {
                            actions.apply(a, &request);
                        })
                        .unwrap();
                    }
                    if let Outgoing::Edits(list) = otlp.outgoing(true).unwrap() {
                        list_len = list.len();
                    }
                }
                best = best.min(start.elapsed().as_secs_f64() * 1e9 / 50.0 / SPANS as f64);
            }
            println!("{name}, {n} stage(s): {best:.0} ns/span, edit list {list_len} bytes");
        }
    }
}
