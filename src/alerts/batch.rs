//! Group commit for ingestion. Handlers parse and authenticate, then hand their events to a
//! writer task through a bounded channel and wait for its answer. The writer takes whatever
//! is queued (up to [`MAX_BATCH_EVENTS`]), applies it in one transaction, commits, and only
//! then answers each request with its outcomes. One fsync then covers hundreds of alerts
//! instead of one, which is what lets durable ingestion outrun an in-memory receiver
//! (`BENCHMARKS.md`).
//!
//! What a transaction does with its events is `alerts::bulk`: a few set-based statements per
//! batch, so that the batch's cost is not ten round trips per alert.
//!
//! Why no linger timer: the writer never waits for a batch to fill. While it commits, new
//! requests queue up; the next batch is whatever arrived meanwhile. At low load a request is
//! written at once (no added latency); under load batches grow by themselves.
//!
//! Failure isolation: when a batch's transaction fails, nothing of it is committed, and every
//! request of the batch is retried alone in its own transaction, so one bad request (or a
//! deadlock between two PostgreSQL writers) fails only itself. A request is answered `Ok` only
//! after the commit that contains it succeeded; a request whose caller has gone away is
//! skipped before the transaction starts (it can no longer be told 2xx; its sender retries).
//!
//! Backpressure: the channel holds [`QUEUE_JOBS`] requests. When it is full a handler waits up
//! to [`QUEUE_WAIT`] for room, then answers 503 with `Retry-After`: never a silent drop.
//!
//! Shutdown: the writers end when every sender is gone (the server has stopped and its
//! connections have drained) and the queue is empty; [`Ingest::take_finished`] lets
//! `tocsin serve` wait for that before closing the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::catalog::snapshot::SnapshotCache;
use crate::clock::SharedClock;
use crate::db::{Backend, Db, StoreError};

use super::AlertEvent;
use super::bulk;
use super::ingest::ingest_one;
use super::integration::{Integration, KeyCache};
use super::limit::{Limiter, RateLimit};
use super::store::Outcome;

/// Events per transaction, at most (a single larger request still goes in whole).
pub const MAX_BATCH_EVENTS: usize = 256;
/// Requests the queue holds before handlers start waiting.
pub const QUEUE_JOBS: usize = 4096;
/// How long a handler waits for room in a full queue before answering 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Writer tasks per backend. SQLite has one write lock: a second writer would only queue on
/// the busy timeout. On PostgreSQL, transactions commit in parallel and the server groups
/// their WAL flushes, so two writers overlap one batch's commit with the next batch's work;
/// more than two lost throughput on this two-core machine (measured, `BENCHMARKS.md`).
fn default_writers(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    }
}

/// Why a request was not stored.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The queue stayed full (or the writer is gone): try again shortly.
    #[error("ingestion is saturated; try again shortly")]
    Busy,
    /// The request's own transaction failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One request's events and where to send their outcomes.
struct Job {
    integration: Integration,
    events: Vec<AlertEvent>,
    reply: oneshot::Sender<Result<Vec<Outcome>, StoreError>>,
}

/// The ingestion front: the rate limiter and the queue to the writers. Held by `AppState`.
#[derive(Debug)]
pub struct Ingest {
    queue: mpsc::Sender<Job>,
    limiter: Limiter,
    keys: KeyCache,
    finished: Mutex<Option<JoinHandle<()>>>,
    counts: Arc<Counts>,
    created: Arc<tokio::sync::Notify>,
}

/// What the writers did since start (tests and benchmarks read it; `/metrics` has the same).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Transactions of batches (a retried batch's one-by-one transactions not included).
    pub batches: u64,
    /// Requests answered from those batches or their retries.
    pub requests: u64,
    /// Batches whose transaction failed and whose requests were retried one by one.
    pub retried: u64,
}

#[derive(Debug, Default)]
struct Counts {
    batches: AtomicU64,
    requests: AtomicU64,
    retried: AtomicU64,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Job({}, {} events)",
            self.integration.id,
            self.events.len()
        )
    }
}

impl Ingest {
    /// Starts `writers` writer tasks for `db` (0: the backend's default) on the current
    /// tokio runtime.
    pub fn start(
        db: Db,
        snapshots: Arc<SnapshotCache>,
        clock: SharedClock,
        limit: RateLimit,
        writers: usize,
        created: Arc<tokio::sync::Notify>,
    ) -> Self {
        let writers = match writers {
            0 => default_writers(db.backend()),
            n => n,
        };
        let (queue, rx) = mpsc::channel(QUEUE_JOBS);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let counts = Arc::new(Counts::default());
        let tasks: Vec<_> = (0..writers)
            .map(|_| {
                let writer = Writer {
                    db: db.clone(),
                    snapshots: snapshots.clone(),
                    clock: clock.clone(),
                    counts: counts.clone(),
                    created: created.clone(),
                };
                tokio::spawn(writer.run(rx.clone()))
            })
            .collect();
        let finished = tokio::spawn(async move {
            for task in tasks {
                let _ = task.await;
            }
        });
        Self {
            queue,
            limiter: Limiter::new(limit),
            keys: KeyCache::default(),
            finished: Mutex::new(Some(finished)),
            counts,
            created,
        }
    }

    /// Notified after each commit that created an alert (`AppState::wake`), so the engine
    /// steps at once instead of on its next one-second tick.
    pub fn created(&self) -> Arc<tokio::sync::Notify> {
        self.created.clone()
    }

    pub fn stats(&self) -> BatchStats {
        BatchStats {
            batches: self.counts.batches.load(Ordering::Relaxed),
            requests: self.counts.requests.load(Ordering::Relaxed),
            retried: self.counts.retried.load(Ordering::Relaxed),
        }
    }

    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The integration keys that authenticated lately (`integration::KeyCache`).
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Queues `events` and waits until they are committed: their outcomes, in order.
    pub async fn submit(
        &self,
        integration: Integration,
        events: Vec<AlertEvent>,
    ) -> Result<Vec<Outcome>, Refused> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            integration,
            events,
            reply,
        };
        self.queue
            .send_timeout(job, QUEUE_WAIT)
            .await
            .map_err(|_| Refused::Busy)?;
        // A writer that vanished without answering (a panic) may or may not have committed:
        // not a 2xx either way, so the sender retries and dedup absorbs a repeat.
        Ok(answer.await.map_err(|_| Refused::Busy)??)
    }

    /// The handle that completes when the writers have drained the queue and stopped (once
    /// every `Ingest` handle is dropped). None after the first call.
    pub fn take_finished(&self) -> Option<JoinHandle<()>> {
        self.finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// One writer task's database and clock.
struct Writer {
    db: Db,
    snapshots: Arc<SnapshotCache>,
    clock: SharedClock,
    counts: Arc<Counts>,
    created: Arc<tokio::sync::Notify>,
}

impl Writer {
    async fn run(self, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        loop {
            // Gathering under the lock, writing outside it: another writer can gather the
            // next batch while this one commits.
            let jobs = {
                let mut rx = rx.lock().await;
                let Some(first) = rx.recv().await else {
                    break;
                };
                let mut events = first.events.len();
                let mut jobs = vec![first];
                while events < MAX_BATCH_EVENTS {
                    let Ok(job) = rx.try_recv() else { break };
                    events += job.events.len();
                    jobs.push(job);
                }
                jobs
            };
            self.write(jobs).await;
        }
    }

    /// Commits `jobs` together, or each alone when together fails; answers each.
    async fn write(&self, mut jobs: Vec<Job>) {
        jobs.retain(|j| !j.reply.is_closed());
        if jobs.is_empty() {
            return;
        }
        let events: usize = jobs.iter().map(|j| j.events.len()).sum();
        metrics::histogram!("tocsin_ingest_batch_events").record(events as f64);
        let now = self.clock.now_ms();
        self.counts.batches.fetch_add(1, Ordering::Relaxed);
        self.counts
            .requests
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        match self.apply(&jobs, now).await {
            Ok(outcomes) => {
                metrics::counter!("tocsin_alert_events_total").increment(events as u64);
                if outcomes.iter().flatten().any(Outcome::pages) {
                    self.created.notify_one();
                }
                for (job, out) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(out));
                }
            }
            Err(e) if jobs.len() == 1 => {
                let _ = jobs.remove(0).reply.send(Err(e));
            }
            Err(e) => {
                tracing::warn!(error = %e, requests = jobs.len(), "ingest batch failed; retrying its requests one by one");
                metrics::counter!("tocsin_ingest_batch_retries_total").increment(1);
                self.counts.retried.fetch_add(1, Ordering::Relaxed);
                for job in jobs {
                    let result = self.apply(std::slice::from_ref(&job), now).await;
                    if let Ok(outcomes) = &result {
                        metrics::counter!("tocsin_alert_events_total")
                            .increment(job.events.len() as u64);
                        if outcomes.iter().flatten().any(Outcome::pages) {
                            self.created.notify_one();
                        }
                    }
                    let _ = job.reply.send(result.map(|mut o| o.remove(0)));
                }
            }
        }
    }

    /// One transaction over every event of `jobs`: per job, its outcomes in order.
    async fn apply(&self, jobs: &[Job], now: i64) -> Result<Vec<Vec<Outcome>>, StoreError> {
        // The catalog check reads on another connection than the write: overlapping the two
        // saves a hand-off per batch.
        let (snapshot, mut tx) = tokio::try_join!(self.snapshots.get(&self.db), self.db.begin())?;
        let events: Vec<(&Integration, &AlertEvent)> = jobs
            .iter()
            .flat_map(|j| j.events.iter().map(move |e| (&j.integration, e)))
            .collect();
        let flat = match bulk::apply(&mut tx, &snapshot, &events, now).await? {
            Some(outcomes) => outcomes,
            None => {
                // Another writer opened one of the batch's new keys first (PostgreSQL):
                // start over one event at a time, where a lost race retries as a repeat.
                drop(tx);
                metrics::counter!("tocsin_ingest_batch_races_total").increment(1);
                tx = self.db.begin().await?;
                let mut outcomes = Vec::with_capacity(events.len());
                for (integration, event) in &events {
                    outcomes.push(ingest_one(&mut tx, &snapshot, integration, event, now).await?);
                }
                outcomes
            }
        };
        tx.commit().await?;
        let mut flat = flat.into_iter();
        Ok(jobs
            .iter()
            .map(|j| flat.by_ref().take(j.events.len()).collect())
            .collect())
    }
}
