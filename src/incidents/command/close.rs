//! What the postmortem workflow does to its incident, inside the postmortem's transaction:
//! note each step on the incident's timeline, tell named people (reviewers asked to review,
//! the owner reminded), and close the incident when the postmortem is published. Closing is
//! the only way to `closed` (`Status::may_become` refuses it to people).

use crate::db::Tx;
use crate::incidents::messages;
use crate::incidents::store::{self, timeline};

use super::{Ctx, EntryKind, Incident, IncidentError, Say, Status};

/// Appends a `postmortem` entry (drafted, submitted, approved…) to the incident's timeline,
/// whatever its status: the postmortem's history belongs with the incident's.
pub async fn postmortem_entry(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    id: i64,
    body: &str,
) -> Result<i64, IncidentError> {
    let e = timeline::NewEntry {
        at: ctx.now,
        actor: &ctx.actor.name,
        body,
        ..timeline::NewEntry::default()
    };
    Ok(timeline::append(tx, id, EntryKind::Postmortem, &e)
        .await?
        .id)
}

/// Messages `people` (catalog ids) about the incident's postmortem through their contact
/// methods. `key` makes the messages' idempotency keys (one per reminder or request).
pub async fn tell_people(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    id: i64,
    people: &[String],
    event: &str,
    headline: String,
    key: i64,
) -> Result<(), IncidentError> {
    let i = store::get(tx, id).await?;
    let mut to = Vec::new();
    for p in people {
        to.extend(messages::person_destinations(tx, &ctx.snap.catalog, p).await?);
    }
    let a = messages::Announcement {
        incident: &i,
        event,
        severity_name: ctx.severity_name(&i.severity),
        headline,
        details: vec![],
        url: format!("{}/postmortems/{id}", ctx.base_url.trim_end_matches('/')),
        key: key.to_string(),
    };
    messages::queue(tx, &a, &to, ctx.now).await?;
    Ok(())
}

/// Closes a resolved incident because its postmortem was published, and tells the channel
/// and subscribers where to read it.
pub async fn close_for_postmortem(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    id: i64,
) -> Result<Incident, IncidentError> {
    let mut i = store::lock(tx, id).await?;
    if i.status != Status::Resolved {
        return Err(IncidentError::Conflict(format!(
            "{} is {}; resolve it before publishing its postmortem",
            i.reference(),
            i.status.as_str()
        )));
    }
    i.status = Status::Closed;
    i.closed_at = Some(ctx.now);
    i.updated_at = ctx.now;
    store::save(tx, &i).await?;
    let url = format!("{}/postmortems/{id}", ctx.base_url.trim_end_matches('/'));
    let body = format!("Status: resolved → **closed**: the postmortem is published ({url}).");
    let entry = ctx.entry(tx, id, EntryKind::Status, &body, true).await?;
    let say = Say {
        event: "closed",
        headline: format!("Closed: the postmortem is published ({})", ctx.actor.name),
        details: vec![("Postmortem".into(), url)],
        key: entry.id,
        subscribers: true,
    };
    ctx.announce(tx, &i, say).await?;
    Ok(i)
}
