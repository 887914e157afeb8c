//! Role commands: assign a role, hand it over with a note (the previous holder may stay on in
//! another role, as an IC who hands command to another SRE and stays as Ops Lead), and step
//! down. A stint is closed, never overwritten, so the history of who held what is kept.

use crate::db::Tx;
use crate::incidents::error::invalid;
use crate::incidents::messages;
use crate::incidents::store::timeline;
use crate::incidents::{EntryKind, Incident, IncidentError, Role};

use super::{Announcement, Ctx, md};

/// Gives `role` to `person`, with the handover `note` for them; the previous holder (if any)
/// steps down, or takes `previous_becomes` when given. Returns the incident.
pub async fn assign(
    ctx: &Ctx<'_>,
    id: i64,
    role: Role,
    person: &str,
    note: &str,
    previous_becomes: Option<Role>,
) -> Result<Incident, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    if !i.status.is_open() {
        return Err(IncidentError::Conflict(format!(
            "{} is {}: reopen it to change roles",
            i.reference(),
            i.status.as_str()
        )));
    }
    crate::incidents::store::save(&mut tx, &i).await?;
    let previous = assign_in(ctx, &mut tx, &i, role, person, note).await?;
    if let (Some(prev), Some(next)) = (previous, previous_becomes) {
        if next == role {
            return Err(invalid(
                "the previous holder cannot stay on in the same role",
            ));
        }
        assign_in(ctx, &mut tx, &i, next, &prev, "").await?;
    }
    tx.commit().await?;
    Ok(i)
}

/// The body of [`assign`] inside a caller's transaction (declaring uses it too): the
/// previous holder's id, if there was one.
pub async fn assign_in(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    i: &Incident,
    role: Role,
    person: &str,
    note: &str,
) -> Result<Option<String>, IncidentError> {
    if ctx.snap.person(person).is_none() {
        return Err(invalid(format!("unknown person {person:?}")));
    }
    let previous = timeline::end_stint(tx, i.id, role, ctx.now).await?;
    if previous.as_ref().is_some_and(|p| p.person_id == person) {
        return Err(IncidentError::Conflict(format!(
            "{} is already {}",
            ctx.person_name(person),
            role.title()
        )));
    }
    let note = note.trim();
    timeline::start_stint(tx, i.id, role, person, ctx.now, &ctx.actor.name, note).await?;
    let name = ctx.person_name(person);
    let (kind, body, headline) = match &previous {
        Some(p) => {
            let from = ctx.person_name(&p.person_id);
            let mut body = format!(
                "{} handed **{}** to {}.",
                md(&from),
                role.title(),
                md(&name)
            );
            if !note.is_empty() {
                body.push_str(&format!("\n\nHandover note: {note}"));
            }
            let headline = format!("{} handed {} to {name}", from, role.title());
            (EntryKind::Handover, body, headline)
        }
        None => (
            EntryKind::Role,
            format!("{} is **{}**.", md(&name), role.title()),
            format!("{name} is now {}", role.title()),
        ),
    };
    let entry = ctx
        .entry(tx, i.id, kind, &body, role == Role::Commander)
        .await?;
    // The channel hears it, and so does the new holder, wherever they are.
    let mut to: Vec<_> = messages::channel_of(i).into_iter().collect();
    to.extend(messages::person_destinations(tx, &ctx.snap.catalog, person).await?);
    let mut details = Vec::new();
    if !note.is_empty() {
        details.push(("Handover note".to_string(), note.to_string()));
    }
    let a = Announcement {
        incident: i,
        event: "role",
        severity_name: ctx.severity_name(&i.severity),
        headline,
        details,
        url: ctx.url(i.id),
        key: entry.id.to_string(),
    };
    messages::queue(tx, &a, &to, ctx.now).await?;
    Ok(previous.map(|p| p.person_id))
}

/// Ends the current holder's stint without a successor.
pub async fn step_down(ctx: &Ctx<'_>, id: i64, role: Role) -> Result<Incident, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    crate::incidents::store::save(&mut tx, &i).await?;
    let Some(prev) = timeline::end_stint(&mut tx, id, role, ctx.now).await? else {
        return Err(IncidentError::Conflict(format!(
            "nobody is {} of {}",
            role.title(),
            i.reference()
        )));
    };
    let body = format!(
        "{} stepped down as **{}**; the role is open.",
        md(&ctx.person_name(&prev.person_id)),
        role.title()
    );
    ctx.entry(&mut tx, id, EntryKind::Role, &body, false)
        .await?;
    tx.commit().await?;
    Ok(i)
}
