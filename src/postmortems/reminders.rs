//! Due-date reminders, run by the engine with the incident deadlines: a day before the
//! postmortem is due, on the day, then daily while it is overdue (`workflow::next_reminder`).
//! A draft reminds its owner; one in review reminds the reviewers who have not approved yet.
//! Each reminder is a `postmortem` entry on the incident's timeline and messages through the
//! people's contact methods, queued in the same transaction that moves `remind_at` on, so a
//! crash between the two can neither lose nor repeat it.

use crate::incidents::command::{self as ic, Ctx};
use crate::oncall::current::local_time;

use super::{PmStatus, PostmortemError, store, workflow};

/// Reminds about postmortem `id` if its reminder is (still) due: true when it did.
pub async fn remind(ctx: &Ctx<'_>, id: i64) -> Result<bool, PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let mut p = store::lock(&mut tx, id).await?;
    let (Some(due), Some(at)) = (p.due_at, p.remind_at) else {
        return Ok(false);
    };
    if p.status == PmStatus::Published || at > ctx.now {
        return Ok(false);
    }
    let people: Vec<String> = if p.status == PmStatus::InReview {
        store::reviewers(&mut tx, id)
            .await?
            .into_iter()
            .filter(|r| r.approved_at.is_none())
            .map(|r| r.person_id)
            .collect()
    } else {
        vec![p.owner.clone()]
            .into_iter()
            .filter(|o| !o.is_empty())
            .collect()
    };
    let when = local_time(due, "UTC");
    let what = if p.status == PmStatus::InReview {
        "waits for review"
    } else {
        "is not submitted yet"
    };
    let body = if workflow::overdue(Some(due), ctx.now) {
        format!("Reminder: the postmortem was due {when} and {what}.")
    } else {
        format!("Reminder: the postmortem is due {when} and {what}.")
    };
    let key = ic::postmortem_entry(ctx, &mut tx, id, &body).await?;
    let headline = format!("INC-{id}: {body}");
    ic::tell_people(
        ctx,
        &mut tx,
        id,
        &people,
        "postmortem.reminder",
        headline,
        key,
    )
    .await?;
    p.remind_at = Some(workflow::next_reminder(due, ctx.now));
    store::save(&mut tx, &p).await?;
    tx.commit().await?;
    Ok(true)
}
