//! Incidents over the REST API: viewers read (the list, an incident with its timeline, the
//! document as Markdown, a severity suggestion); responders act (declare, status, severity,
//! roles, timeline entries, updates, teams, subscribers). Every write is one command of
//! `command.rs`; after it commits the live pages hear of it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::extract::Principal;
use crate::catalog::snapshot::Snapshot;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::oncall::api::Responder;

use super::command::{self, Actor, Ctx, Declaration, NewNote, NewUpdate};
use super::metrics::{self, ResponseMetrics};
use super::store::{self, Filter, messages::Message};
use super::suggest::{self, Suggestion};
use super::{Entry, Full, ImpactedFunction, Incident, Role, Status, Subscriber, Update, document};

pub fn router() -> Router<AppState> {
    let item = |p: &str| format!("/api/v1/incidents/{{id}}{p}");
    Router::new()
        .route("/api/v1/incidents", get(list).post(declare))
        .route("/api/v1/incidents/suggest", get(suggestion))
        .route(&item(""), get(read))
        .route(&item("/document.md"), get(document_md))
        .route(&item("/status"), post(set_status))
        .route(&item("/severity"), post(set_severity))
        .route(&item("/summary"), post(set_summary))
        .route(&item("/roles"), post(assign_role))
        .route(&item("/roles/{role}"), delete(step_down))
        .route(&item("/timeline"), get(timeline).post(add_entry))
        .route(&item("/timeline/{entry}/star"), post(star))
        .route(&item("/updates"), post(post_update))
        .route(&item("/teams"), post(add_team))
        .route(&item("/investigators"), post(add_investigator))
        .route(&item("/alerts"), post(attach_alert))
        .route(&item("/services"), post(add_service))
        .route(&item("/channel"), put(set_channel))
        .route(&item("/subscribers"), post(subscribe).delete(unsubscribe))
}

/// Who the caller is as an actor: the person their account is linked to, else the account.
pub async fn actor_of(s: &AppState, snap: &Snapshot, p: &Principal) -> Actor {
    let person = crate::auth::store::account(&s.db, &p.name)
        .await
        .ok()
        .and_then(|a| a.person_id)
        .filter(|id| snap.person(id).is_some());
    match person {
        Some(id) => Actor::person(snap, &id),
        None => Actor {
            name: p.name.clone(),
            person: None,
        },
    }
}

/// Runs `f` as the caller, then tells the live pages about incident `id`.
async fn run<T, F>(s: &AppState, p: &Principal, id: Option<i64>, f: F) -> Result<T, AppError>
where
    F: AsyncFnOnce(&Ctx<'_>) -> Result<T, super::IncidentError>,
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
    let out = f(&ctx).await?;
    if let Some(id) = id {
        s.live.changed(id);
    }
    Ok(out)
}

/// Which incidents to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// `open` (investigating, identified, monitoring), or one status.
    pub status: Option<String>,
    /// A severity level id.
    pub severity: Option<String>,
    /// A service id.
    pub service: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

async fn list(
    _: Principal,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> Result<Json<Vec<Incident>>, AppError> {
    let nonempty = |v: Option<String>| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let mut f = Filter {
        severity: nonempty(q.severity),
        service: nonempty(q.service),
        limit: q.limit.unwrap_or(100),
        ..Filter::default()
    };
    match nonempty(q.status).as_deref() {
        None | Some("all") => {}
        Some("open") => f.open = true,
        Some(t) => {
            f.status = Some(Status::parse(t).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "status must be open, all, investigating, identified, monitoring, \
                     resolved or closed, not {t:?}"
                ))
            })?);
        }
    }
    let mut tx = s.db.begin_read().await?;
    Ok(Json(store::list(&mut tx, &f).await?))
}

/// An incident with everything about it and its response metrics.
#[derive(Serialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub full: Full,
    pub reference: String,
    pub metrics: ResponseMetrics,
    /// Messages queued or sent about it (chat channel, subscribers, role holders).
    pub messages: Vec<Message>,
}

async fn detail(s: &AppState, id: i64) -> Result<IncidentDetail, AppError> {
    let full = store::full(&s.db, id).await?;
    let mut tx = s.db.begin_read().await?;
    let messages = store::messages::for_incident(&mut tx, id).await?;
    Ok(IncidentDetail {
        reference: full.incident.reference(),
        metrics: metrics::of(&full.incident),
        full,
        messages,
    })
}

async fn declare(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiJson(d): ApiJson<Declaration>,
) -> Result<impl IntoResponse, AppError> {
    let i = run(&s, &p, None, async |ctx| {
        command::declare(ctx, &d, "api").await
    })
    .await?;
    s.live.changed(i.id);
    let location = format!("/api/v1/incidents/{}", i.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(detail(&s, i.id).await?),
    ))
}

async fn read(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IncidentDetail>, AppError> {
    Ok(Json(detail(&s, id).await?))
}

/// The document's time zone.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocQuery {
    /// An IANA time zone for the times shown (default UTC).
    pub tz: Option<String>,
}

async fn document_md(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DocQuery>,
) -> Result<impl IntoResponse, AppError> {
    let tz = q.tz.unwrap_or_else(|| "UTC".into());
    if jiff::tz::TimeZone::get(&tz).is_err() {
        return Err(AppError::BadRequest(format!("unknown time zone {tz:?}")));
    }
    let full = store::full(&s.db, id).await?;
    let snap = s.catalog().await?;
    let md = document::markdown(&full, &snap.catalog, &tz, s.clock.now_ms());
    let name = format!("attachment; filename=\"{}.md\"", full.incident.reference());
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

/// What Tocsin suggests for services and alerts.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// Service ids, comma-separated.
    pub services: Option<String>,
    /// An alert severity: critical, error, warning or info.
    pub alert_severity: Option<String>,
}

/// A severity suggestion and the business functions that fail.
#[derive(Serialize, ToSchema)]
pub struct SuggestionBody {
    pub suggestion: Option<Suggestion>,
    pub impacted_functions: Vec<ImpactedFunction>,
}

async fn suggestion(
    _: Principal,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SuggestQuery>,
) -> Result<Json<SuggestionBody>, AppError> {
    let snap = s.catalog().await?;
    let services: Vec<String> = q
        .services
        .unwrap_or_default()
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    if let Some(unknown) = services.iter().find(|x| snap.service(x).is_none()) {
        return Err(AppError::invalid(format!("unknown service {unknown:?}")));
    }
    let severity = match q.alert_severity.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(crate::alerts::store::parse_severity(t).ok_or_else(|| {
            AppError::BadRequest(format!(
                "alert_severity must be critical, error, warning or info, not {t:?}"
            ))
        })?),
    };
    Ok(Json(SuggestionBody {
        suggestion: suggest::severity(&snap, &services, severity),
        impacted_functions: suggest::impacted_functions(&snap, &services),
    }))
}

/// A status change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    pub status: Status,
    #[serde(default)]
    pub note: String,
}

async fn set_status(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StatusBody>,
) -> Result<Json<Incident>, AppError> {
    let f = async |ctx: &Ctx<'_>| command::set_status(ctx, id, b.status, &b.note).await;
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

/// A severity change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityBody {
    pub severity: String,
}

async fn set_severity(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SeverityBody>,
) -> Result<Json<Incident>, AppError> {
    let f = async |ctx: &Ctx<'_>| command::set_severity(ctx, id, &b.severity).await;
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

/// The current understanding.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryBody {
    pub summary: String,
}

async fn set_summary(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SummaryBody>,
) -> Result<Json<Incident>, AppError> {
    let f = async |ctx: &Ctx<'_>| command::set_summary(ctx, id, &b.summary).await;
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

/// A role to give (or hand over, with a note for the new holder).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub role: Role,
    /// A person id.
    pub person: String,
    #[serde(default)]
    pub note: String,
    /// The previous holder stays on in this role (an IC handing over stays as Ops Lead).
    #[serde(default)]
    pub previous_becomes: Option<Role>,
}

async fn assign_role(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RoleBody>,
) -> Result<Json<Incident>, AppError> {
    let f = async |ctx: &Ctx<'_>| {
        command::assign(ctx, id, b.role, &b.person, &b.note, b.previous_becomes).await
    };
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

async fn step_down(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, role)): ApiPath<(i64, String)>,
) -> Result<Json<Incident>, AppError> {
    let role = Role::parse(&role).ok_or_else(|| {
        AppError::BadRequest(format!(
            "role must be commander, ops or comms, not {role:?}"
        ))
    })?;
    let f = async |ctx: &Ctx<'_>| command::step_down(ctx, id, role).await;
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

/// Timeline entries after an id.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Only entries with a larger id (what a live page has not seen yet).
    pub after: Option<i64>,
}

async fn timeline(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TimelineQuery>,
) -> Result<Json<Vec<Entry>>, AppError> {
    let mut tx = s.db.begin_read().await?;
    store::get(&mut tx, id).await?;
    let after = q.after.unwrap_or(0);
    Ok(Json(store::timeline::entries(&mut tx, id, after).await?))
}

async fn add_entry(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(n): ApiJson<NewNote>,
) -> Result<impl IntoResponse, AppError> {
    let f = async |ctx: &Ctx<'_>| command::add_entry(ctx, id, &n).await;
    Ok((StatusCode::CREATED, Json(run(&s, &p, Some(id), f).await?)))
}

/// Star or unstar.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StarBody {
    pub starred: bool,
}

async fn star(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath((id, entry)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<StarBody>,
) -> Result<Json<Entry>, AppError> {
    let f = async |ctx: &Ctx<'_>| command::star(ctx, id, entry, b.starred).await;
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

async fn post_update(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(u): ApiJson<NewUpdate>,
) -> Result<(StatusCode, Json<Update>), AppError> {
    let f = async |ctx: &Ctx<'_>| command::post_update(ctx, id, &u).await;
    Ok((StatusCode::CREATED, Json(run(&s, &p, Some(id), f).await?)))
}

/// A team to pull in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub team: String,
}

/// What pulling a team in did.
#[derive(Serialize, ToSchema)]
pub struct TeamPaged {
    /// The alert that pages the team's on-call (none when the team has no policy).
    pub alert_id: Option<String>,
}

async fn add_team(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TeamBody>,
) -> Result<(StatusCode, Json<TeamPaged>), AppError> {
    let f = async |ctx: &Ctx<'_>| command::add_team(ctx, id, &b.team).await;
    let alert_id = run(&s, &p, Some(id), f).await?;
    // The page is an alert: wake the engine so it goes out now, not at the next tick.
    s.wake.notify_one();
    Ok((StatusCode::CREATED, Json(TeamPaged { alert_id })))
}

/// A person to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    pub person: String,
}

async fn add_investigator(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PersonBody>,
) -> Result<StatusCode, AppError> {
    let f = async |ctx: &Ctx<'_>| command::add_investigator(ctx, id, &b.person).await;
    run(&s, &p, Some(id), f).await?;
    Ok(StatusCode::CREATED)
}

/// An alert to attach.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertBody {
    pub alert: String,
}

async fn attach_alert(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AlertBody>,
) -> Result<StatusCode, AppError> {
    let f = async |ctx: &Ctx<'_>| command::attach_alert(ctx, id, &b.alert).await;
    run(&s, &p, Some(id), f).await?;
    Ok(StatusCode::CREATED)
}

/// A service to attach.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    pub service: String,
}

async fn add_service(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ServiceBody>,
) -> Result<StatusCode, AppError> {
    let f = async |ctx: &Ctx<'_>| command::add_service(ctx, id, &b.service).await;
    run(&s, &p, Some(id), f).await?;
    Ok(StatusCode::CREATED)
}

/// The incident's chat channel; both null to remove it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// slack or mattermost.
    pub kind: Option<String>,
    /// The channel's incoming-webhook URL.
    pub url: Option<String>,
}

async fn set_channel(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ChannelBody>,
) -> Result<Json<Incident>, AppError> {
    let f = async |ctx: &Ctx<'_>| {
        command::set_channel(ctx, id, b.kind.as_deref(), b.url.as_deref()).await
    };
    Ok(Json(run(&s, &p, Some(id), f).await?))
}

async fn subscribe(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Subscriber>,
) -> Result<StatusCode, AppError> {
    let f = async |ctx: &Ctx<'_>| command::subscribe(ctx, id, &b).await;
    let added = run(&s, &p, Some(id), f).await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

async fn unsubscribe(
    Responder(p): Responder,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Subscriber>,
) -> Result<StatusCode, AppError> {
    let f = async |ctx: &Ctx<'_>| command::unsubscribe(ctx, id, &b).await;
    run(&s, &p, Some(id), f).await?;
    Ok(StatusCode::NO_CONTENT)
}
