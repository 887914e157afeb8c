//! Writing a desired catalog: validate it whole, diff it against the database, and write the
//! plan with one audit entry per change, all in one transaction. Config-as-code and the REST
//! API both write through here, so both get the same checks.
//!
//! The desired catalog is computed from the current one *under the catalog lock* (see
//! [`apply_with`]): two writers that each edit a snapshot could otherwise both succeed, the
//! second silently undoing the first.

use crate::audit;
use crate::catalog::validate::{Problem, validate};
use crate::catalog::{Catalog, store};
use crate::clock::Millis;
use crate::db::{Db, StoreError};

use super::plan::{Op, Plan, diff};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the catalog is invalid: {}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes the database hold `desired`; with `dry_run`, only computes the plan.
pub async fn apply(
    db: &Db,
    at: Millis,
    actor: &str,
    desired: &Catalog,
    dry_run: bool,
) -> Result<Plan, ApplyError> {
    apply_with(
        db,
        at,
        actor,
        dry_run,
        |_| Ok(desired.clone()),
        |_, p| ApplyError::Invalid(p),
    )
    .await
}

/// Locks the catalog, lets `edit` turn the current catalog into the desired one, validates it
/// (problems go through `on_invalid`), and writes the difference. A dry run takes no lock and
/// writes nothing.
pub async fn apply_with<E: From<StoreError>>(
    db: &Db,
    at: Millis,
    actor: &str,
    dry_run: bool,
    edit: impl FnOnce(Catalog) -> Result<Catalog, E>,
    on_invalid: impl FnOnce(&Catalog, Vec<Problem>) -> E,
) -> Result<Plan, E> {
    let mut tx = db.begin().await?;
    if !dry_run {
        store::lock_catalog(&mut tx).await?;
    }
    // Read after taking the lock, on the same connection: no other writer can commit until we
    // do, so this is the latest state and stays so. (Reading through another pooled connection
    // could deadlock: the waiting writers may hold every connection of the pool.)
    let current = store::load_in(&mut tx).await?;
    let desired = edit(current.clone())?;
    let problems = validate(&desired);
    if !problems.is_empty() {
        return Err(on_invalid(&desired, problems));
    }
    let plan = diff(&current, &desired);
    if dry_run || plan.is_empty() {
        return Ok(plan);
    }
    let mut entries = Vec::with_capacity(plan.changes.len());
    for change in &plan.changes {
        let (action, detail) = match &change.op {
            Op::Create => ("create", String::new()),
            Op::Update { fields } => ("update", fields.join(", ")),
            Op::Delete => ("delete", String::new()),
        };
        match change.op {
            Op::Delete => store::delete(&mut tx, change.kind, &change.id).await?,
            Op::Create => store::upsert(&mut tx, &desired, change.kind, &change.id, true).await?,
            Op::Update { .. } => {
                store::upsert(&mut tx, &desired, change.kind, &change.id, false).await?
            }
        }
        let target = format!("{} {}", change.kind.noun(), change.id);
        entries.push((format!("catalog.{action}"), target, detail));
    }
    audit::store::record_many(&mut tx, at, actor, &entries).await?;
    tx.commit().await?;
    Ok(plan)
}
