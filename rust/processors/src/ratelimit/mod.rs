//! `rust_ratelimit`: per-tenant rate limiting with token buckets, after
//! elastic's `ratelimitprocessor` in its in-memory (`local`) mode.
//!
//! Each request is charged to the bucket of its limit key, made from the
//! values of the configured client-metadata keys (`metadata_keys`): one
//! bucket per tenant. A bucket holds up to `burst` tokens and refills at
//! `rate` tokens per second; a request costs one token, one per item
//! (`records`) or one per byte of its OTLP encoding (`bytes`). Over the
//! limit, a request is refused at once with `RESOURCE_EXHAUSTED` (HTTP 429)
//! and a retry delay (`throttle_behavior: error`), or held until its tokens
//! are there (`delay`), never past its deadline, and released at once if
//! its caller cancels.
//!
//! The buckets belong to the component, not to an instance: [`FACTORY`]'s
//! `create` builds one bucket table and every instance the engine
//! pools holds an `Arc` of it, so concurrent requests of one tenant draw on
//! the same bucket. The table is bounded (`max_buckets`, least recently used
//! evicted). The processor reads nothing of a batch but its item count and
//! encoded size (`DataAccess::Counts`): Go measures them on its pdata and
//! sends no bytes, and forwards its original `pdata`.
//!
//! Every decision is counted in the engine's per-component counters (the
//! factory's `metrics`, which the bridge exports) and in the component's
//! [`Stats`], which [`create_with_stats`] returns along with the number of
//! buckets held.

mod bucket;
mod config;
mod duration;
mod limit_key;
mod lru;
mod stats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otelcol_rust_engine::{
    effective_config, parse_config, ConfigError, DataAccess, EffectHandler, InstanceFactory,
    Message, OtlpData, PData, ProcessingError, Processor, ProcessorFactory, Signal, Stability,
};
use stats::{Counter, METRICS};
use tokio::time::Instant;

use bucket::{BucketTable, Limits, Reserve, Take, Ticket};
use config::Settings;
pub use config::{
    Config, DynamicLimits, LimiterType, Override, Strategy, ThrottleBehavior, DEFAULT_KEY,
    DEFAULT_MAX_BUCKETS,
};
pub use duration::{parse_duration, GoDuration};
use limit_key::limit_key;
pub use stats::{Stats, StatsSnapshot};

/// The factory the bridge registers for `rust_ratelimit`.
pub static FACTORY: ProcessorFactory = ProcessorFactory {
    name: "rust_ratelimit",
    description: "Rate limits requests per tenant (client metadata) with token buckets, by requests, records or bytes; refuses with RESOURCE_EXHAUSTED or delays.",
    stability: Stability::Alpha,
    signals: &[Signal::Traces, Signal::Metrics, Signal::Logs],
    mutates_data: false,
    needs_client_auth: false,
    // Only the batch's item count and size: Go measures them on its own
    // pdata and sends no bytes (no marshal, no second copy of a batch).
    data: DataAccess::Counts,
    default_config,
    example_config: || {
        serde_json::json!({
            "metadata_keys": ["x-tenant-id"],
            "strategy": "records",
            "rate": 10000,
            "burst": 50000,
            "throttle_behavior": "error",
            "overrides": {
                "x-tenant-id:big-customer": {"rate": 50000, "burst": 250000}
            }
        })
    },
    readme: include_str!("README.md"),
    metrics: METRICS,
    create,
    effective_config: effective_config::<Config>,
    opaque_fields: &[],
};

/// The defaults. `rate` and `burst` have none (as in elastic's processor,
/// they are required), so this alone is not a valid configuration.
fn default_config() -> serde_json::Value {
    serde_json::json!({
        "metadata_keys": [],
        "strategy": "requests",
        "throttle_behavior": "error",
        "overrides": {},
        "max_buckets": DEFAULT_MAX_BUCKETS,
        "reject_missing_metadata": false,
        "type": "local",
    })
}

fn create(value: &serde_json::Value) -> Result<InstanceFactory, ConfigError> {
    create_with_stats(value).map(|(factory, _)| factory)
}

/// What [`FACTORY`]'s `create` does, also returning the counters of the
/// component it configures: every instance the returned factory makes
/// shares one bucket table and these [`Stats`].
pub fn create_with_stats(
    value: &serde_json::Value,
) -> Result<(InstanceFactory, Stats), ConfigError> {
    let limiter = Limiter::new(parse_config::<Config>(value)?.check()?);
    let stats = limiter.stats.clone();
    let factory: InstanceFactory = Arc::new(move || {
        Box::new(RateLimitProcessor {
            limiter: limiter.clone(),
        }) as Box<dyn Processor<PData>>
    });
    Ok((factory, stats))
}

/// What the instances of one component share.
struct Limiter {
    settings: Settings,
    table: BucketTable,
    stats: Stats,
}

impl Limiter {
    fn new(settings: Settings) -> Arc<Self> {
        let stats = Stats::default();
        Arc::new(Limiter {
            table: BucketTable::new(settings.max_buckets, stats.clone()),
            stats,
            settings,
        })
    }

    fn limits_for(overrides: &HashMap<String, Limits>, default: Limits, key: &str) -> Limits {
        overrides.get(key).copied().unwrap_or(default)
    }

    /// The tokens a batch costs.
    fn cost(&self, data: &OtlpData) -> Result<u64, ProcessingError> {
        match self.settings.strategy {
            Strategy::Requests => Ok(1),
            // The size of the batch's encoding, as Go measures it (with
            // the edits of an earlier Rust processor of the same chain).
            Strategy::Bytes => data.encoded_size(),
            Strategy::Records => data.item_count(),
        }
    }

    fn too_many(&self, key: &str, limits: Limits) -> String {
        format!(
            "too many requests: rate limit of {} {}/s (burst {}) exceeded for {key:?}",
            limits.rate,
            self.settings.strategy.as_str(),
            limits.burst
        )
    }

    /// Counts an event in the component's [`Stats`] and in the engine's
    /// counters (exported by the bridge).
    fn count(&self, handler: &EffectHandler<PData>, counter: Counter, key: &str, n: u64) {
        self.stats.add(counter, n);
        let n = match counter {
            // Microseconds for telemetry; nanoseconds in `Stats`.
            Counter::DelayTime => n / 1_000,
            _ => n,
        };
        // Always by strategy; by tenant (the limit key) only when asked
        // for, to keep the number of series bounded.
        let strategy = self.settings.strategy.as_str();
        if self.settings.metrics_per_tenant {
            handler.add_counter_with(
                counter as usize,
                &[("strategy", strategy), ("tenant", key)],
                n,
            );
        } else {
            handler.add_counter_with(counter as usize, &[("strategy", strategy)], n);
        }
    }

    fn too_large(&self, key: &str, cost: u64, limits: Limits) -> ProcessingError {
        // Retrying the same data can never help: permanent, and with a code
        // that no OTLP client retries on either transport (gRPC
        // INVALID_ARGUMENT, HTTP 400: "problematic regardless of the state
        // of the system", which a batch larger than the burst is).
        ProcessingError::invalid_argument(format!(
            "request of {cost} {} exceeds the rate limit burst of {} for {key:?}: it can never be accepted; send smaller batches",
            self.settings.strategy.as_str(),
            limits.burst
        ))
    }
}

/// Gives a reservation back unless it was used: a request that waits and
/// is cancelled, or whose future is dropped (the bridge drops it when the
/// caller cancels or the deadline passes), leaves its bucket as if it had
/// never come.
struct Reservation<'a> {
    limiter: &'a Limiter,
    handler: &'a EffectHandler<PData>,
    key: &'a str,
    ticket: Ticket,
    cost: f64,
    used: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.used {
            self.limiter
                .table
                .refund(self.key, self.ticket, self.cost, Instant::now());
            self.limiter
                .count(self.handler, Counter::Cancelled, self.key, 1);
        }
    }
}

/// One instance; all instances of a component share the [`Limiter`].
struct RateLimitProcessor {
    limiter: Arc<Limiter>,
}

#[async_trait]
impl Processor<PData> for RateLimitProcessor {
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError> {
        let Message::PData(data) = msg else {
            return Ok(());
        };
        let limiter = &*self.limiter;
        let settings = &limiter.settings;
        let key = limit_key(&settings.metadata_keys, data.request().metadata());
        if key.missing && settings.reject_missing_metadata {
            limiter.count(effect_handler, Counter::MissingMetadata, &key.key, 1);
            return Err(ProcessingError::invalid_argument(format!(
                "rate limiting needs the client metadata {:?}; the request has the limit key {:?}",
                settings.metadata_keys, key.key
            )));
        }
        // Overrides are written with the whole key; the bucket, messages
        // and telemetry see its stored form (a digest for a long key).
        let key_limits = Limiter::limits_for(&settings.overrides, settings.limits, &key.key);
        let key = stored_key(key.key);
        let cost = limiter.cost(data.inner())?;
        if cost > 0 {
            let limits = |_: &str| key_limits;
            let now = Instant::now();
            let handler = &*effect_handler;
            match settings.behavior {
                ThrottleBehavior::Error => {
                    let (take, evicted) = limiter.table.try_take(&key, cost as f64, now, limits);
                    if evicted {
                        limiter.count(handler, Counter::Evicted, &key, 1);
                    }
                    match take {
                        Take::Admitted => {}
                        Take::Throttled {
                            retry_after,
                            limits,
                        } => {
                            limiter.count(handler, Counter::Throttled, &key, 1);
                            let delay = settings.retry_delay.unwrap_or(retry_after);
                            return Err(ProcessingError::resource_exhausted(
                                limiter.too_many(&key, limits),
                            )
                            .with_retry_after(delay));
                        }
                        Take::TooLarge { limits } => {
                            limiter.count(handler, Counter::TooLarge, &key, 1);
                            return Err(limiter.too_large(&key, cost, limits));
                        }
                    }
                }
                ThrottleBehavior::Delay => {
                    let request = data.request();
                    if request.is_cancelled() {
                        limiter.count(handler, Counter::Cancelled, &key, 1);
                        return Err(ProcessingError::Cancelled);
                    }
                    let budget = request.remaining();
                    let (reserve, evicted) =
                        limiter
                            .table
                            .reserve(&key, cost as f64, now, budget, limits);
                    if evicted {
                        limiter.count(handler, Counter::Evicted, &key, 1);
                    }
                    match reserve {
                        Reserve::Ready => {}
                        Reserve::Wait { wait, ticket } => {
                            let mut reservation = Reservation {
                                limiter,
                                handler,
                                key: &key,
                                ticket,
                                cost: cost as f64,
                                used: false,
                            };
                            tokio::select! {
                                biased;
                                _ = request.cancellation().cancelled() => {
                                    // Dropping the reservation refunds it.
                                    return Err(ProcessingError::Cancelled);
                                }
                                _ = sleep_from(now, wait) => {
                                    reservation.used = true;
                                    limiter.count(handler, Counter::Delayed, &key, 1);
                                    let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
                                    limiter.count(handler, Counter::DelayTime, &key, nanos);
                                }
                            }
                        }
                        Reserve::TooLate { .. } => {
                            limiter.count(handler, Counter::DeadlineExceeded, &key, 1);
                            return Err(ProcessingError::DeadlineExceeded);
                        }
                        Reserve::TooLarge { limits } => {
                            limiter.count(handler, Counter::TooLarge, &key, 1);
                            return Err(limiter.too_large(&key, cost, limits));
                        }
                    }
                }
            }
        }
        limiter.count(effect_handler, Counter::Admitted, &key, 1);
        effect_handler.forward(data).await
    }
}

/// The longest limit key a bucket stores as it is, in bytes.
///
/// A bucket keeps its key twice (in the table's index and in its node), so
/// the key's length, which a client chooses through its metadata, would
/// otherwise decide the table's memory: 12,000 tenants with 60 KB header
/// values held 1.4 GB. A longer key is stored as its SHA-256 digest, so a
/// table holds at most 400 bytes a bucket (README, "Buckets").
pub const MAX_STORED_KEY_BYTES: usize = 128;

/// The form of a limit key the bucket table, messages and telemetry use:
/// the key itself up to [`MAX_STORED_KEY_BYTES`], else `:sha256:<hex>` of
/// it. No key built from metadata starts with `:` (it starts with a
/// metadata key name, which is not empty and has no `:`, or is
/// `default`), so a digest never names another tenant's bucket.
pub fn stored_key(key: String) -> String {
    if key.len() <= MAX_STORED_KEY_BYTES {
        return key;
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key.as_bytes());
    format!(":sha256:{}", hex::encode(digest))
}

/// Sleeps until `wait` after `now` (for ever, in effect, if that is past
/// the clock's range).
async fn sleep_from(now: Instant, wait: Duration) {
    match now.checked_add(wait) {
        Some(until) => tokio::time::sleep_until(until).await,
        None => tokio::time::sleep(wait).await,
    }
}

#[cfg(test)]
mod tests;
