//! Writing a desired catalog: validate it whole, diff it against the database, and write the
//! plan with one audit entry per change, all in one transaction. Config-as-code and the REST
//! API both write through here, so both get the same checks.

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
    let problems = validate(desired);
    if !problems.is_empty() {
        return Err(ApplyError::Invalid(problems));
    }
    let current = store::load(db).await?;
    let plan = diff(&current, desired);
    if dry_run || plan.is_empty() {
        return Ok(plan);
    }
    let mut tx = db.begin().await?;
    for change in &plan.changes {
        let action = match change.op {
            Op::Create => {
                store::upsert(&mut tx, desired, change.kind, &change.id).await?;
                "create"
            }
            Op::Update { .. } => {
                store::upsert(&mut tx, desired, change.kind, &change.id).await?;
                "update"
            }
            Op::Delete => {
                store::delete(&mut tx, change.kind, &change.id).await?;
                "delete"
            }
        };
        let detail = match &change.op {
            Op::Update { fields } => fields.join(", "),
            _ => String::new(),
        };
        let target = format!("{} {}", change.kind.noun(), change.id);
        audit::store::record(
            &mut tx,
            at,
            actor,
            &format!("catalog.{action}"),
            &target,
            &detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(plan)
}
