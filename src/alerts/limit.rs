//! The per-integration rate limit on ingestion: a token bucket per integration id, counted in
//! events (an Alertmanager webhook carrying 40 alerts costs 40), refilled continuously at
//! `events_per_minute` up to `burst`. Over the limit the endpoint answers 429 with
//! `Retry-After`, and nothing of the request is stored, so a sender that retries (all of them
//! do on 429) loses nothing.
//!
//! The buckets live in this process's memory: with several instances on PostgreSQL each
//! enforces its own limit, so a sender spread over N instances gets up to N times the rate.
//! That is acceptable for what the limit is for (one misbehaving sender must not starve the
//! writer for everyone else), and it keeps the limit off the database's hot path.
//!
//! Pure logic: every decision takes `now` from the caller's clock.

use std::collections::HashMap;
use std::sync::Mutex;

/// The limit's settings (`ingest_events_per_minute`, `ingest_burst` in the settings file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained rate per integration; 0 turns the limit off.
    pub events_per_minute: u32,
    /// How many events an idle integration may send at once.
    pub burst: u32,
}

impl Default for RateLimit {
    /// Generous: ten events a second sustained, with room for a storm's first flush (an
    /// Alertmanager group of hundreds of alerts). PagerDuty allows about 120 a minute.
    fn default() -> Self {
        Self {
            events_per_minute: 600,
            burst: 1000,
        }
    }
}

/// One integration's bucket: tokens as of `at` (ms).
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: i64,
}

/// Token buckets by integration id.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes `events` tokens from `integration`'s bucket, or says how many whole seconds to
    /// wait before the same request would pass. A request larger than the burst costs the
    /// whole burst, so any request can pass once the bucket is full.
    pub fn take(&self, integration: &str, events: usize, now: i64) -> Result<(), u64> {
        let RateLimit {
            events_per_minute,
            burst,
        } = self.limit;
        if events_per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(burst.max(1));
        let per_ms = f64::from(events_per_minute) / 60_000.0;
        // Event counts are bounded by the body limit, far below f64's exact integer range.
        #[allow(clippy::cast_precision_loss)]
        let cost = (events.max(1) as f64).min(capacity);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(integration.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        // A clock that steps back refills nothing rather than draining the bucket.
        #[allow(clippy::cast_precision_loss)]
        let elapsed = now.saturating_sub(bucket.at).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * per_ms).min(capacity);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            return Ok(());
        }
        let wait_ms = (cost - bucket.tokens) / per_ms;
        // Rounded up: a sender that waits exactly Retry-After seconds gets through.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let seconds = (wait_ms / 1000.0).ceil().max(1.0) as u64;
        Err(seconds)
    }
}

#[cfg(test)]
mod tests {
    //! The bucket: burst, refill, per-integration isolation, the off switch.

    use super::{Limiter, RateLimit};

    fn limiter(per_minute: u32, burst: u32) -> Limiter {
        Limiter::new(RateLimit {
            events_per_minute: per_minute,
            burst,
        })
    }

    #[test]
    fn a_burst_passes_then_the_next_event_waits_for_its_token() {
        let l = limiter(60, 5);
        for _ in 0..5 {
            assert_eq!(l.take("a", 1, 0), Ok(()));
        }
        // One event a second: the sixth waits one second.
        assert_eq!(l.take("a", 1, 0), Err(1));
        assert_eq!(l.take("a", 1, 999), Err(1));
        assert_eq!(l.take("a", 1, 1000), Ok(()));
    }

    #[test]
    fn requests_cost_their_event_count_and_say_how_long_to_wait() {
        let l = limiter(60, 10);
        assert_eq!(l.take("a", 8, 0), Ok(()));
        // Two tokens left, five needed: three seconds at one a second.
        assert_eq!(l.take("a", 5, 0), Err(3));
        // A refused request takes nothing.
        assert_eq!(l.take("a", 2, 0), Ok(()));
    }

    #[test]
    fn a_request_bigger_than_the_burst_passes_on_a_full_bucket() {
        let l = limiter(60, 10);
        assert_eq!(l.take("a", 500, 0), Ok(()));
        assert_eq!(l.take("a", 500, 0), Err(10));
        assert_eq!(l.take("a", 500, 10_000), Ok(()));
    }

    #[test]
    fn integrations_have_their_own_buckets() {
        let l = limiter(60, 1);
        assert_eq!(l.take("a", 1, 0), Ok(()));
        assert_eq!(l.take("a", 1, 0), Err(1));
        assert_eq!(l.take("b", 1, 0), Ok(()));
    }

    #[test]
    fn refill_stops_at_the_burst_and_ignores_a_clock_stepping_back() {
        let l = limiter(600, 2);
        // An hour idle still allows only the burst.
        assert_eq!(l.take("a", 2, 3_600_000), Ok(()));
        assert!(l.take("a", 1, 3_600_000).is_err());
        assert!(l.take("a", 1, 0).is_err());
        // Ten a second: 100 ms later, one more.
        assert_eq!(l.take("a", 1, 3_600_100), Ok(()));
    }

    #[test]
    fn zero_per_minute_turns_the_limit_off() {
        let l = limiter(0, 0);
        for _ in 0..10_000 {
            assert_eq!(l.take("a", 100, 0), Ok(()));
        }
    }
}
