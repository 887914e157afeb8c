//! Login rate limiting: a few failures per key (username and client address) in a window, then
//! refusals until the window passes. In memory: each instance limits on its own.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::Millis;

pub struct LoginLimiter {
    max_failures: usize,
    window_ms: Millis,
    failures: Mutex<HashMap<String, Vec<Millis>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window_ms: Millis) -> Self {
        Self {
            max_failures,
            window_ms,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until `key` may try again, or None when it may try now.
    pub fn retry_after(&self, key: &str, now: Millis) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = map.entry(key.to_string()).or_default();
        times.retain(|t| now - t < self.window_ms);
        if times.len() >= self.max_failures {
            // The key is let in again once fewer than `max_failures` remain in the window.
            // Concurrent attempts can record more than that, so it is not always the oldest
            // failure whose expiry counts.
            times.sort_unstable();
            let freeing = times
                .len()
                .checked_sub(self.max_failures.max(1))
                .and_then(|i| times.get(i))
                .copied()
                .unwrap_or(now);
            // Rounded up, so retrying after exactly this many seconds is allowed (and not
            // a second later than needed: a whole number of seconds is not rounded up again).
            let wait_ms = freeing + self.window_ms - now;
            Some(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1))
        } else {
            None
        }
    }

    pub fn fail(&self, key: &str, now: Millis) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bound memory under a spray of usernames: forget the oldest keys past a limit.
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|t| now - t < self.window_ms));
        }
        map.entry(key.to_string()).or_default().push(now);
    }

    pub fn succeed(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    //! The limiter on explicit instants: when it starts refusing, for how long, and what resets it.

    use super::*;

    const WINDOW: Millis = 60_000;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(5, WINDOW)
    }

    #[test]
    fn five_failures_lock_the_key() {
        let l = limiter();
        for i in 0..4 {
            l.fail("ann", 1_000 + i);
            assert_eq!(
                l.retry_after("ann", 1_000 + i),
                None,
                "after {} failures",
                i + 1
            );
        }
        l.fail("ann", 1_004);
        // The oldest failure (t=1000) leaves the window at t=61000: 55.5 s from now → 56.
        assert_eq!(l.retry_after("ann", 5_500), Some(56));
        // Other keys are independent.
        assert_eq!(l.retry_after("bob", 5_500), None);
    }

    #[test]
    fn retry_after_is_exact_at_whole_seconds() {
        let l = limiter();
        for _ in 0..5 {
            l.fail("ann", 0);
        }
        // Refused for the whole window and not a second longer than advertised.
        assert_eq!(l.retry_after("ann", 0), Some(60));
        assert_eq!(l.retry_after("ann", 59_000), Some(1));
        assert_eq!(l.retry_after("ann", 59_999), Some(1));
        assert_eq!(l.retry_after("ann", 60_000), None);
    }

    #[test]
    fn failures_expire_with_the_window() {
        let l = limiter();
        for i in 0..5 {
            l.fail("ann", i * 10_000);
        }
        assert!(l.retry_after("ann", 45_000).is_some());
        // At 60 s the first failure has left the window: four remain, so one more try.
        assert_eq!(l.retry_after("ann", 60_000), None);
        l.fail("ann", 60_000);
        // Five again (10 s … 60 s); the oldest, at 10 s, leaves at 70 s.
        assert_eq!(l.retry_after("ann", 60_000), Some(10));
    }

    #[test]
    fn failures_beyond_the_limit_extend_the_wait() {
        // Seven attempts raced past the check before the fifth failure was recorded. The key
        // stays locked until only four remain: when the third oldest (t=2s) expires.
        let l = limiter();
        for i in 0..7 {
            l.fail("ann", i * 1_000);
        }
        assert_eq!(l.retry_after("ann", 10_000), Some(52));
        assert!(l.retry_after("ann", 61_999).is_some());
        assert_eq!(l.retry_after("ann", 62_000), None);
    }

    #[test]
    fn success_clears_the_key() {
        let l = limiter();
        for _ in 0..5 {
            l.fail("ann", 0);
        }
        assert!(l.retry_after("ann", 1).is_some());
        l.succeed("ann");
        assert_eq!(l.retry_after("ann", 1), None);
        // And counting starts over: four more failures are still allowed.
        for _ in 0..4 {
            l.fail("ann", 2);
        }
        assert_eq!(l.retry_after("ann", 2), None);
    }

    #[test]
    fn memory_stays_bounded_under_a_spray_of_keys() {
        let l = limiter();
        for i in 0..10_001 {
            l.fail(&format!("user-{i}"), 0);
        }
        // Once the window has passed, the next failure sweeps every stale key.
        l.fail("late", WINDOW);
        let map = l.failures.lock().unwrap();
        assert_eq!(map.len(), 1, "only the fresh key remains");
    }
}
