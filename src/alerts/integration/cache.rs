//! Authenticated integration keys, remembered per process so that ingestion does not query
//! the database by key hash on every request (one query per request outside the writer was
//! the largest cost left once batches were set-based; see `alerts::bulk`).
//!
//! Only keys that authenticated are kept (an unknown key always asks the database, so a key
//! created a moment ago works at once), for at most [`TTL_MS`]. Rotating or deleting through
//! this process ([`KeyCache::forget`], called by the API) takes effect at once. Another
//! instance, or the CLI, cannot reach this memory: there an old key keeps working for up to
//! [`TTL_MS`] after it was rotated or deleted. That is the price of not asking the database:
//! a few seconds is shorter than it takes anyone to act on a rotation, and the key authorises
//! only sending alerts to one service.
//!
//! A lookup that was in flight while a key was forgotten may have read the old row; a
//! generation counter keeps it from putting that row back.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::auth::hash_secret;
use crate::db::{Db, StoreError};

use super::{Integration, lookup};

/// How long an authenticated key is trusted without asking the database again.
pub const TTL_MS: i64 = 5_000;

/// Entries at most; past it the cache starts over (keys are few; this bounds a flood of
/// rotations).
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Key hash → the integration and when the entry stops being trusted.
    entries: HashMap<String, (Integration, i64)>,
    /// Bumped by every `forget`.
    generation: u64,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Like `integration::authenticate`, answered from memory when the key authenticated in
    /// the last [`TTL_MS`] before `now`.
    pub async fn authenticate(
        &self,
        db: &Db,
        key: &str,
        now: i64,
    ) -> Result<Option<Integration>, StoreError> {
        if key.is_empty() {
            return Ok(None);
        }
        let hash = hash_secret(key);
        let generation = {
            let inner = self.lock();
            if let Some((found, until)) = inner.entries.get(&hash)
                && now < *until
            {
                return Ok(Some(found.clone()));
            }
            inner.generation
        };
        let found = lookup(db, &hash).await?;
        if let Some(integration) = &found {
            let mut inner = self.lock();
            if inner.generation == generation {
                if inner.entries.len() >= CAPACITY {
                    inner.entries.clear();
                }
                let until = now.saturating_add(TTL_MS);
                inner.entries.insert(hash, (integration.clone(), until));
            }
        }
        Ok(found)
    }

    /// Forgets every key of integration `id`: after it was rotated or deleted here.
    pub fn forget(&self, id: &str) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.retain(|_, (found, _)| found.id != id);
    }
}
