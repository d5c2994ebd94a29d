//! Tests of the processor as a whole: the bucket table, the LRU, the item
//! counting and the configuration have their own next to their code.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use otelcol_rust_engine::{
    CancellationToken, ClientInfo, Context, ControlMsg, MessageSink, Metadata, RequestContext,
};
use prost::Message as _;
use serde_json::json;

use super::*;
use otelcol_rust_engine::testing::{logs, metrics, traces, RefuseSink};
use otelcol_rust_engine::GrpcCode;

/// Keeps what it is sent, with the (tokio) time it arrived: the engine's
/// `CollectSink` keeps no times, and these tests measure the pacing.
#[derive(Default)]
struct Collect(Mutex<Vec<(Instant, PData)>>);

#[async_trait]
impl MessageSink<PData> for Collect {
    async fn send(&self, data: PData) -> Result<(), ProcessingError> {
        self.0.lock().unwrap().push((Instant::now(), data));
        Ok(())
    }
}

impl Collect {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn times(&self) -> Vec<Instant> {
        self.0.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }
}

/// A component: its shared limiter and a sink for what it forwards.
#[derive(Clone)]
struct Harness {
    limiter: Arc<Limiter>,
    sink: Arc<Collect>,
}

fn harness(config: serde_json::Value) -> Harness {
    let settings = parse_config::<Config>(&config)
        .expect("parses")
        .check()
        .expect("valid");
    Harness {
        limiter: Limiter::new(settings),
        sink: Arc::default(),
    }
}

impl Harness {
    /// Sends one batch through a fresh instance (the bridge pools them).
    async fn send(&self, request: RequestContext, data: OtlpData) -> Result<(), ProcessingError> {
        let mut processor = RateLimitProcessor {
            limiter: self.limiter.clone(),
        };
        let mut handler = EffectHandler::new("rust_ratelimit", self.sink.clone());
        processor
            .process(Message::PData(Context::new(request, data)), &mut handler)
            .await
    }

    fn tokens(&self, key: &str) -> f64 {
        self.limiter
            .table
            .tokens(key, Instant::now())
            .expect("bucket exists")
    }

    fn stats(&self) -> StatsSnapshot {
        self.limiter.stats.snapshot()
    }
}

fn tenant(name: &str) -> RequestContext {
    with_metadata(&[("X-Tenant-Id", name)])
}

fn with_metadata(entries: &[(&str, &str)]) -> RequestContext {
    let md = Metadata::from_entries(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()])),
    );
    RequestContext::new(7).with_client(Some(Arc::new(ClientInfo {
        metadata: md,
        ..Default::default()
    })))
}

fn span_batch(spans: usize) -> OtlpData {
    OtlpData::from_original(
        Signal::Traces,
        Bytes::from(traces(&[spans]).encode_to_vec()),
    )
}

fn one() -> OtlpData {
    span_batch(1)
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn per_tenant(rate: f64, burst: u64, behavior: &str) -> serde_json::Value {
    json!({
        "metadata_keys": ["x-tenant-id"],
        "rate": rate,
        "burst": burst,
        "throttle_behavior": behavior,
    })
}

#[tokio::test(start_paused = true)]
async fn noisy_tenant_is_throttled_quiet_one_is_not() {
    let h = harness(per_tenant(1.0, 5, "error"));
    let mut noisy_ok = 0;
    let mut noisy_throttled = 0;
    for _ in 0..20 {
        match h.send(tenant("noisy"), one()).await {
            Ok(()) => noisy_ok += 1,
            Err(e) => {
                assert_eq!(e.status().grpc(), Some(GrpcCode::ResourceExhausted));
                noisy_throttled += 1;
            }
        }
    }
    assert_eq!((noisy_ok, noisy_throttled), (5, 15));
    for _ in 0..5 {
        h.send(tenant("quiet"), one()).await.expect("own bucket");
    }
    assert_eq!(h.sink.len(), 10);
    let s = h.stats();
    assert_eq!((s.admitted, s.throttled, s.buckets), (10, 15, 2));
}

#[tokio::test(start_paused = true)]
async fn error_mode_refuses_with_resource_exhausted_and_retry_after() {
    let h = harness(per_tenant(2.0, 2, "error"));
    h.send(tenant("a"), one()).await.unwrap();
    h.send(tenant("a"), one()).await.unwrap();
    let err = h.send(tenant("a"), one()).await.unwrap_err();
    assert!(err.is_retryable());
    let status = err.status();
    assert_eq!(status.grpc(), Some(GrpcCode::ResourceExhausted));
    assert_eq!(status.http(), Some(429));
    assert_eq!(status.retry_after(), Some(Duration::from_millis(500)));
    assert_eq!(
        err.to_string(),
        "too many requests: rate limit of 2 requests/s (burst 2) exceeded for \"x-tenant-id:a\""
    );
    // The refused request took nothing: after 200 ms, 0.4 tokens.
    tokio::time::advance(Duration::from_millis(200)).await;
    assert!(approx(h.tokens("x-tenant-id:a"), 0.4));
    let err = h.send(tenant("a"), one()).await.unwrap_err();
    assert_eq!(err.status().retry_after(), Some(Duration::from_millis(300)));
    // Retrying after the suggested delay succeeds.
    tokio::time::advance(Duration::from_millis(300)).await;
    h.send(tenant("a"), one()).await.unwrap();
    assert_eq!(h.stats().throttled, 2);
}

#[tokio::test(start_paused = true)]
async fn fixed_retry_delay_like_elastic() {
    let mut config = per_tenant(2.0, 1, "error");
    config["retry_delay"] = json!("1s");
    let h = harness(config);
    h.send(tenant("a"), one()).await.unwrap();
    let err = h.send(tenant("a"), one()).await.unwrap_err();
    assert_eq!(err.status().retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test(start_paused = true)]
async fn delay_mode_waits_then_forwards() {
    let h = harness(per_tenant(10.0, 1, "delay"));
    let start = Instant::now();
    h.send(tenant("a"), one()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    h.send(tenant("a"), one()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    // A batch of 1 with a generous deadline waits too.
    let rc = tenant("a").with_deadline(Some(std::time::Instant::now() + Duration::from_secs(5)));
    h.send(rc, one()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    // Another tenant does not wait for "a".
    h.send(tenant("b"), one()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    assert_eq!(h.sink.len(), 4);
    let s = h.stats();
    assert_eq!((s.admitted, s.delayed), (4, 2));
    assert_eq!(s.wait_time, Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn delay_mode_fails_up_front_when_the_deadline_is_too_close() {
    let h = harness(per_tenant(1.0, 1, "delay"));
    h.send(tenant("a"), one()).await.unwrap();
    let start = Instant::now();
    let soon = std::time::Instant::now() + Duration::from_millis(500);
    let err = h
        .send(tenant("a").with_deadline(Some(soon)), one())
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessingError::DeadlineExceeded), "{err:?}");
    // At once, and without taking anything.
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(approx(h.tokens("x-tenant-id:a"), 0.0));
    // The next request waits one second, not two.
    h.send(tenant("a"), one()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(h.sink.len(), 2);
    assert_eq!(h.stats().deadline_exceeded, 1);
}

#[tokio::test(start_paused = true)]
async fn delay_mode_cancelled_while_waiting_takes_nothing() {
    let h = harness(per_tenant(1.0, 1, "delay"));
    h.send(tenant("a"), one()).await.unwrap();
    let token = CancellationToken::new();
    let start = Instant::now();
    let waiting = {
        let h = h.clone();
        let rc = tenant("a").with_cancellation(token.clone());
        tokio::spawn(async move { h.send(rc, one()).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Waiting: the bucket is in debt by its reservation.
    assert!(approx(h.tokens("x-tenant-id:a"), -0.7));
    token.cancel();
    let err = waiting.await.unwrap().unwrap_err();
    assert!(matches!(err, ProcessingError::Cancelled), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(300));
    // As if it never came: 0.3 tokens after 300 ms.
    assert!(approx(h.tokens("x-tenant-id:a"), 0.3));
    h.send(tenant("a"), one()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(h.sink.len(), 2);
    assert_eq!(h.stats().cancelled, 1);

    // Already cancelled: refused before touching the bucket, even with
    // tokens to spare.
    let token = CancellationToken::new();
    token.cancel();
    let err = h
        .send(tenant("b").with_cancellation(token), one())
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessingError::Cancelled));
    assert!(h
        .limiter
        .table
        .tokens("x-tenant-id:b", Instant::now())
        .is_none());
}

#[tokio::test(start_paused = true)]
async fn dropped_while_waiting_takes_nothing() {
    // The bridge drops the future when Go cancels or the deadline passes.
    let h = harness(per_tenant(1.0, 1, "delay"));
    h.send(tenant("a"), one()).await.unwrap();
    let out = tokio::time::timeout(Duration::from_millis(250), h.send(tenant("a"), one())).await;
    assert!(out.is_err(), "still waiting when dropped");
    assert!(approx(h.tokens("x-tenant-id:a"), 0.25));
    assert_eq!(h.sink.len(), 1);
    assert_eq!(h.stats().cancelled, 1);
}

#[tokio::test(start_paused = true)]
async fn delay_mode_admits_concurrent_waiters_at_the_rate() {
    let (rate, burst, n) = (100.0, 10u64, 60usize);
    let h = harness(per_tenant(rate, burst, "delay"));
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let h = h.clone();
            tokio::spawn(async move { h.send(tenant("a"), one()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut times = h.sink.times();
    times.sort();
    assert_eq!(times.len(), n);
    for (i, t) in times.iter().enumerate() {
        let elapsed = t.duration_since(start).as_secs_f64();
        assert!(
            (i + 1) as f64 <= burst as f64 + rate * elapsed + 1e-6,
            "admission {i} at {elapsed}s is over the limit"
        );
    }
    // FIFO credit: the last one waited exactly (n - burst) / rate.
    assert_eq!(
        times[n - 1].duration_since(start),
        Duration::from_millis(500)
    );
}

#[tokio::test]
async fn requests_over_the_burst_can_never_pass() {
    for behavior in ["error", "delay"] {
        let mut config = per_tenant(100.0, 5, behavior);
        config["strategy"] = json!("records");
        let h = harness(config);
        let err = h.send(tenant("a"), span_batch(6)).await.unwrap_err();
        assert!(err.is_permanent(), "{behavior}: {err:?}");
        assert_eq!(err.status().grpc(), Some(GrpcCode::InvalidArgument));
        assert_eq!(err.status().http(), Some(400));
        assert_eq!(err.status().retry_after(), None);
        assert!(
            err.to_string()
                .contains("exceeds the rate limit burst of 5"),
            "{err}"
        );
        // Nothing taken: a batch of exactly the burst passes.
        h.send(tenant("a"), span_batch(5)).await.unwrap();
        assert_eq!(h.stats().too_large, 1);
    }
}

#[tokio::test(start_paused = true)]
async fn strategy_records_counts_items_of_every_signal() {
    let mut config = per_tenant(1.0, 20, "error");
    config["strategy"] = json!("records");
    let h = harness(config);
    h.send(tenant("t"), span_batch(8)).await.unwrap();
    assert!(approx(h.tokens("x-tenant-id:t"), 12.0));
    let m = OtlpData::from_original(Signal::Metrics, Bytes::from(metrics().encode_to_vec()));
    h.send(tenant("t"), m).await.unwrap();
    assert!(approx(h.tokens("x-tenant-id:t"), 3.0));
    let l = OtlpData::from_original(Signal::Logs, Bytes::from(logs(4).encode_to_vec()));
    let err = h.send(tenant("t"), l).await.unwrap_err();
    assert_eq!(err.status().retry_after(), Some(Duration::from_secs(1)));
    let l = OtlpData::from_original(Signal::Logs, Bytes::from(logs(3).encode_to_vec()));
    h.send(tenant("t"), l).await.unwrap();
    // An empty batch costs nothing and passes even now.
    h.send(tenant("t"), span_batch(0)).await.unwrap();
    assert!(approx(h.tokens("x-tenant-id:t"), 0.0));
    assert_eq!(h.sink.len(), 4);
    // A batch that is not OTLP is invalid data.
    let garbage = OtlpData::from_original(Signal::Logs, Bytes::from_static(&[0xff, 0xff]));
    let err = h.send(tenant("t"), garbage).await.unwrap_err();
    assert!(
        matches!(err, ProcessingError::InvalidData { .. }),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn strategy_bytes_charges_the_encoded_size() {
    let size = traces(&[3]).encode_to_vec().len() as u64;
    let mut config = per_tenant(size as f64, 2 * size, "error");
    config["strategy"] = json!("bytes");
    let h = harness(config);
    h.send(tenant("t"), span_batch(3)).await.unwrap();
    assert!(approx(h.tokens("x-tenant-id:t"), size as f64));
    h.send(tenant("t"), span_batch(3)).await.unwrap();
    let err = h.send(tenant("t"), span_batch(3)).await.unwrap_err();
    assert_eq!(err.status().retry_after(), Some(Duration::from_secs(1)));
    // Decoded data (from a Rust processor before this one) costs the same.
    tokio::time::advance(Duration::from_secs(1)).await;
    h.send(tenant("t"), OtlpData::from_traces(traces(&[3])))
        .await
        .unwrap();
    assert!(approx(h.tokens("x-tenant-id:t"), 0.0));
    // More bytes than the burst: never.
    let err = h.send(tenant("t"), span_batch(7)).await.unwrap_err();
    assert!(err.is_permanent());
}

#[tokio::test]
async fn data_is_forwarded_untouched() {
    let mut config = per_tenant(100.0, 100, "error");
    config["strategy"] = json!("records");
    let h = harness(config);
    let bytes = Bytes::from(traces(&[2, 2]).encode_to_vec());
    let rc = tenant("a");
    h.send(
        rc.clone(),
        OtlpData::from_original(Signal::Traces, bytes.clone()),
    )
    .await
    .unwrap();
    let sent = h.sink.0.lock().unwrap();
    let (_, out) = &sent[0];
    assert_eq!(*out.request(), rc);
    assert!(out.inner().is_original(), "never decoded for writing");
    assert_eq!(out.inner().to_encoded().unwrap().as_ptr(), bytes.as_ptr());
}

/// What the bridge sends this processor: no bytes, only what Go measured
/// of its batch. Every strategy charges from those, and the batch goes on
/// as Go's own.
#[tokio::test(start_paused = true)]
async fn counts_alone_are_enough() {
    use otelcol_rust_engine::Counts;
    let counts = |items, encoded_size| {
        OtlpData::from_counts_of_original(
            Signal::Logs,
            Counts {
                items,
                encoded_size,
            },
        )
    };
    for (strategy, cost_of_first) in [("requests", 1.0), ("records", 7.0), ("bytes", 500.0)] {
        let mut config = per_tenant(0.001, 1000, "error");
        config["strategy"] = json!(strategy);
        let h = harness(config);
        h.send(tenant("t"), counts(7, 500)).await.unwrap();
        assert!(
            approx(h.tokens("x-tenant-id:t"), 1000.0 - cost_of_first),
            "{strategy}: {}",
            h.tokens("x-tenant-id:t")
        );
        let sent = h.sink.0.lock().unwrap();
        assert!(sent[0].1.inner().is_counts_only() && sent[0].1.inner().is_original());
    }
}

#[tokio::test]
async fn downstream_errors_are_returned_and_control_messages_ignored() {
    let h = harness(per_tenant(100.0, 100, "error"));
    let mut processor = RateLimitProcessor {
        limiter: h.limiter.clone(),
    };
    let mut handler = EffectHandler::new(
        "rust_ratelimit",
        Arc::new(RefuseSink(ProcessingError::unavailable(
            "exporter queue full",
        ))),
    );
    let msg = Message::PData(Context::new(tenant("a"), one()));
    let err = processor.process(msg, &mut handler).await.unwrap_err();
    assert_eq!(err.to_string(), "exporter queue full");
    assert_eq!(err.status().grpc(), Some(GrpcCode::Unavailable));
    let msg = Message::Control(ControlMsg::Shutdown);
    processor.process(msg, &mut handler).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn overrides_apply_to_their_key_only() {
    let h = harness(json!({
        "metadata_keys": ["X-Tenant-Id", "x-env"],
        "rate": 1,
        "burst": 2,
        "overrides": {
            "x-tenant-id:big;x-env:prod": {"burst": 10, "rate": 5},
            "x-tenant-id:;x-env:": {"burst": 1},
        },
    }));
    let req = |tenant: &str, env: &str| with_metadata(&[("x-tenant-id", tenant), ("X-ENV", env)]);
    let count_ok =
        |results: Vec<Result<(), ProcessingError>>| results.iter().filter(|r| r.is_ok()).count();
    let mut big = Vec::new();
    let mut small = Vec::new();
    let mut big_dev = Vec::new();
    for _ in 0..12 {
        big.push(h.send(req("big", "prod"), one()).await);
        small.push(h.send(req("small", "prod"), one()).await);
        big_dev.push(h.send(req("big", "dev"), one()).await);
    }
    assert_eq!(count_ok(big), 10);
    assert_eq!(count_ok(small), 2);
    assert_eq!(count_ok(big_dev), 2, "the override names both values");
    let err = h.send(req("big", "prod"), one()).await.unwrap_err();
    assert_eq!(err.status().retry_after(), Some(Duration::from_millis(200)));
    // Requests without the metadata share one bucket, which the
    // `x-tenant-id:;x-env:` override sizes.
    h.send(RequestContext::new(1), one()).await.unwrap();
    let err = h
        .send(with_metadata(&[("other", "x")]), one())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"x-tenant-id:;x-env:\""), "{err}");
}

#[tokio::test(start_paused = true)]
async fn missing_metadata_shares_a_bucket_or_is_refused() {
    let h = harness(per_tenant(1.0, 2, "error"));
    h.send(RequestContext::new(1), one()).await.unwrap();
    h.send(with_metadata(&[("x-tenant-id", "")]), one())
        .await
        .unwrap();
    assert!(h.send(RequestContext::new(2), one()).await.is_err());
    assert!(approx(h.tokens("x-tenant-id:"), 0.0));

    let mut config = per_tenant(1.0, 2, "error");
    config["reject_missing_metadata"] = json!(true);
    let h = harness(config);
    let err = h.send(RequestContext::new(1), one()).await.unwrap_err();
    assert!(err.is_permanent());
    assert_eq!(err.status().grpc(), Some(GrpcCode::InvalidArgument));
    assert_eq!(err.status().http(), Some(400));
    assert!(err.to_string().contains("x-tenant-id"), "{err}");
    h.send(tenant("a"), one()).await.unwrap();
    let s = h.stats();
    assert_eq!((s.missing_metadata, s.admitted, s.buckets), (1, 1, 1));
}

#[tokio::test]
async fn without_metadata_keys_everything_shares_the_default_bucket() {
    let h = harness(json!({"rate": 1, "burst": 3}));
    h.send(tenant("a"), one()).await.unwrap();
    h.send(tenant("b"), one()).await.unwrap();
    h.send(RequestContext::new(1), one()).await.unwrap();
    let err = h.send(tenant("c"), one()).await.unwrap_err();
    assert!(err.to_string().contains("\"default\""), "{err}");
}

#[tokio::test(start_paused = true)]
async fn buckets_are_bounded_least_recently_used_first() {
    let mut config = per_tenant(0.001, 1, "error");
    config["max_buckets"] = json!(2);
    let h = harness(config);
    h.send(tenant("a"), one()).await.unwrap();
    h.send(tenant("b"), one()).await.unwrap();
    assert!(h.send(tenant("a"), one()).await.is_err(), "a is empty");
    // "c" evicts "b", the least recently used (a was just touched).
    h.send(tenant("c"), one()).await.unwrap();
    assert!(h.send(tenant("a"), one()).await.is_err(), "a was kept");
    // "b" comes back as a new, full bucket (evicting "c"): the price of
    // the bound.
    h.send(tenant("b"), one()).await.unwrap();
    let s = h.stats();
    assert_eq!((s.buckets, s.evictions), (2, 2));
}

#[test]
fn concurrent_callers_never_exceed_rate_times_elapsed_plus_burst() {
    // Real threads and the real clock against one table.
    let (rate, burst) = (2000.0, 50.0);
    let limits = Limits { rate, burst };
    let table = Arc::new(BucketTable::new(16, Stats::default()));
    let keys = ["t0", "t1", "t2", "t3"];
    let admitted: Arc<Vec<AtomicU64>> = Arc::new(keys.iter().map(|_| AtomicU64::new(0)).collect());
    let start = Instant::now();
    let run_for = Duration::from_millis(200);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (table, admitted) = (table.clone(), admitted.clone());
            std::thread::spawn(move || {
                let mut i = t;
                while start.elapsed() < run_for {
                    let k = i % keys.len();
                    if table.try_take(keys[k], 1.0, Instant::now(), |_| limits).0 == Take::Admitted
                    {
                        admitted[k].fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    for (k, n) in admitted.iter().enumerate() {
        let n = n.load(Ordering::Relaxed) as f64;
        assert!(
            n <= rate * elapsed + burst + 1e-6,
            "{}: {n} admitted in {elapsed}s",
            keys[k]
        );
        assert!(n >= burst, "{}: only {n} admitted", keys[k]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_instances_share_the_buckets() {
    let (rate, burst) = (500.0, 20u64);
    let h = harness(per_tenant(rate, burst, "error"));
    let start = std::time::Instant::now();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                let name = if i % 2 == 0 { "even" } else { "odd" };
                let mut ok = 0u64;
                for _ in 0..200 {
                    if h.send(tenant(name), one()).await.is_ok() {
                        ok += 1;
                    }
                    tokio::task::yield_now().await;
                }
                (name, ok)
            })
        })
        .collect();
    let mut per = HashMap::new();
    for t in tasks {
        let (name, ok) = t.await.unwrap();
        *per.entry(name).or_insert(0u64) += ok;
    }
    let elapsed = start.elapsed().as_secs_f64();
    for (name, n) in per {
        assert!(
            n as f64 <= rate * elapsed + burst as f64 + 1e-6,
            "{name}: {n} admitted in {elapsed}s"
        );
        assert!(n >= burst, "{name}: {n}");
    }
    let s = h.stats();
    assert_eq!(s.admitted + s.throttled, 32 * 200);
    assert_eq!(s.admitted, h.sink.len() as u64);
}

#[test]
fn factory() {
    assert_eq!(FACTORY.name, "rust_ratelimit");
    assert_eq!(FACTORY.stability, Stability::Alpha);
    assert_eq!(
        FACTORY.signals,
        [Signal::Traces, Signal::Metrics, Signal::Logs]
    );
    assert!(!FACTORY.mutates_data);
    assert!(!FACTORY.needs_client_auth);
    assert!(FACTORY.readme.contains("rust_ratelimit"));
    // As in elastic's processor, rate and burst are required.
    let default = (FACTORY.default_config)();
    let err = (FACTORY.create)(&default).err().expect("rate is required");
    assert!(err.to_string().contains("missing field `rate`"), "{err}");
    // The example, merged over the defaults as the Collector does, works.
    let mut merged = default.as_object().unwrap().clone();
    merged.extend((FACTORY.example_config)().as_object().unwrap().clone());
    (FACTORY.create)(&serde_json::Value::Object(merged)).expect("example is valid");
    (FACTORY.create)(&(FACTORY.example_config)()).expect("example alone is valid");
    let (make, stats) = create_with_stats(&json!({"rate": 1, "burst": 1})).unwrap();
    let _instance = make();
    assert_eq!(stats.snapshot(), StatsSnapshot::default());
    let err = (FACTORY.create)(&json!({"rate": 1, "burst": 1, "strategy": "spans"}))
        .err()
        .unwrap();
    assert_eq!(err.path, "strategy");
}

#[tokio::test]
async fn instances_from_the_factory_share_one_table() {
    let (make, stats) = create_with_stats(&per_tenant(0.001, 3, "error")).unwrap();
    let sink = Arc::new(Collect::default());
    let mut results = Vec::new();
    for _ in 0..5 {
        let mut p = make();
        let mut handler = EffectHandler::new("rust_ratelimit", sink.clone());
        let msg = Message::PData(Context::new(tenant("a"), one()));
        results.push(p.process(msg, &mut handler).await.is_ok());
    }
    assert_eq!(results, [true, true, true, false, false]);
    let s = stats.snapshot();
    assert_eq!((s.admitted, s.throttled), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn decisions_are_counted_for_telemetry() {
    let mut config = per_tenant(1.0, 1, "delay");
    config["strategy"] = json!("records");
    config["max_buckets"] = json!(1);
    config["metrics_per_tenant"] = json!(true);
    let h = harness(config);
    let handler = EffectHandler::new(
        "rust_ratelimit",
        h.sink.clone() as Arc<dyn MessageSink<PData>>,
    )
    .with_counters(FACTORY.metrics.len());
    let send = |rc: RequestContext, data: OtlpData| {
        let (limiter, mut handler) = (h.limiter.clone(), handler.clone());
        async move {
            RateLimitProcessor { limiter }
                .process(Message::PData(Context::new(rc, data)), &mut handler)
                .await
        }
    };
    send(tenant("a"), one()).await.unwrap();
    send(tenant("a"), one()).await.unwrap(); // waits 1 s
    let soon = std::time::Instant::now() + Duration::from_millis(10);
    assert!(send(tenant("a").with_deadline(Some(soon)), one())
        .await
        .is_err());
    assert!(send(tenant("a"), span_batch(2)).await.is_err()); // too large
    let cancelled = CancellationToken::new();
    cancelled.cancel();
    assert!(send(tenant("a").with_cancellation(cancelled), one())
        .await
        .is_err());
    send(tenant("b"), one()).await.unwrap(); // evicts "a"

    // Counters carry the strategy (and here, per tenant, the limit key).
    let mut values: HashMap<&str, u64> = FACTORY.metrics.iter().map(|m| (m.name, 0)).collect();
    let mut tenants = std::collections::BTreeSet::new();
    for ((index, attrs), value) in handler.labeled_counter_values() {
        assert!(
            attrs.contains(&("strategy", "records".to_string())),
            "{attrs:?}"
        );
        if let Some((_, t)) = attrs.iter().find(|(k, _)| *k == "tenant") {
            tenants.insert(t.clone());
        }
        *values.get_mut(FACTORY.metrics[index].name).unwrap() += value;
    }
    assert_eq!(
        tenants.len(),
        2,
        "per-tenant series for a and b: {tenants:?}"
    );
    assert_eq!(values["requests_admitted"], 3);
    assert_eq!(values["requests_throttled"], 0);
    assert_eq!(values["requests_delayed"], 1);
    assert_eq!(values["delay_time"], 1_000_000, "microseconds");
    assert_eq!(values["requests_deadline_exceeded"], 1);
    assert_eq!(values["requests_cancelled"], 1);
    assert_eq!(values["requests_too_large"], 1);
    assert_eq!(values["requests_missing_metadata"], 0);
    assert_eq!(values["buckets_evicted"], 1);
    let s = h.stats();
    assert_eq!(
        s,
        StatsSnapshot {
            admitted: 3,
            throttled: 0,
            delayed: 1,
            wait_time: Duration::from_secs(1),
            deadline_exceeded: 1,
            cancelled: 1,
            too_large: 1,
            missing_metadata: 0,
            evictions: 1,
            buckets: 1,
        }
    );
}

/// The byte budget of the bucket table: whatever the length of the limit
/// keys clients choose, the table holds at most 400 bytes for each of its
/// `max_buckets` buckets (4 MB at the default). Measured with the allocator's count of the
/// bytes this thread holds.
#[test]
fn bucket_table_memory_is_bounded_in_bytes() {
    use crate::test_alloc::live_bytes;
    let limits = Limits {
        rate: 1.0,
        burst: 10.0,
    };
    for (value_len, tenants) in [(10, 12_000), (60 * 1024, 12_000), (500 * 1024, 600)] {
        let max_buckets = DEFAULT_MAX_BUCKETS;
        let before = live_bytes();
        let table = BucketTable::new(max_buckets, Stats::default());
        let value = "v".repeat(value_len);
        for t in 0..tenants {
            let key = stored_key(format!("x-tenant-id:{t}{value}"));
            table.try_take(&key, 1.0, Instant::now(), |_| limits);
        }
        let held = live_bytes() - before;
        let buckets = tenants.min(max_buckets);
        eprintln!(
            "{tenants} tenants with {value_len}-byte values: {buckets} buckets, the table holds {held} bytes"
        );
        // The README's bound: 400 bytes for each bucket the table may
        // hold (its index is sized for max_buckets up front).
        assert!(held <= 400 * max_buckets as i64, "{held} bytes");
        drop(table);
    }
}

#[test]
fn long_keys_are_stored_as_digests() {
    let short = "x-tenant-id:acme".to_string();
    assert_eq!(stored_key(short.clone()), short);
    let long = format!("x-tenant-id:{}", "a".repeat(MAX_STORED_KEY_BYTES));
    let stored = stored_key(long.clone());
    assert!(
        stored.starts_with(":sha256:") && stored.len() == 8 + 64,
        "{stored}"
    );
    assert_eq!(
        stored,
        stored_key(long.clone()),
        "the same key, the same bucket"
    );
    assert_ne!(stored, stored_key(format!("{long}b")));
}

/// An override names the whole key, however long: it applies to that
/// tenant although its bucket is stored under a digest.
#[tokio::test(start_paused = true)]
async fn overrides_apply_to_long_keys() {
    let long = "a".repeat(1000);
    let mut config = per_tenant(0.001, 1, "error");
    config["overrides"] = json!({ format!("x-tenant-id:{long}"): {"burst": 3} });
    let h = harness(config);
    for _ in 0..3 {
        h.send(tenant(&long), one()).await.unwrap();
    }
    let err = h.send(tenant(&long), one()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(":sha256:"), "{text}");
    assert!(
        text.len() < 300,
        "the message names the digest, not the key: {text}"
    );
}
