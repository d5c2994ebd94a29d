//! `cargo bench -p otelcol-rust-engine`: what reading and editing a batch
//! in place costs, per span, on the load test's batch (1000 spans, 7
//! attributes each). A plain timing loop (no external harness): the
//! figures are medians of several runs, for comparing changes on one
//! machine.

// A benchmark fails loudly on a broken fixture, as a test does.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use otelcol_rust_engine::proto::trace::TracesData;
use otelcol_rust_engine::testing::load_batch;
use otelcol_rust_engine::{OtlpData, Select, Signal, Value, ValueRef};
use prost::Message;

/// With `PDATA_BENCH_ITERS=n` (and `PDATA_BENCH_ONLY=<part of a name>`)
/// each case runs n times without timing: for `valgrind --tool=callgrind`,
/// whose instruction counts are steady on a noisy machine.
fn time(name: &str, spans: usize, mut f: impl FnMut()) {
    if let Ok(only) = std::env::var("PDATA_BENCH_ONLY") {
        if !name.contains(&only) {
            return;
        }
    }
    if let Some(n) = std::env::var("PDATA_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        for _ in 0..n {
            f();
        }
        println!("{name}: {n} iterations");
        return;
    }
    let mut runs = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < Duration::from_millis(200) {
            f();
            n += 1;
        }
        runs.push(start.elapsed() / n);
    }
    runs.sort();
    let per_batch = runs[runs.len() / 2];
    println!(
        "{name:<40} {:>9.1} µs/batch {:>7.1} ns/span",
        per_batch.as_secs_f64() * 1e6,
        per_batch.as_secs_f64() * 1e9 / spans as f64
    );
}

fn main() {
    let bytes = Bytes::from(load_batch(1000).encode_to_vec());
    println!("fields: {}", scan_only(&bytes));
    time("wire scan of every field (lower bound)", 1000, || {
        black_box(scan_only(black_box(&bytes)));
    });
    time("visit (read every span's attributes)", 1000, || {
        let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
        data.visit_attributes(Select::RECORDS, |_, a| {
            black_box(a.find(b"no.such.attribute"));
        })
        .unwrap();
    });
    time("edit, nothing changes", 1000, || {
        let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
        data.edit_attributes(Select::RECORDS, |_, a| {
            a.remove(b"no.such.attribute");
        })
        .unwrap();
        assert!(data.is_original());
    });
    let production = Value::str("production");
    let get = Value::str("GET");
    time("edit, insert+update+delete+set", 1000, || {
        let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
        data.edit_attributes(Select::RECORDS, |_, a| {
            a.insert(b"environment", production.as_ref());
            if let Some(i) = a.find(b"http.method") {
                a.set(i, get.as_ref());
            }
            a.remove(b"internal.debug");
            if let Some(i) = a.find(b"user.email") {
                a.set(i, ValueRef::Str(&[b'0'; 64]));
            }
        })
        .unwrap();
        black_box(data.outgoing(true).unwrap());
    });
    // The same actions as a chain of three processors runs them: the
    // later passes continue from the first one's entries.
    time("edit x3 (a chain of three)", 1000, || {
        let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
        for _ in 0..3 {
            data.edit_attributes(Select::RECORDS, |_, a| {
                a.insert(b"environment", production.as_ref());
                if let Some(i) = a.find(b"http.method") {
                    a.set(i, get.as_ref());
                }
                a.remove(b"internal.debug");
                if let Some(i) = a.find(b"user.email") {
                    let mut next = [b'0'; 64];
                    if let Some(ValueRef::Str(v)) = Some(a.value(i)) {
                        next[0] = v.first().copied().unwrap_or(b'0').wrapping_add(1);
                    }
                    a.set(i, ValueRef::Str(&next));
                }
            })
            .unwrap();
        }
        black_box(data.outgoing(true).unwrap());
    });
    time(
        "prost decode + encode (the floor this avoids)",
        1000,
        || {
            let td = TracesData::decode(bytes.as_ref()).unwrap();
            black_box(td.encode_to_vec());
        },
    );
}

/// How fast the wire reader alone walks every field of every span and
/// attribute: the lower bound for anything that reads attributes.
pub fn scan_only(bytes: &[u8]) -> u64 {
    use otelcol_rust_engine::wire::{fields, WireValue};
    // TracesData.1 -> ResourceSpans.2 -> ScopeSpans.2 -> Span.9 ->
    // KeyValue.2 -> AnyValue.
    const PATH: [u32; 5] = [1, 2, 2, 9, 2];
    fn walk(buf: &[u8], depth: usize, n: &mut u64) {
        for f in fields(buf) {
            let f = f.unwrap();
            *n += 1;
            if let WireValue::Len(b) = f.value {
                if depth < PATH.len() && f.number == PATH[depth] {
                    walk(b, depth + 1, n);
                }
            }
        }
    }
    let mut n = 0;
    walk(bytes, 0, &mut n);
    n
}
