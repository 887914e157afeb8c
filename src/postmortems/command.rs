//! Commands on postmortems: every change, from the web, the API or the CLI, as one
//! transaction that checks the workflow's rules (`workflow.rs`), writes, and notes the step
//! on the incident's timeline. A refused command writes nothing. Action items are in
//! `command/actions.rs`; the incident side (timeline, messages, closing) is
//! `incidents::command::close`.

mod actions;

pub use actions::*;

use crate::db::Tx;
use crate::incidents::command::{self as ic, Ctx};
use crate::incidents::{Role, Status, store as istore};

use super::draft::{self, AlertFact};
use super::error::{conflict, invalid};
use super::template::Template;
use super::{PmFull, PmStatus, Postmortem, PostmortemError, Reviewer, Section, store, workflow};

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 100_000;

/// The postmortem locked for change.
async fn locked(tx: &mut Tx, id: i64) -> Result<PmFull, PostmortemError> {
    store::lock(tx, id).await?;
    Ok(store::full_in(tx, id).await?)
}

/// Drafts the postmortem of a resolved incident from the template. `budget` is the error
/// budget paragraph (from the SLOs), empty when there is none.
pub async fn draft(
    ctx: &Ctx<'_>,
    id: i64,
    template: &Template,
    alerts: &[AlertFact],
    budget: &str,
) -> Result<PmFull, PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let full = match istore::full_in(&mut tx, id).await {
        Err(crate::db::StoreError::NotFound) => return Err(invalid("no such incident")),
        r => r?,
    };
    let i = &full.incident;
    if store::exists(&mut tx, id).await? {
        return Err(conflict(format!(
            "{} already has a postmortem",
            i.reference()
        )));
    }
    if i.status.is_open() {
        return Err(conflict(format!(
            "{} is still {}; resolve it before drafting its postmortem",
            i.reference(),
            i.status.as_str()
        )));
    }
    // The owner: whoever was Incident Commander last, else the person drafting.
    let owner = full
        .roles
        .iter()
        .rev()
        .find(|s| s.role == Role::Commander)
        .map(|s| s.person_id.clone())
        .or_else(|| ctx.actor.person.clone())
        .unwrap_or_default();
    let due_at = ctx
        .snap
        .severity(&i.severity)
        .and_then(|s| s.postmortem_due_days)
        .map(|d| workflow::due_at(i.resolved_at.unwrap_or(ctx.now), d));
    let pm = Postmortem {
        incident_id: id,
        title: i.title.clone(),
        status: PmStatus::Draft,
        owner,
        created_at: ctx.now,
        created_by: ctx.actor.name.clone(),
        due_at,
        remind_at: due_at.map(|d| workflow::first_reminder(d, ctx.now)),
        submitted_at: None,
        published_at: None,
        published_by: None,
        updated_at: ctx.now,
    };
    store::insert(&mut tx, &pm).await?;
    let input = draft::Input {
        full: &full,
        catalog: &ctx.snap.catalog,
        alerts,
        budget,
        now: ctx.now,
    };
    for (position, t) in template.sections.iter().enumerate() {
        let s = Section {
            key: t.key.clone(),
            title: t.title.clone(),
            help: t.help.clone(),
            required: t.required,
            fill: t.fill,
            body: draft::fill(t.fill, &input),
            updated_at: ctx.now,
            updated_by: "Tocsin".into(),
        };
        store::put_section(&mut tx, id, position, &s).await?;
    }
    store::save(&mut tx, &pm).await?;
    ic::postmortem_entry(ctx, &mut tx, id, "Postmortem drafted.").await?;
    let f = store::full_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(f)
}

/// Drafts the postmortem of incident `id` with what the draft reads gathered first: the
/// incident's alerts and the error budget it burned (`slo::incident_burn`). What the web,
/// the API and the CLI call.
pub async fn draft_incident(
    ctx: &Ctx<'_>,
    id: i64,
    template: &Template,
) -> Result<PmFull, PostmortemError> {
    let alerts = {
        let mut tx = ctx.db.begin_read().await?;
        if let Err(crate::db::StoreError::NotFound) = istore::get(&mut tx, id).await {
            return Err(invalid("no such incident"));
        }
        store::facts::alerts_of(&mut tx, id).await?
    };
    let burns = crate::slo::incident_burn(ctx.db, ctx.snap, id, ctx.now).await?;
    let budget = format!(
        "**Error budget burned** (each SLO's window up to the end of the impairment):\n\n{}",
        crate::slo::burn_markdown(&burns)
    );
    draft(ctx, id, template, &alerts, &budget).await
}

/// Replaces a section's text. In review, an edit clears the approvals: reviewers approved
/// other words.
pub async fn edit_section(
    ctx: &Ctx<'_>,
    id: i64,
    key: &str,
    body: &str,
) -> Result<Section, PostmortemError> {
    if body.len() > BODY_MAX {
        return Err(invalid(format!("a section holds at most {BODY_MAX} bytes")));
    }
    let mut tx = ctx.db.begin().await?;
    let mut pm = locked(&mut tx, id).await?;
    workflow::may_edit(&pm).map_err(PostmortemError::Conflict)?;
    let position = pm
        .sections
        .iter()
        .position(|s| s.key == key)
        .ok_or_else(|| invalid(format!("no section {key:?}")))?;
    let mut s = pm.sections[position].clone();
    if s.body == body {
        return Ok(s);
    }
    s.body = body.to_string();
    s.updated_at = ctx.now;
    s.updated_by = ctx.actor.name.clone();
    store::put_section(&mut tx, id, position, &s).await?;
    if pm.postmortem.status == PmStatus::InReview {
        store::set_approval(&mut tx, id, None, None).await?;
    }
    pm.postmortem.updated_at = ctx.now;
    store::save(&mut tx, &pm.postmortem).await?;
    tx.commit().await?;
    Ok(s)
}

/// Changes the title and/or the owner.
pub async fn set_details(
    ctx: &Ctx<'_>,
    id: i64,
    title: Option<&str>,
    owner: Option<&str>,
) -> Result<Postmortem, PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let pm = locked(&mut tx, id).await?;
    workflow::may_edit(&pm).map_err(PostmortemError::Conflict)?;
    let mut p = pm.postmortem.clone();
    if let Some(t) = title {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > TITLE_MAX {
            return Err(invalid(format!("a title has 1 to {TITLE_MAX} characters")));
        }
        p.title = t.to_string();
    }
    if let Some(o) = owner {
        if ctx.snap.person(o).is_none() {
            return Err(invalid(format!("unknown person {o:?}")));
        }
        if pm.reviewers.iter().any(|r| r.person_id == o) {
            return Err(invalid("the owner cannot also review it"));
        }
        p.owner = o.to_string();
    }
    p.updated_at = ctx.now;
    store::save(&mut tx, &p).await?;
    tx.commit().await?;
    Ok(p)
}

/// Names a reviewer (a catalog person, not the owner).
pub async fn add_reviewer(ctx: &Ctx<'_>, id: i64, person: &str) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let pm = locked(&mut tx, id).await?;
    workflow::may_edit(&pm).map_err(PostmortemError::Conflict)?;
    if ctx.snap.person(person).is_none() {
        return Err(invalid(format!("unknown person {person:?}")));
    }
    if pm.postmortem.owner == person {
        return Err(invalid("the owner cannot review their own postmortem"));
    }
    let r = Reviewer {
        person_id: person.to_string(),
        added_at: ctx.now,
        added_by: ctx.actor.name.clone(),
        approved_at: None,
    };
    if store::add_reviewer(&mut tx, id, &r).await? && pm.postmortem.status == PmStatus::InReview {
        let who = ctx.person_name(person);
        let key = ic::postmortem_entry(
            ctx,
            &mut tx,
            id,
            &format!("{who} asked to review the postmortem."),
        )
        .await?;
        let headline = format!("Please review the postmortem of INC-{id}");
        ic::tell_people(
            ctx,
            &mut tx,
            id,
            &[person.to_string()],
            "postmortem.review",
            headline,
            key,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn remove_reviewer(ctx: &Ctx<'_>, id: i64, person: &str) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let pm = locked(&mut tx, id).await?;
    workflow::may_edit(&pm).map_err(PostmortemError::Conflict)?;
    if !store::remove_reviewer(&mut tx, id, person).await? {
        return Err(invalid(format!("{person:?} is not a reviewer")));
    }
    tx.commit().await?;
    Ok(())
}

/// Draft → in review: required sections filled, a reviewer named; reviewers are asked.
pub async fn submit(ctx: &Ctx<'_>, id: i64) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let mut pm = locked(&mut tx, id).await?;
    workflow::may_submit(&pm).map_err(PostmortemError::Conflict)?;
    pm.postmortem.status = PmStatus::InReview;
    pm.postmortem.submitted_at = Some(ctx.now);
    pm.postmortem.updated_at = ctx.now;
    store::save(&mut tx, &pm.postmortem).await?;
    store::set_approval(&mut tx, id, None, None).await?;
    let key = ic::postmortem_entry(ctx, &mut tx, id, "Postmortem submitted for review.").await?;
    let people: Vec<String> = pm.reviewers.iter().map(|r| r.person_id.clone()).collect();
    let headline = format!(
        "Please review the postmortem of INC-{id}: {}",
        pm.postmortem.title
    );
    ic::tell_people(
        ctx,
        &mut tx,
        id,
        &people,
        "postmortem.review",
        headline,
        key,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// In review → draft: the owner takes it back, or a reviewer asks for changes (with a comment
/// on a section when given).
pub async fn request_changes(
    ctx: &Ctx<'_>,
    id: i64,
    comment: Option<(&str, &str)>,
) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let mut pm = locked(&mut tx, id).await?;
    if pm.postmortem.status != PmStatus::InReview {
        return Err(conflict("only a postmortem in review can go back to draft"));
    }
    if let Some((section, body)) = comment.filter(|(_, b)| !b.trim().is_empty()) {
        add_comment_in(ctx, &mut tx, &pm, section, body).await?;
    }
    pm.postmortem.status = PmStatus::Draft;
    pm.postmortem.updated_at = ctx.now;
    store::save(&mut tx, &pm.postmortem).await?;
    store::set_approval(&mut tx, id, None, None).await?;
    ic::postmortem_entry(
        ctx,
        &mut tx,
        id,
        "Postmortem sent back to draft for changes.",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn add_comment_in(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    pm: &PmFull,
    section: &str,
    body: &str,
) -> Result<i64, PostmortemError> {
    if pm.section(section).is_none() {
        return Err(invalid(format!("no section {section:?}")));
    }
    let body = body.trim();
    if body.is_empty() || body.len() > 10_000 {
        return Err(invalid("a comment has 1 to 10,000 bytes"));
    }
    let c = super::Comment {
        id: 0,
        section: section.to_string(),
        at: ctx.now,
        author: ctx.actor.name.clone(),
        body: body.to_string(),
    };
    Ok(store::add_comment(tx, pm.postmortem.incident_id, &c).await?)
}

/// A review comment on one section (draft or in review).
pub async fn comment(
    ctx: &Ctx<'_>,
    id: i64,
    section: &str,
    body: &str,
) -> Result<i64, PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let pm = locked(&mut tx, id).await?;
    workflow::may_edit(&pm).map_err(PostmortemError::Conflict)?;
    let cid = add_comment_in(ctx, &mut tx, &pm, section, body).await?;
    tx.commit().await?;
    Ok(cid)
}

/// A named reviewer approves.
pub async fn approve(ctx: &Ctx<'_>, id: i64) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let pm = locked(&mut tx, id).await?;
    let person = ctx.actor.person.as_deref();
    workflow::may_approve(&pm, person).map_err(PostmortemError::Forbidden)?;
    store::set_approval(&mut tx, id, person, Some(ctx.now)).await?;
    ic::postmortem_entry(ctx, &mut tx, id, "Postmortem approved.").await?;
    tx.commit().await?;
    Ok(())
}

/// In review with every approval → published, read-only; the incident closes.
pub async fn publish(ctx: &Ctx<'_>, id: i64, admin: bool) -> Result<(), PostmortemError> {
    let mut tx = ctx.db.begin().await?;
    let mut pm = locked(&mut tx, id).await?;
    let person = ctx.actor.person.as_deref();
    match workflow::may_publish(&pm, person, admin) {
        Err(m) if m.starts_with("only the owner") => return Err(PostmortemError::Forbidden(m)),
        Err(m) => return Err(PostmortemError::Conflict(m)),
        Ok(()) => {}
    }
    let p = &mut pm.postmortem;
    p.status = PmStatus::Published;
    p.published_at = Some(ctx.now);
    p.published_by = Some(ctx.actor.name.clone());
    p.remind_at = None;
    p.updated_at = ctx.now;
    store::save(&mut tx, p).await?;
    ic::postmortem_entry(ctx, &mut tx, id, "Postmortem published.").await?;
    let i = ic::close_for_postmortem(ctx, &mut tx, id).await?;
    debug_assert_eq!(i.status, Status::Closed);
    tx.commit().await?;
    Ok(())
}
