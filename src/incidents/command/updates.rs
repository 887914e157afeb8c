//! What people write into an incident: timeline entries (notes, findings, decisions, links,
//! chat messages), stars on key events, the current understanding, and the structured
//! stakeholder updates that reset the cadence.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::incidents::error::invalid;
use crate::incidents::store::timeline::{self, NewEntry};
use crate::incidents::{Entry, EntryKind, Incident, IncidentError, Status, Update, store};

use super::{Ctx, Say};

/// The longest text a person may write in one entry, update field or summary.
pub const TEXT_MAX: usize = 20_000;

/// A timeline entry to write.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// note, finding, decision, question, link or chat.
    #[serde(default = "note_kind")]
    pub kind: EntryKind,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// A dashboard or metrics link.
    #[serde(default)]
    pub link_url: Option<String>,
    /// An image of a graph, shown with the entry.
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub starred: bool,
}

fn note_kind() -> EntryKind {
    EntryKind::Note
}

fn check_url(field: &str, url: Option<&str>) -> Result<Option<String>, IncidentError> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2000 => {
            Ok(Some(u.to_string()))
        }
        Some(_) => Err(invalid(format!("{field} must be an http(s) URL"))),
    }
}

fn check_text(field: &str, s: &str) -> Result<(), IncidentError> {
    if s.chars().count() > TEXT_MAX {
        return Err(invalid(format!(
            "{field} is longer than {TEXT_MAX} characters"
        )));
    }
    Ok(())
}

/// Appends a person's entry to the timeline.
pub async fn add_entry(ctx: &Ctx<'_>, id: i64, n: &NewNote) -> Result<Entry, IncidentError> {
    if !n.kind.is_written() {
        return Err(invalid(format!(
            "entries of kind {} are written by Tocsin; write a note, finding, decision, question, link or chat",
            n.kind.as_str()
        )));
    }
    let body = n.body.trim();
    check_text("body", body)?;
    let link = check_url("link_url", n.link_url.as_deref())?;
    let image = check_url("image_url", n.image_url.as_deref())?;
    if body.is_empty() && link.is_none() {
        return Err(invalid("write a body or give a link"));
    }
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    store::save(&mut tx, &i).await?;
    let e = NewEntry {
        at: ctx.now,
        actor: &ctx.actor.name,
        body,
        link_url: link.as_deref(),
        image_url: image.as_deref(),
        starred: n.starred,
    };
    let entry = timeline::append(&mut tx, id, n.kind, &e).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Stars or unstars a timeline entry (a key event for the document and the postmortem).
pub async fn star(
    ctx: &Ctx<'_>,
    id: i64,
    entry: i64,
    starred: bool,
) -> Result<Entry, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    store::get(&mut tx, id).await?;
    let e = timeline::set_starred(&mut tx, id, entry, starred).await?;
    tx.commit().await?;
    Ok(e)
}

/// Replaces the current understanding (the document's summary).
pub async fn set_summary(ctx: &Ctx<'_>, id: i64, summary: &str) -> Result<Incident, IncidentError> {
    let summary = summary.trim();
    check_text("summary", summary)?;
    let mut tx = ctx.db.begin().await?;
    let mut i = ctx.open(&mut tx, id).await?;
    i.summary = summary.to_string();
    store::save(&mut tx, &i).await?;
    let body = format!("Current understanding updated:\n\n{summary}");
    ctx.entry(&mut tx, id, EntryKind::Summary, &body, false)
        .await?;
    tx.commit().await?;
    Ok(i)
}

/// A stakeholder update to post.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdate {
    /// Moves the incident to this status with the update (optional).
    #[serde(default)]
    pub status: Option<Status>,
    /// Who is affected and how.
    #[serde(default)]
    pub impact: String,
    /// What we are doing.
    #[serde(default)]
    pub actions: String,
    /// Minutes until the next update; omitted: the severity's cadence.
    #[serde(default)]
    pub next_update_minutes: Option<u32>,
}

/// Posts a stakeholder update: recorded, on the timeline, sent to the channel and every
/// subscriber, and the cadence starts again from now.
pub async fn post_update(ctx: &Ctx<'_>, id: i64, u: &NewUpdate) -> Result<Update, IncidentError> {
    let (impact, actions) = (u.impact.trim(), u.actions.trim());
    if impact.is_empty() && actions.is_empty() {
        return Err(invalid(
            "an update says what the impact is or what we are doing",
        ));
    }
    check_text("impact", impact)?;
    check_text("actions", actions)?;
    if u.next_update_minutes
        .is_some_and(|m| m == 0 || m > 7 * 24 * 60)
    {
        return Err(invalid("next_update_minutes must be between 1 and 10080"));
    }
    if let Some(to) = u.status {
        let mut tx = ctx.db.begin().await?;
        let i = store::get(&mut tx, id).await?;
        drop(tx);
        if i.status != to {
            super::set_status(ctx, id, to, "").await?;
        }
    }
    let mut tx = ctx.db.begin().await?;
    let mut i = ctx.open(&mut tx, id).await?;
    let next = u
        .next_update_minutes
        .map(|m| i64::from(m) * 60_000)
        .or_else(|| super::cadence_ms(ctx.snap, &i.severity))
        .filter(|_| i.status.is_open())
        .map(|ms| ctx.now.saturating_add(ms));
    i.last_update_at = Some(ctx.now);
    i.update_due_at = next;
    i.lapses = 0;
    store::save(&mut tx, &i).await?;
    let mut update = Update {
        id: 0,
        at: ctx.now,
        author: ctx.actor.name.clone(),
        status: i.status,
        impact: impact.to_string(),
        actions: actions.to_string(),
        next_update_at: next,
    };
    update.id = timeline::insert_update(&mut tx, id, &update).await?;
    let mut body = format!("**Stakeholder update** (status: {})", i.status.as_str());
    let mut details = Vec::new();
    if !impact.is_empty() {
        body.push_str(&format!("\n\n**Impact:** {impact}"));
        details.push(("Impact".to_string(), impact.to_string()));
    }
    if !actions.is_empty() {
        body.push_str(&format!("\n\n**What we are doing:** {actions}"));
        details.push(("What we are doing".to_string(), actions.to_string()));
    }
    if let Some(n) = next {
        let when = crate::oncall::current::local_time(n, "UTC");
        body.push_str(&format!("\n\n**Next update:** {when}"));
        details.push(("Next update".to_string(), when));
    }
    let entry = ctx
        .entry(&mut tx, id, EntryKind::Update, &body, false)
        .await?;
    let headline = format!("Update from {}: {}", ctx.actor.name, i.status.as_str());
    ctx.announce(
        &mut tx,
        &i,
        Say {
            event: "update",
            headline,
            details,
            key: entry.id,
            subscribers: true,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(update)
}
