//! Postmortems over the REST API (the library, export and blameless check are in
//! `api_library.rs`, action items in `api_actions.rs`). A postmortem is addressed by its
//! incident's number. Viewers read published postmortems; drafts and those in review are for
//! responders, who also write: draft, sections, reviewers, comments, the workflow steps.
//! Approving takes a named reviewer; publishing the owner, a reviewer or an admin. Every
//! write is one command of `command.rs`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::auth::extract::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath};
use crate::incidents::api::actor_of;
use crate::incidents::command::Ctx;
use crate::oncall::api::Responder;

use super::blameless::{self, Flag};
use super::command;
use super::{PmFull, PmStatus, PostmortemError, Section, store, workflow};

pub fn router() -> Router<AppState> {
    let item = |p: &str| format!("/api/v1/postmortems/{{id}}{p}");
    Router::new()
        .route("/api/v1/incidents/{id}/postmortem", post(draft))
        .route(&item(""), get(read).patch(details))
        .route(&item("/sections/{key}"), put(edit_section))
        .route(&item("/reviewers"), post(add_reviewer))
        .route(
            &item("/reviewers/{person}"),
            axum::routing::delete(remove_reviewer),
        )
        .route(&item("/comments"), post(comment))
        .route(&item("/submit"), post(submit))
        .route(&item("/request-changes"), post(request_changes))
        .route(&item("/approve"), post(approve))
        .route(&item("/publish"), post(publish))
}

/// Runs `f` as the caller.
pub(super) async fn run<T, F>(s: &AppState, p: &Principal, f: F) -> Result<T, AppError>
where
    F: AsyncFnOnce(&Ctx<'_>) -> Result<T, PostmortemError>,
{
    let snap = s.catalog().await?;
    let actor = actor_of(s, &snap, p).await;
    let ctx = Ctx {
        db: &s.db,
        snap: &snap,
        now: s.clock.now_ms(),
        actor: &actor,
        base_url: &s.settings.base_url,
    };
    Ok(f(&ctx).await?)
}

/// The blameless flags of one section.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SectionFlags {
    pub section: String,
    pub flags: Vec<Flag>,
}

/// A postmortem with everything about it, what review still needs, and its flags.
#[derive(Serialize, ToSchema)]
pub struct PostmortemDetail {
    #[serde(flatten)]
    pub full: PmFull,
    /// "INC-12".
    pub reference: String,
    /// Required sections still empty (submitting is refused while any are).
    pub missing: Vec<String>,
    /// Blaming language found, by section.
    pub flags: Vec<SectionFlags>,
}

/// The names the blameless check looks for (the organisation's people).
pub fn people_names(s: &crate::catalog::snapshot::Snapshot) -> Vec<String> {
    s.catalog.people.iter().map(|p| p.name.clone()).collect()
}

/// Flags of every section that has any.
pub fn flags_of(full: &PmFull, names: &[String]) -> Vec<SectionFlags> {
    full.sections
        .iter()
        .map(|sec| SectionFlags {
            section: sec.key.clone(),
            flags: blameless::check(&sec.body, names),
        })
        .filter(|f| !f.flags.is_empty())
        .collect()
}

/// Reads postmortem `id` for `p`: drafts and reviews only for responders.
pub(super) async fn visible(s: &AppState, p: &Principal, id: i64) -> Result<PmFull, AppError> {
    let full = store::full(&s.db, id).await?;
    if full.postmortem.status != PmStatus::Published && p.role < Role::Responder {
        return Err(AppError::Denied(
            "this postmortem is not published yet; drafts are for responders".into(),
        ));
    }
    Ok(full)
}

async fn detail(s: &AppState, full: PmFull) -> Result<PostmortemDetail, AppError> {
    let snap = s.catalog().await?;
    Ok(PostmortemDetail {
        reference: crate::incidents::reference(full.postmortem.incident_id),
        missing: workflow::missing(&full),
        flags: flags_of(&full, &people_names(&snap)),
        full,
    })
}

async fn draft(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, AppError> {
    let template = s.settings.postmortem_template.clone();
    let full = run(&s, &p, async |ctx| {
        command::draft_incident(ctx, id, &template).await
    })
    .await?;
    s.live.changed(id);
    let location = format!("/api/v1/postmortems/{id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(detail(&s, full).await?),
    ))
}

async fn read(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PostmortemDetail>, AppError> {
    let full = visible(&s, &p, id).await?;
    Ok(Json(detail(&s, full).await?))
}

/// A new title and/or owner.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailsBody {
    pub title: Option<String>,
    /// A person id.
    pub owner: Option<String>,
}

async fn details(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DetailsBody>,
) -> Result<Json<PostmortemDetail>, AppError> {
    run(&s, &p, async |ctx| {
        command::set_details(ctx, id, b.title.as_deref(), b.owner.as_deref()).await
    })
    .await?;
    Ok(Json(detail(&s, store::full(&s.db, id).await?).await?))
}

/// A section's new text (Markdown).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionBody {
    pub body: String,
}

/// A saved section with the blaming language found in it.
#[derive(Serialize, ToSchema)]
pub struct SavedSection {
    #[serde(flatten)]
    pub section: Section,
    pub flags: Vec<Flag>,
}

async fn edit_section(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, key)): ApiPath<(i64, String)>,
    ApiJson(b): ApiJson<SectionBody>,
) -> Result<Json<SavedSection>, AppError> {
    let section = run(&s, &p, async |ctx| {
        command::edit_section(ctx, id, &key, &b.body).await
    })
    .await?;
    let snap = s.catalog().await?;
    let flags = blameless::check(&section.body, &people_names(&snap));
    Ok(Json(SavedSection { section, flags }))
}

/// A person, by catalog id.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewerBody {
    pub person: String,
}

async fn add_reviewer(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ReviewerBody>,
) -> Result<impl IntoResponse, AppError> {
    run(&s, &p, async |ctx| {
        command::add_reviewer(ctx, id, &b.person).await
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(detail(&s, store::full(&s.db, id).await?).await?),
    ))
}

async fn remove_reviewer(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, person)): ApiPath<(i64, String)>,
) -> Result<StatusCode, AppError> {
    run(&s, &p, async |ctx| {
        command::remove_reviewer(ctx, id, &person).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A review comment on a section.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// The section's key.
    pub section: String,
    pub body: String,
}

async fn comment(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CommentBody>,
) -> Result<impl IntoResponse, AppError> {
    run(&s, &p, async |ctx| {
        command::comment(ctx, id, &b.section, &b.body).await
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(detail(&s, store::full(&s.db, id).await?).await?),
    ))
}

/// Runs one workflow step and answers the postmortem as it now is.
async fn step<F>(
    s: &AppState,
    p: &Principal,
    id: i64,
    f: F,
) -> Result<Json<PostmortemDetail>, AppError>
where
    F: AsyncFnOnce(&Ctx<'_>) -> Result<(), PostmortemError>,
{
    run(s, p, f).await?;
    s.live.changed(id);
    Ok(Json(detail(s, store::full(&s.db, id).await?).await?))
}

async fn submit(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PostmortemDetail>, AppError> {
    step(&s, &p, id, async |ctx| command::submit(ctx, id).await).await
}

/// Why changes are asked for, on which section (both optional: `{}` asks without a comment).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ChangesBody {
    pub section: Option<String>,
    pub comment: Option<String>,
}

async fn request_changes(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ChangesBody>,
) -> Result<Json<PostmortemDetail>, AppError> {
    step(&s, &p, id, async |ctx| {
        let c = match (&b.section, &b.comment) {
            (Some(sec), Some(c)) => Some((sec.as_str(), c.as_str())),
            (None, Some(_)) => return Err(super::error::invalid("a comment needs its section")),
            _ => None,
        };
        command::request_changes(ctx, id, c).await
    })
    .await
}

async fn approve(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PostmortemDetail>, AppError> {
    step(&s, &p, id, async |ctx| command::approve(ctx, id).await).await
}

async fn publish(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PostmortemDetail>, AppError> {
    let admin = p.role >= Role::Admin;
    step(&s, &p, id, async |ctx| {
        command::publish(ctx, id, admin).await
    })
    .await
}
