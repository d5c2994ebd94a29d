//! Token buckets, one per limit key, in a bounded table shared by every
//! instance of a component.
//!
//! A bucket holds up to `burst` tokens and refills continuously at `rate`
//! tokens per second. Tokens are `f64`: refill adds `rate × elapsed` exactly
//! instead of whole tokens per tick.
//!
//! Two ways to take tokens:
//!
//! - [`BucketTable::try_take`] (`throttle_behavior: error`) takes them only
//!   if they are all there now, and otherwise says how long until they
//!   would be.
//! - [`BucketTable::reserve`] (`throttle_behavior: delay`) takes them now
//!   even if that leaves the bucket in debt, and says how long the caller
//!   must wait for the debt to be paid back by the refill. Waiters are
//!   served in the order they reserved. A reservation the caller does not
//!   use is given back with [`BucketTable::refund`], which restores the
//!   bucket to the state it would be in had the reservation never been
//!   made (see there).
//!
//! The table is one `std::sync::Mutex` around an LRU map. Each call holds
//! the lock for a hash lookup and a few float operations; nothing waits,
//! allocates (except a new key's string) or calls out under it.
//!
//! Time is a parameter ([`tokio::time::Instant`], so paused-clock tests
//! drive it), never read inside: callers pass `now`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::lru::Lru;
use super::stats::Stats;

/// Refill rate and capacity of a bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limits {
    /// Tokens per second, > 0.
    pub rate: f64,
    /// Capacity in tokens, >= 1.
    pub burst: f64,
}

#[derive(Debug)]
struct Bucket {
    limits: Limits,
    tokens: f64,
    /// The time `tokens` was last brought up to date.
    last: Instant,
    /// Tells this bucket from a later one under the same key (after an
    /// eviction), so that a refund never lands in a bucket it was not
    /// taken from.
    generation: u64,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        // A caller that read the clock before another one took the lock
        // may bring an earlier `now`: time never goes backwards here.
        if now > self.last {
            let elapsed = now.duration_since(self.last).as_secs_f64();
            self.tokens = (self.tokens + self.limits.rate * elapsed).min(self.limits.burst);
            self.last = now;
        }
    }

    /// Time until the bucket holds `cost` tokens, with nobody else taking.
    fn time_until(&self, cost: f64) -> Duration {
        seconds_up((cost - self.tokens) / self.limits.rate)
    }
}

/// `secs` as a duration, rounded up to the nanosecond (so that waiting
/// that long is always enough) and saturating.
fn seconds_up(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    let nanos = (secs * 1e9).ceil();
    if nanos >= u64::MAX as f64 {
        Duration::MAX
    } else {
        Duration::from_nanos(nanos as u64)
    }
}

/// What [`BucketTable::try_take`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Take {
    /// The tokens were taken.
    Admitted,
    /// Not enough tokens; nothing was taken. They will be there after
    /// `retry_after` if nobody else takes any.
    Throttled {
        retry_after: Duration,
        limits: Limits,
    },
    /// The cost exceeds the bucket's capacity: it can never pass.
    TooLarge { limits: Limits },
}

/// Proof of a reservation, to refund it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    generation: u64,
}

/// What [`BucketTable::reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reserve {
    /// The tokens were there and were taken: go on at once.
    Ready,
    /// The tokens were taken on credit: wait `wait`, then go on, or
    /// refund with `ticket`.
    Wait { wait: Duration, ticket: Ticket },
    /// The tokens would be available only after `wait`, longer than the
    /// caller's budget; nothing was taken.
    TooLate { wait: Duration },
    /// The cost exceeds the bucket's capacity: it can never pass.
    TooLarge { limits: Limits },
}

/// Whether making a bucket evicted another.
pub(crate) type Evicted = bool;

struct Table {
    buckets: Lru<Bucket>,
    next_generation: u64,
}

/// The buckets of one component.
pub(crate) struct BucketTable {
    table: Mutex<Table>,
    stats: Stats,
}

impl BucketTable {
    /// A table of at most `max_buckets` buckets.
    pub(crate) fn new(max_buckets: usize, stats: Stats) -> Self {
        BucketTable {
            table: Mutex::new(Table {
                buckets: Lru::new(max_buckets),
                next_generation: 0,
            }),
            stats,
        }
    }

    /// Runs `f` on the bucket of `key`, brought up to date at `now`. A
    /// missing bucket is made full, with `limits(key)`, evicting the least
    /// recently used one if the table is full; the flag says whether that
    /// happened.
    fn with_bucket<R>(
        &self,
        key: &str,
        now: Instant,
        limits: impl FnOnce(&str) -> Limits,
        f: impl FnOnce(&mut Bucket) -> R,
    ) -> (R, Evicted) {
        // A panic under the lock cannot leave a bucket half-updated (every
        // update is a plain store), so a poisoned lock is still usable.
        let mut guard = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let table = &mut *guard;
        if let Some(bucket) = table.buckets.get_mut(key) {
            bucket.refill(now);
            return (f(bucket), false);
        }
        let limits = limits(key);
        let generation = table.next_generation;
        table.next_generation += 1;
        let (bucket, evicted) = table.buckets.insert(
            key.to_string(),
            Bucket {
                limits,
                tokens: limits.burst,
                last: now,
                generation,
            },
        );
        let out = f(bucket);
        self.stats.set_buckets(table.buckets.len());
        (out, evicted.is_some())
    }

    /// Takes `cost` tokens from `key`'s bucket if they are all there.
    pub(crate) fn try_take(
        &self,
        key: &str,
        cost: f64,
        now: Instant,
        limits: impl FnOnce(&str) -> Limits,
    ) -> (Take, Evicted) {
        self.with_bucket(key, now, limits, |b| {
            if cost > b.limits.burst {
                Take::TooLarge { limits: b.limits }
            } else if b.tokens >= cost {
                b.tokens -= cost;
                Take::Admitted
            } else {
                Take::Throttled {
                    retry_after: b.time_until(cost),
                    limits: b.limits,
                }
            }
        })
    }

    /// Takes `cost` tokens from `key`'s bucket, on credit if need be,
    /// unless the wait for them would exceed `budget` (`None`: no limit).
    pub(crate) fn reserve(
        &self,
        key: &str,
        cost: f64,
        now: Instant,
        budget: Option<Duration>,
        limits: impl FnOnce(&str) -> Limits,
    ) -> (Reserve, Evicted) {
        self.with_bucket(key, now, limits, |b| {
            if cost > b.limits.burst {
                return Reserve::TooLarge { limits: b.limits };
            }
            let wait = b.time_until(cost);
            if budget.is_some_and(|budget| wait > budget) {
                return Reserve::TooLate { wait };
            }
            b.tokens -= cost;
            if wait.is_zero() {
                Reserve::Ready
            } else {
                Reserve::Wait {
                    wait,
                    ticket: Ticket {
                        generation: b.generation,
                    },
                }
            }
        })
    }

    /// Gives back a reservation that will not be used.
    ///
    /// Exact: while a reservation waits, its bucket is in debt (that is
    /// why it waits), so the bucket has stayed below its capacity since the
    /// reservation and the refill was never capped; adding the tokens back
    /// leaves the bucket exactly as if the reservation had never been
    /// made. (Reservations made after it still wait as long as they were
    /// told: they are not woken earlier.) If the bucket was evicted
    /// meanwhile, there is nothing to give back to.
    pub(crate) fn refund(&self, key: &str, ticket: Ticket, cost: f64, now: Instant) {
        let mut guard = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = guard.buckets.peek_mut(key) {
            if b.generation == ticket.generation {
                b.refill(now);
                b.tokens = (b.tokens + cost).min(b.limits.burst);
            }
        }
    }

    /// The tokens in `key`'s bucket at `now`, without creating it.
    #[cfg(test)]
    pub(crate) fn tokens(&self, key: &str, now: Instant) -> Option<f64> {
        let mut guard = self.table.lock().unwrap();
        let b = guard.buckets.peek_mut(key)?;
        b.refill(now);
        Some(b.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        rate: 10.0,
        burst: 5.0,
    };

    fn table(max: usize) -> BucketTable {
        BucketTable::new(max, Stats::default())
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn starts_full_takes_and_refills_continuously() {
        let t = table(10);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(t.try_take("k", 1.0, t0, |_| L).0, Take::Admitted);
        }
        let Take::Throttled { retry_after, .. } = t.try_take("k", 1.0, t0, |_| L).0 else {
            panic!("empty bucket must throttle");
        };
        assert_eq!(retry_after, ms(100));
        // 50 ms at 10/s: half a token, still short.
        assert!(matches!(
            t.try_take("k", 1.0, t0 + ms(50), |_| L).0,
            Take::Throttled { retry_after, .. } if retry_after == ms(50)
        ));
        assert_eq!(t.try_take("k", 1.0, t0 + ms(100), |_| L).0, Take::Admitted);
        // Refill is capped at burst.
        assert!(approx(t.tokens("k", t0 + ms(60_000)).unwrap(), 5.0));
    }

    #[test]
    fn too_large_never_passes_and_takes_nothing() {
        let t = table(10);
        let now = Instant::now();
        assert_eq!(
            t.try_take("k", 6.0, now, |_| L).0,
            Take::TooLarge { limits: L }
        );
        assert_eq!(
            t.reserve("k", 6.0, now, None, |_| L).0,
            Reserve::TooLarge { limits: L }
        );
        assert!(approx(t.tokens("k", now).unwrap(), 5.0));
        // Exactly the burst passes.
        assert_eq!(t.try_take("k", 5.0, now, |_| L).0, Take::Admitted);
    }

    #[test]
    fn reservations_queue_in_order() {
        let t = table(10);
        let t0 = Instant::now();
        assert_eq!(t.reserve("k", 5.0, t0, None, |_| L).0, Reserve::Ready);
        let Reserve::Wait { wait: w1, .. } = t.reserve("k", 2.0, t0, None, |_| L).0 else {
            panic!()
        };
        let Reserve::Wait { wait: w2, .. } = t.reserve("k", 3.0, t0, None, |_| L).0 else {
            panic!()
        };
        assert_eq!((w1, w2), (ms(200), ms(500)));
        // A budget shorter than the wait takes nothing.
        assert_eq!(
            t.reserve("k", 1.0, t0, Some(ms(599)), |_| L).0,
            Reserve::TooLate { wait: ms(600) }
        );
        assert!(approx(t.tokens("k", t0).unwrap(), -5.0));
        // A budget of exactly the wait is enough.
        assert!(matches!(
            t.reserve("k", 1.0, t0, Some(ms(600)), |_| L).0,
            Reserve::Wait { wait, .. } if wait == ms(600)
        ));
    }

    #[test]
    fn refund_restores_the_bucket() {
        let t = table(10);
        let t0 = Instant::now();
        assert_eq!(t.reserve("k", 4.0, t0, None, |_| L).0, Reserve::Ready);
        let Reserve::Wait { ticket, .. } = t.reserve("k", 3.0, t0, None, |_| L).0 else {
            panic!()
        };
        // A later reservation, not refunded.
        assert!(matches!(
            t.reserve("k", 1.0, t0 + ms(10), None, |_| L).0,
            Reserve::Wait { .. }
        ));
        t.refund("k", ticket, 3.0, t0 + ms(100));
        // Without the refunded one: 5 - 4 - 1 + 10/s * 0.1 s = 1.
        assert!(approx(t.tokens("k", t0 + ms(100)).unwrap(), 1.0));
    }

    #[test]
    fn refund_never_reaches_a_newer_bucket() {
        let t = table(1);
        let t0 = Instant::now();
        assert_eq!(t.reserve("a", 5.0, t0, None, |_| L).0, Reserve::Ready);
        let Reserve::Wait { ticket, .. } = t.reserve("a", 1.0, t0, None, |_| L).0 else {
            panic!()
        };
        // "b" evicts "a"; "a" comes back as a new, full bucket.
        assert_eq!(t.try_take("b", 1.0, t0, |_| L).0, Take::Admitted);
        assert_eq!(t.try_take("a", 2.0, t0, |_| L).0, Take::Admitted);
        t.refund("a", ticket, 1.0, t0);
        assert!(approx(t.tokens("a", t0).unwrap(), 3.0));
    }

    #[test]
    fn limits_are_chosen_when_a_bucket_is_made_and_evictions_reported() {
        let stats = Stats::default();
        let t = BucketTable::new(2, stats.clone());
        let now = Instant::now();
        let big = Limits {
            rate: 1.0,
            burst: 100.0,
        };
        let pick = |k: &str| if k == "big" { big } else { L };
        assert_eq!(t.try_take("big", 50.0, now, pick).0, Take::Admitted);
        assert_eq!(
            t.try_take("small", 50.0, now, pick).0,
            Take::TooLarge { limits: L }
        );
        assert_eq!(stats.snapshot().buckets, 2);
        assert_eq!(t.try_take("small", 1.0, now, pick), (Take::Admitted, false));
        assert_eq!(t.try_take("other", 1.0, now, pick), (Take::Admitted, true));
        assert_eq!(stats.snapshot().buckets, 2);
        assert!(
            t.tokens("big", now).is_none(),
            "least recently used is gone"
        );
        assert!(t.tokens("small", now).is_some());
    }

    #[test]
    fn time_never_goes_backwards() {
        let t = table(10);
        let t0 = Instant::now();
        assert_eq!(t.try_take("k", 5.0, t0 + ms(100), |_| L).0, Take::Admitted);
        // An earlier `now` refills nothing and does not rewind.
        assert!(matches!(
            t.try_take("k", 1.0, t0, |_| L).0,
            Take::Throttled { retry_after, .. } if retry_after == ms(100)
        ));
        assert!(approx(t.tokens("k", t0 + ms(200)).unwrap(), 1.0));
    }

    #[test]
    fn seconds_round_up_and_saturate() {
        assert_eq!(seconds_up(-1.0), Duration::ZERO);
        assert_eq!(seconds_up(f64::NAN), Duration::ZERO);
        assert_eq!(seconds_up(1e-12), Duration::from_nanos(1));
        assert_eq!(seconds_up(1e30), Duration::MAX);
    }
}
