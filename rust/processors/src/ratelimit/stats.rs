//! Counters a component keeps about its decisions, for telemetry.
//!
//! Every event is counted twice, by the same [`Counter`] index: in the
//! component's [`Stats`] (readable from Rust at any time, with the number
//! of buckets held) and in the engine's per-component counters
//! ([`EffectHandler::add_counter`](otelcol_rust_engine::EffectHandler::add_counter)),
//! which the bridge exports as `otelcol_rust_processor_rust_ratelimit_<name>`
//! (see [`METRICS`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otelcol_rust_engine::MetricDescriptor;

/// What is counted; the discriminant is the index in [`METRICS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Counter {
    Admitted = 0,
    Throttled = 1,
    Delayed = 2,
    /// Microseconds in the engine counter, nanoseconds in [`Stats`].
    DelayTime = 3,
    DeadlineExceeded = 4,
    Cancelled = 5,
    TooLarge = 6,
    MissingMetadata = 7,
    Evicted = 8,
}

const COUNTERS: usize = 9;

/// The counters the factory declares, in [`Counter`] order.
pub(crate) static METRICS: &[MetricDescriptor] = &[
    MetricDescriptor {
        name: "requests_admitted",
        description: "Requests forwarded, at once or after waiting for tokens.",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "requests_throttled",
        description: "Requests refused with RESOURCE_EXHAUSTED for being over the rate limit (throttle_behavior: error).",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "requests_delayed",
        description: "Requests held until their tokens were available, then forwarded (throttle_behavior: delay).",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "delay_time",
        description: "Total time delayed requests were held.",
        unit: "us",
    },
    MetricDescriptor {
        name: "requests_deadline_exceeded",
        description: "Requests refused at once because their deadline would pass before their tokens were available.",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "requests_cancelled",
        description: "Requests cancelled by their caller before or while waiting for tokens.",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "requests_too_large",
        description: "Requests refused for costing more tokens than the burst.",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "requests_missing_metadata",
        description: "Requests refused for lacking the metadata_keys (reject_missing_metadata).",
        unit: "{requests}",
    },
    MetricDescriptor {
        name: "buckets_evicted",
        description: "Buckets dropped, least recently used first, to stay within max_buckets.",
        unit: "{buckets}",
    },
];

#[derive(Debug, Default)]
struct Counters {
    counts: [AtomicU64; COUNTERS],
    buckets: AtomicU64,
}

/// The counters of one `rust_ratelimit` component, shared by all its
/// instances. Cheap to clone (one `Arc`); reading never blocks the
/// processor. Counters only grow, except [`StatsSnapshot::buckets`], the
/// number of buckets held now.
///
/// Get one with [`create_with_stats`](super::create_with_stats).
#[derive(Debug, Clone, Default)]
pub struct Stats(Arc<Counters>);

/// The values of a [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Requests forwarded (at once or after waiting).
    pub admitted: u64,
    /// Requests refused with `RESOURCE_EXHAUSTED` (`throttle_behavior: error`).
    pub throttled: u64,
    /// Requests that waited for tokens and were then forwarded
    /// (`throttle_behavior: delay`).
    pub delayed: u64,
    /// Total time the `delayed` requests waited.
    pub wait_time: Duration,
    /// Requests refused up front because their deadline would pass before
    /// their tokens were available (`throttle_behavior: delay`).
    pub deadline_exceeded: u64,
    /// Requests cancelled (or abandoned) by their caller before or while
    /// waiting.
    pub cancelled: u64,
    /// Requests refused because they cost more than the burst.
    pub too_large: u64,
    /// Requests refused for missing metadata (`reject_missing_metadata`).
    pub missing_metadata: u64,
    /// Buckets dropped to stay within `max_buckets`.
    pub evictions: u64,
    /// Buckets held now.
    pub buckets: u64,
}

impl Stats {
    /// The current values.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: Counter| self.0.counts[c as usize].load(Ordering::Relaxed);
        StatsSnapshot {
            admitted: get(Counter::Admitted),
            throttled: get(Counter::Throttled),
            delayed: get(Counter::Delayed),
            wait_time: Duration::from_nanos(get(Counter::DelayTime)),
            deadline_exceeded: get(Counter::DeadlineExceeded),
            cancelled: get(Counter::Cancelled),
            too_large: get(Counter::TooLarge),
            missing_metadata: get(Counter::MissingMetadata),
            evictions: get(Counter::Evicted),
            buckets: self.0.buckets.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn add(&self, counter: Counter, n: u64) {
        self.0.counts[counter as usize].fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set_buckets(&self, n: usize) {
        self.0.buckets.store(n as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_the_counter_order() {
        assert_eq!(METRICS.len(), COUNTERS);
        let names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        assert_eq!(names[Counter::Admitted as usize], "requests_admitted");
        assert_eq!(names[Counter::DelayTime as usize], "delay_time");
        assert_eq!(names[Counter::Evicted as usize], "buckets_evicted");
        let s = Stats::default();
        s.add(Counter::DelayTime, 1_500);
        s.add(Counter::Evicted, 2);
        s.set_buckets(3);
        let snap = s.snapshot();
        assert_eq!(snap.wait_time, Duration::from_nanos(1_500));
        assert_eq!((snap.evictions, snap.buckets), (2, 3));
    }
}
