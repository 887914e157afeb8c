//! A read-only catalog snapshot with its dependency graph, cached per process. Every page and
//! API read works on the snapshot: one cheap version query per request instead of loading
//! thousands of rows, and impact questions answered in memory. The version is the catalog lock
//! row, which every committed catalog write bumps (from any process), so a snapshot is never
//! stale past the request that checks it.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use crate::db::{Db, StoreError};

use super::impact::{self, Graph, Impact, ServiceRef};
use super::{Catalog, store};

/// The catalog at one version, with its graph.
#[derive(Debug)]
pub struct Snapshot {
    pub catalog: Catalog,
    graph: Graph,
}

impl Snapshot {
    pub fn new(catalog: Catalog) -> Self {
        let graph = Graph::new(&catalog);
        Self { catalog, graph }
    }

    /// What fails when `service` fails; None for an unknown service.
    pub fn impact(&self, service: &str) -> Option<Impact> {
        impact::impact_of(&self.catalog, &self.graph, service)
    }

    /// What business function `function` relies on; None for an unknown function.
    pub fn relied_on_by(&self, function: &str) -> Option<Vec<ServiceRef>> {
        impact::relied_on_by(&self.catalog, &self.graph, function)
    }
}

impl Deref for Snapshot {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        &self.catalog
    }
}

/// The latest snapshot this process has seen, by version.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    current: Mutex<Option<(i64, Arc<Snapshot>)>>,
}

impl SnapshotCache {
    /// The current snapshot: the cached one when the version still matches, else a fresh load.
    pub async fn get(&self, db: &Db) -> Result<Arc<Snapshot>, StoreError> {
        let version = store::version(db).await?;
        if let Some((_, snap)) = self.lock().as_ref().filter(|(v, _)| *v == version) {
            return Ok(snap.clone());
        }
        // Load without holding the lock; concurrent misses may load twice, which is harmless.
        // A read transaction, never the writer: ingest batches ask for the snapshot while
        // they already hold the writer (`alerts::batch`).
        let mut tx = db.begin_read().await?;
        let version = store::version_in(&mut tx).await?;
        let snap = Arc::new(Snapshot::new(store::load_in(&mut tx).await?));
        tx.commit().await?;
        let mut current = self.lock();
        if current.as_ref().is_none_or(|(v, _)| *v < version) {
            *current = Some((version, snap.clone()));
        }
        Ok(snap)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(i64, Arc<Snapshot>)>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
