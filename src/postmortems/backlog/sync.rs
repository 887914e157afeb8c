//! The backlog sync the engine runs and the API calls: export action items that have no
//! backlog item yet, refresh the state of those that have, with a lease per item and backoff
//! after failures (SQL in `store.rs`).

use crate::catalog::Catalog;
use crate::db::{Db, StoreError};
use crate::postmortems::store::actions;
use crate::postmortems::{ActionItem, PostmortemError};

use super::{BATCH, Backlog, Created, Export, LEASE_MS, Target, github, jira, store, webhook};

/// The wait after `attempts` failures in a row: 1 minute doubling, at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 6) as u32;
    (60_000_i64 << doublings).min(3_600_000)
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub created: usize,
    pub refreshed: usize,
    pub failed: usize,
}

/// The engine's pass: exports and refreshes the items due at `now`, each under a lease.
pub async fn pass(db: &Db, b: &Backlog, now: i64, owner: &str) -> Result<Report, StoreError> {
    let ids = store::due(db, b.kind(), b.refreshes(), now, b.delay_ms, BATCH).await?;
    let mut report = Report::default();
    if ids.is_empty() {
        return Ok(report);
    }
    let catalog = crate::catalog::store::load(db).await?;
    for id in ids {
        if !store::claim(db, id, owner, now, now.saturating_add(LEASE_MS)).await? {
            continue;
        }
        match sync(db, b, &catalog, id, now, owner).await {
            Ok(Synced::Created) => report.created += 1,
            Ok(Synced::Refreshed) => report.refreshed += 1,
            Ok(Synced::Failed) => report.failed += 1,
            Err(e) => {
                tracing::warn!(action = id, error = %e, "backlog sync failed");
                store::release(db, id, owner).await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Exports action item `aid` of postmortem `id` now, or refreshes its state when it has a
/// backlog item already; the item as it is afterwards (a failure is in `backlog_error`).
pub async fn sync_now(
    db: &Db,
    b: &Backlog,
    id: i64,
    aid: i64,
    now: i64,
) -> Result<ActionItem, PostmortemError> {
    let a = read(db, aid).await?;
    if a.incident_id != id {
        return Err(PostmortemError::NotFound);
    }
    if a.status != "open" {
        return Err(crate::postmortems::error::conflict(
            "the action item is done; only open items go to the backlog",
        ));
    }
    if let Some(kind) = a
        .backlog_kind
        .as_deref()
        .filter(|_| a.backlog_key.is_some())
    {
        if kind != b.kind() {
            return Err(crate::postmortems::error::conflict(format!(
                "the item is in a {kind} backlog, but the configured backlog is {}",
                b.kind()
            )));
        }
        if !b.refreshes() {
            return Err(crate::postmortems::error::conflict(
                "a webhook backlog item is not read back: its receiver updates the action item",
            ));
        }
    }
    let owner = crate::engine::owner_id();
    if !store::claim(db, aid, &owner, now, now.saturating_add(LEASE_MS)).await? {
        return Err(crate::postmortems::error::conflict(
            "the item is being sent to the backlog right now; try again in a moment",
        ));
    }
    let catalog = crate::catalog::store::load(db).await?;
    if let Err(e) = sync(db, b, &catalog, aid, now, &owner).await {
        store::release(db, aid, &owner).await?;
        return Err(e.into());
    }
    Ok(read(db, aid).await?)
}

async fn read(db: &Db, aid: i64) -> Result<ActionItem, StoreError> {
    let mut tx = db.begin().await?;
    let a = actions::get(&mut tx, aid).await?;
    tx.commit().await?;
    Ok(a)
}

enum Synced {
    Created,
    Refreshed,
    Failed,
}

/// One claimed item: create its backlog item or read its state, then record the outcome and
/// release the lease.
async fn sync(
    db: &Db,
    b: &Backlog,
    catalog: &Catalog,
    aid: i64,
    now: i64,
    owner: &str,
) -> Result<Synced, StoreError> {
    let mut tx = db.begin().await?;
    let a = actions::get(&mut tx, aid).await?;
    let incident = crate::incidents::store::get(&mut tx, a.incident_id).await?;
    tx.commit().await?;
    let creating = a.backlog_key.is_none();
    let result = if creating {
        let ex = Export {
            item: &a,
            incident_title: incident.title.clone(),
            severity: incident.severity.clone(),
            owner_name: catalog
                .person(&a.owner)
                .map_or_else(|| a.owner.clone(), |p| p.name.clone()),
            postmortem_url: format!("{}/postmortems/{}", b.base_url, a.incident_id),
            incident_url: format!("{}/incidents/{}", b.base_url, a.incident_id),
        };
        match &b.target {
            Target::GitHub(c) => github::create(&b.client, c, &ex).await,
            Target::Jira(c) => jira::create(&b.client, c, &ex).await,
            Target::Webhook(c) => webhook::create(&b.client, c, &ex, now).await,
        }
    } else {
        let key = a.backlog_key.as_deref().unwrap_or_default();
        let state = match &b.target {
            Target::GitHub(c) => github::state(&b.client, c, key).await,
            Target::Jira(c) => jira::state(&b.client, c, key).await,
            Target::Webhook(_) => Ok(a.backlog_state.clone().unwrap_or_else(|| "open".into())),
        };
        state.map(|state| Created {
            key: key.to_string(),
            url: None,
            state,
        })
    };
    let (outcome, synced) = match result {
        Ok(c) => (
            store::Outcome {
                kind: Some(b.kind().to_string()),
                key: Some(c.key),
                url: c.url,
                state: Some(c.state),
                error: None,
                next_at: now.saturating_add(b.refresh_ms),
                attempts: 0,
            },
            if creating {
                Synced::Created
            } else {
                Synced::Refreshed
            },
        ),
        Err(e) => {
            let attempts = store::attempts(db, aid).await?.saturating_add(1);
            let what = if creating { "creating" } else { "refreshing" };
            tracing::warn!(action = aid, error = %e, "backlog: {what} failed");
            let next_at = now.saturating_add(backoff_ms(attempts));
            let outcome = store::Outcome {
                error: Some(format!("{what} the {} item failed: {e}", b.kind())),
                next_at,
                attempts,
                ..store::Outcome::default()
            };
            (outcome, Synced::Failed)
        }
    };
    if !store::finish(db, aid, owner, &outcome, now).await? {
        tracing::warn!(
            action = aid,
            "backlog: lease lost before the outcome was recorded"
        );
    }
    Ok(synced)
}
