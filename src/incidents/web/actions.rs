//! The incident page's forms. Each one checks the role (responders act), then the CSRF
//! token, then runs one command; on success it announces the change to live pages and
//! redirects (303) back to the page, on refusal it shows the page again with the reason under
//! the refusal's status (422 for a bad request, 409 for a state that does not allow it).

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::Role as AccountRole;
use crate::auth::extract::{Principal, WebUser};
use crate::http::AppState;
use crate::http::web::{OrPage, PageError};
use crate::incidents::command::{self, Ctx, NewNote, NewUpdate};
use crate::incidents::{EntryKind, IncidentError, Role, Status, Subscriber};

use super::{incident_id, refused_status, viewer};

/// Runs `$call` (a command taking `&Ctx`) for the incident in `$raw` after the role and CSRF
/// checks, then redirects to `$anchor` on the page or shows the refusal. A macro rather than
/// a function: each command borrows the context for its own future.
macro_rules! act {
    ($s:ident, $p:ident, $raw:ident, $csrf:expr, $anchor:expr, |$ctx:ident, $id:ident| $call:expr) => {{
        let $id = incident_id(&$p, &$raw)?;
        $p.require(AccountRole::Responder)
            .or_page(&$p, "incidents")?;
        $p.check_csrf($csrf).or_page(&$p, "incidents")?;
        let snap = $s.catalog().await.or_page(&$p, "incidents")?;
        let v = viewer(&$s.db, &snap, &$p).await.or_page(&$p, "incidents")?;
        let $ctx = Ctx {
            db: &$s.db,
            snap: &snap,
            now: $s.clock.now_ms(),
            actor: &v.actor,
            base_url: &$s.settings.base_url,
        };
        let result: Result<_, IncidentError> = $call.await;
        finish(&$s, &$p, $id, result.map(|_| ()), $anchor).await
    }};
}

async fn finish(
    s: &AppState,
    p: &Principal,
    id: i64,
    result: Result<(), IncidentError>,
    anchor: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => {
            s.live.changed(id);
            Ok(Redirect::to(&format!("/incidents/{id}#{anchor}")).into_response())
        }
        Err(e @ (IncidentError::Store(_) | IncidentError::NotFound)) => {
            Err(PageError::new(p, "incidents", e))
        }
        Err(e) => super::page::refused(s, p, id, refused_status(&e), e.to_string()).await,
    }
}

/// A field that must name one of a fixed set; anything else is refused like a bad command.
fn pick<T>(
    field: &str,
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, IncidentError> {
    parse(value.trim()).ok_or_else(|| {
        IncidentError::Invalid(format!("{field} {value:?} is not one of the choices"))
    })
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn status(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<StatusForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "incident", |ctx, id| async {
        let to = pick("status", &f.status, Status::parse)?;
        command::set_status(&ctx, id, to, &f.note).await
    })
}

#[derive(Deserialize)]
pub struct SeverityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    severity: String,
}

pub async fn severity(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<SeverityForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "incident", |ctx, id| {
        command::set_severity(&ctx, id, f.severity.trim())
    })
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    previous_becomes: String,
}

pub async fn role(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "h-roles", |ctx, id| async {
        let role = pick("role", &f.role, Role::parse)?;
        let previous = match f.previous_becomes.trim() {
            "" => None,
            other => Some(pick("previous_becomes", other, Role::parse)?),
        };
        command::assign(&ctx, id, role, f.person.trim(), &f.note, previous).await
    })
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    team: String,
}

pub async fn team(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<TeamForm>,
) -> Result<Response, PageError> {
    let response = act!(s, p, raw, &f.csrf, "h-participants", |ctx, id| {
        command::add_team(&ctx, id, f.team.trim())
    });
    // The team's page is a new alert: wake the engine so it goes out now, as the API does.
    s.wake.notify_one();
    response
}

#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
}

pub async fn investigator(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<PersonForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "h-participants", |ctx, id| {
        command::add_investigator(&ctx, id, f.person.trim())
    })
}

#[derive(Deserialize)]
pub struct SubscriberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
}

impl SubscriberForm {
    fn subscriber(&self) -> Subscriber {
        Subscriber {
            kind: self.kind.trim().to_string(),
            target: self.target.trim().to_string(),
        }
    }
}

pub async fn subscribe(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<SubscriberForm>,
) -> Result<Response, PageError> {
    let sub = f.subscriber();
    act!(s, p, raw, &f.csrf, "h-subscribers", |ctx, id| async {
        if command::subscribe(&ctx, id, &sub).await? {
            Ok(())
        } else {
            Err(IncidentError::Conflict(format!(
                "{} {} is already subscribed",
                sub.kind, sub.target
            )))
        }
    })
}

pub async fn unsubscribe(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<SubscriberForm>,
) -> Result<Response, PageError> {
    let sub = f.subscriber();
    act!(s, p, raw, &f.csrf, "h-subscribers", |ctx, id| {
        command::unsubscribe(&ctx, id, &sub)
    })
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    next_update_minutes: String,
}

pub async fn update(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<UpdateForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "timeline", |ctx, id| async {
        let status = match f.status.trim() {
            "" => None,
            other => Some(pick("status", other, Status::parse)?),
        };
        let next_update_minutes = match f.next_update_minutes.trim() {
            "" => None,
            m => Some(m.parse::<u32>().map_err(|_| {
                IncidentError::Invalid(format!(
                    "next update must be a number of minutes, not {m:?}"
                ))
            })?),
        };
        let u = NewUpdate {
            status,
            impact: f.impact.clone(),
            actions: f.actions.clone(),
            next_update_minutes,
        };
        command::post_update(&ctx, id, &u).await
    })
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    link_url: String,
    #[serde(default)]
    image_url: String,
    #[serde(default)]
    starred: String,
}

pub async fn note(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "timeline", |ctx, id| async {
        let kind = match f.kind.trim() {
            "" => EntryKind::Note,
            k => pick("kind", k, EntryKind::parse)?,
        };
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let n = NewNote {
            kind,
            body: f.body.clone(),
            link_url: opt(&f.link_url),
            image_url: opt(&f.image_url),
            starred: !f.starred.is_empty() && f.starred != "0",
        };
        command::add_entry(&ctx, id, &n).await
    })
}

#[derive(Deserialize)]
pub struct StarForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    starred: String,
}

pub async fn star(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path((raw, entry)): Path<(String, String)>,
    Form(f): Form<StarForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "timeline", |ctx, id| async {
        // An entry id that is not a number names no entry of this incident.
        let entry: i64 = entry.parse().map_err(|_| IncidentError::NotFound)?;
        command::star(&ctx, id, entry, f.starred == "1").await
    })
}
