//! Action items: added, edited and marked done by people; their backlog link and state are
//! written by the backlog sync (`store::actions::set_backlog`). Items outlive publication:
//! the follow-up work goes on after the postmortem is read-only, so they stay editable, but
//! a published postmortem's items cannot be deleted (they are part of what was agreed).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::incidents::command::Ctx;

use super::super::error::{conflict, invalid};
use super::super::store::{self, actions};
use super::super::{ActionItem, ActionKind, PmStatus, PostmortemError};
use super::locked;

/// An action item as people write it (new, or the fields to change).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub title: Option<String>,
    /// prevent, mitigate, detect, automate or process.
    pub kind: Option<String>,
    /// A catalog person id.
    pub owner: Option<String>,
    /// A catalog team id; omitted: the owner's first team.
    pub team: Option<String>,
    /// Due date, epoch milliseconds.
    pub due_at: Option<i64>,
    /// open or done.
    pub status: Option<String>,
}

/// Applies `input` to `a`, checking every field against the catalog.
fn apply(ctx: &Ctx<'_>, a: &mut ActionItem, input: &ActionInput) -> Result<(), PostmortemError> {
    if let Some(t) = &input.title {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 300 {
            return Err(invalid("an action item's title has 1 to 300 characters"));
        }
        a.title = t.to_string();
    }
    if let Some(k) = &input.kind {
        a.kind = ActionKind::parse(k).ok_or_else(|| {
            invalid(format!(
                "unknown type {k:?}: use prevent, mitigate, detect, automate or process"
            ))
        })?;
    }
    if let Some(o) = &input.owner {
        let person = ctx
            .snap
            .person(o)
            .ok_or_else(|| invalid(format!("unknown person {o:?}")))?;
        a.owner = o.clone();
        if input.team.is_none() && a.team.is_empty() {
            a.team = person.teams.first().cloned().unwrap_or_default();
        }
    }
    if let Some(t) = input.team.as_ref().filter(|t| !t.is_empty()) {
        if ctx.snap.catalog.team(t).is_none() {
            return Err(invalid(format!("unknown team {t:?}")));
        }
        a.team = t.clone();
    }
    if let Some(d) = input.due_at {
        a.due_at = Some(d);
    }
    if let Some(s) = &input.status {
        if !matches!(s.as_str(), "open" | "done") {
            return Err(invalid("status is open or done"));
        }
        a.status = s.clone();
    }
    Ok(())
}

/// Adds an item; title, type and owner are required.
pub async fn add_action(
    ctx: &Ctx<'_>,
    id: i64,
    input: &ActionInput,
) -> Result<ActionItem, PostmortemError> {
    if input.title.is_none() || input.kind.is_none() || input.owner.is_none() {
        return Err(invalid("an action item needs a title, a type and an owner"));
    }
    let mut tx = ctx.db.begin().await?;
    locked(&mut tx, id).await?;
    let mut a = ActionItem {
        id: 0,
        incident_id: id,
        title: String::new(),
        kind: ActionKind::Process,
        owner: String::new(),
        team: String::new(),
        due_at: None,
        status: "open".into(),
        backlog_kind: None,
        backlog_key: None,
        backlog_url: None,
        backlog_state: None,
        backlog_error: None,
        refreshed_at: None,
        created_at: ctx.now,
        created_by: ctx.actor.name.clone(),
        updated_at: ctx.now,
    };
    apply(ctx, &mut a, input)?;
    a.id = actions::insert(&mut tx, &a).await?;
    tx.commit().await?;
    Ok(a)
}

/// The item `aid` of postmortem `id`, NotFound when it belongs to another.
async fn item(tx: &mut crate::db::Tx, id: i64, aid: i64) -> Result<ActionItem, PostmortemError> {
    let a = actions::get(tx, aid).await?;
    if a.incident_id != id {
        return Err(PostmortemError::NotFound);
    }
    Ok(a)
}

pub async fn update_action(
    ctx: &Ctx<'_>,
    id: i64,
    aid: i64,
    input: &ActionInput,
) -> Result<ActionItem, PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    locked(&mut tx, id).await?;
    let mut a = item(&mut tx, id, aid).await?;
    apply(ctx, &mut a, input)?;
    a.updated_at = ctx.now;
    actions::update(&mut tx, &a).await?;
    tx.commit().await?;
    Ok(a)
}

pub async fn delete_action(ctx: &Ctx<'_>, id: i64, aid: i64) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let pm = store::lock(&mut tx, id).await?;
    if pm.status == PmStatus::Published {
        return Err(conflict(
            "a published postmortem's action items cannot be deleted",
        ));
    }
    item(&mut tx, id, aid).await?;
    actions::delete(&mut tx, id, aid).await?;
    tx.commit().await?;
    Ok(())
}
