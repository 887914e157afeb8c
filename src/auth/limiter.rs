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
            let oldest = times.iter().min().copied().unwrap_or(now);
            Some(u64::try_from((oldest + self.window_ms - now) / 1000 + 1).unwrap_or(1))
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
