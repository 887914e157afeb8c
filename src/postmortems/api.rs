//! Postmortems over the REST API. A postmortem is addressed by its incident's number. Viewers
//! read published postmortems (the library, one postmortem, its Markdown); drafts and those
//! in review are for responders, who also write: draft, sections, reviewers, comments, the
//! workflow steps, action items. Approving takes a named reviewer; publishing the owner, a
//! reviewer or an admin. Every write is one command of `command.rs`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::auth::extract::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::incidents::api::actor_of;
use crate::incidents::command::Ctx;
use crate::incidents::store as istore;
use crate::oncall::api::Responder;

use super::blameless::{self, Flag};
use super::command::{self, ActionInput};
use super::store::library::{Hit, Search};
use super::{ActionItem, PmFull, PmStatus, PostmortemError, Section, render, store, workflow};

pub fn router() -> Router<AppState> {
    let item = |p: &str| format!("/api/v1/postmortems/{{id}}{p}");
    Router::new()
        .route("/api/v1/incidents/{id}/postmortem", post(draft))
        .route("/api/v1/postmortems", get(library))
        .route("/api/v1/blameless", post(check))
        .route(&item(""), get(read).patch(details))
        .route(&item("/export.md"), get(export_md))
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
        .route(&item("/actions"), post(add_action))
        .route(
            &item("/actions/{aid}"),
            axum::routing::patch(update_action).delete(delete_action),
        )
}

/// Runs `f` as the caller.
async fn run<T, F>(s: &AppState, p: &Principal, f: F) -> Result<T, AppError>
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
async fn visible(s: &AppState, p: &Principal, id: i64) -> Result<PmFull, AppError> {
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

/// The library's filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Words that must all appear in the title or a section.
    pub q: Option<String>,
    /// draft, in_review or published.
    pub status: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    /// A team id: postmortems of incidents on the services it owns.
    pub team: Option<String>,
    /// Incidents that started at or after this instant (epoch ms).
    pub from: Option<i64>,
    /// … and before this one.
    pub to: Option<i64>,
    pub limit: Option<u32>,
}

/// Turns the query into a search; the team becomes its services.
pub fn search_of(
    q: &LibraryQuery,
    snap: &crate::catalog::snapshot::Snapshot,
    viewer: bool,
) -> Result<Search, AppError> {
    let some = |v: &Option<String>| {
        v.as_ref()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let status = some(&q.status);
    if let Some(st) = &status
        && PmStatus::parse(st).is_none()
    {
        return Err(AppError::BadRequest(format!(
            "status must be draft, in_review or published, not {st:?}"
        )));
    }
    let mut services: Vec<String> = some(&q.service).into_iter().collect();
    if let Some(team) = some(&q.team) {
        if snap.catalog.team(&team).is_none() {
            return Err(AppError::invalid(format!("unknown team {team:?}")));
        }
        let owned: Vec<String> = snap
            .catalog
            .services
            .iter()
            .filter(|x| x.owner_team == team)
            .map(|x| x.id.clone())
            .collect();
        services = if services.is_empty() {
            owned
        } else {
            services.into_iter().filter(|x| owned.contains(x)).collect()
        };
        if services.is_empty() {
            // A team with no services matches nothing, not everything.
            services.push(String::new());
        }
    }
    Ok(Search {
        words: q
            .q
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        status,
        severity: some(&q.severity),
        services,
        from: q.from,
        to: q.to,
        published_only: viewer,
        limit: q.limit.unwrap_or(100),
    })
}

async fn library(
    p: Principal,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<LibraryQuery>,
) -> Result<Json<Vec<Hit>>, AppError> {
    let snap = s.catalog().await?;
    let search = search_of(&q, &snap, p.role < Role::Responder)?;
    let mut tx = s.db.begin_read().await?;
    Ok(Json(store::library::search(&mut tx, &search).await?))
}

async fn read(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PostmortemDetail>, AppError> {
    let full = visible(&s, &p, id).await?;
    Ok(Json(detail(&s, full).await?))
}

/// The reader's time zone.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TzQuery {
    /// An IANA time zone for the times shown (default UTC).
    pub tz: Option<String>,
}

/// The postmortem as Markdown in zone `tz` (checked).
pub async fn markdown(s: &AppState, full: &PmFull, tz: &str) -> Result<String, AppError> {
    if jiff::tz::TimeZone::get(tz).is_err() {
        return Err(AppError::BadRequest(format!("unknown time zone {tz:?}")));
    }
    let incident = istore::full(&s.db, full.postmortem.incident_id).await?;
    let snap = s.catalog().await?;
    Ok(render::markdown(
        full,
        &incident,
        &snap.catalog,
        tz,
        s.clock.now_ms(),
    ))
}

async fn export_md(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TzQuery>,
) -> Result<impl IntoResponse, AppError> {
    let full = visible(&s, &p, id).await?;
    let md = markdown(&s, &full, q.tz.as_deref().unwrap_or("UTC")).await?;
    let name = format!("attachment; filename=\"postmortem-INC-{id}.md\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, name),
        ],
        md,
    ))
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

async fn add_action(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionInput>,
) -> Result<impl IntoResponse, AppError> {
    let a = run(&s, &p, async |ctx| command::add_action(ctx, id, &b).await).await?;
    s.wake.notify_one();
    Ok((StatusCode::CREATED, Json(a)))
}

async fn update_action(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, aid)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<ActionInput>,
) -> Result<Json<ActionItem>, AppError> {
    Ok(Json(
        run(&s, &p, async |ctx| {
            command::update_action(ctx, id, aid, &b).await
        })
        .await?,
    ))
}

async fn delete_action(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, aid)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    run(&s, &p, async |ctx| {
        command::delete_action(ctx, id, aid).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Text to check for blaming language.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub text: String,
}

async fn check(
    _: Principal,
    State(s): State<AppState>,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Json<Vec<Flag>>, AppError> {
    if b.text.len() > command::BODY_MAX {
        return Err(AppError::invalid("the text is too long to check"));
    }
    let snap = s.catalog().await?;
    Ok(Json(blameless::check(&b.text, &people_names(&snap))))
}
