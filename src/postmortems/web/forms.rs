//! The postmortem page's forms, and the incident page's "Draft postmortem" button. Each one
//! checks the role (responders act), then the CSRF token, then runs one postmortem command;
//! on success it tells the incident's live pages (the command wrote to its timeline) and
//! redirects (303) back, on refusal it shows the page again with the reason under the
//! refusal's status (422 a bad request, 409 a state that does not allow it, 403 someone who
//! may not). "Preview" re-renders without saving; `preview` is the fragment the script asks
//! for while someone types.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::Role as AccountRole;
use crate::auth::extract::{Principal, WebUser};
use crate::http::AppState;
use crate::http::web::{OrPage, PageError};
use crate::incidents::command::Ctx;
use crate::incidents::markdown::markdown_html;
use crate::incidents::web::viewer;
use crate::postmortems::command::{self, ActionInput};
use crate::postmortems::{PostmortemError, store};

use super::page::{self, FlagView, Preview};
use super::{ACTIVE, day_start, may_read, pm_id};

/// Runs `$call` (a command taking `&Ctx`) for the postmortem in `$raw` after the role and
/// CSRF checks, then redirects to `$anchor` on its page or shows the refusal. A macro rather
/// than a function: each command borrows the context for its own future.
macro_rules! act {
    ($s:ident, $p:ident, $raw:ident, $csrf:expr, $anchor:expr, |$ctx:ident, $id:ident, $tz:ident| $call:expr) => {{
        let $id = pm_id(&$p, &$raw)?;
        $p.require(AccountRole::Responder).or_page(&$p, ACTIVE)?;
        $p.check_csrf($csrf).or_page(&$p, ACTIVE)?;
        let snap = $s.catalog().await.or_page(&$p, ACTIVE)?;
        let v = viewer(&$s.db, &snap, &$p).await.or_page(&$p, ACTIVE)?;
        #[allow(unused_variables)]
        let $tz = v.tz.as_str();
        let $ctx = Ctx {
            db: &$s.db,
            snap: &snap,
            now: $s.clock.now_ms(),
            actor: &v.actor,
            base_url: &$s.settings.base_url,
        };
        let result: Result<_, PostmortemError> = $call.await;
        finish(&$s, &$p, $id, result.map(|_| ()), $anchor).await
    }};
}

fn refused_status(e: &PostmortemError) -> StatusCode {
    match e {
        PostmortemError::NotFound => StatusCode::NOT_FOUND,
        PostmortemError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        PostmortemError::Conflict(_) => StatusCode::CONFLICT,
        PostmortemError::Forbidden(_) => StatusCode::FORBIDDEN,
        PostmortemError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn finish(
    s: &AppState,
    p: &Principal,
    id: i64,
    result: Result<(), PostmortemError>,
    anchor: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => {
            s.live.changed(id);
            Ok(Redirect::to(&format!("/postmortems/{id}#{anchor}")).into_response())
        }
        Err(e @ (PostmortemError::Store(_) | PostmortemError::NotFound)) => {
            Err(PageError::new(p, ACTIVE, e))
        }
        Err(e) => page::refused(s, p, id, refused_status(&e), e.to_string()).await,
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct Plain {
    #[serde(default)]
    csrf: String,
}

/// `POST /incidents/{id}/postmortem`: drafts it in one click and opens it; a refusal (still
/// open, already drafted) shows the incident page with the reason.
pub async fn draft(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<Plain>,
) -> Result<Response, PageError> {
    let id = pm_id(&p, &raw)?;
    p.require(AccountRole::Responder).or_page(&p, "incidents")?;
    p.check_csrf(&f.csrf).or_page(&p, "incidents")?;
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "incidents")?;
    let ctx = Ctx {
        db: &s.db,
        snap: &snap,
        now: s.clock.now_ms(),
        actor: &v.actor,
        base_url: &s.settings.base_url,
    };
    let template = &s.settings.postmortem_template;
    match command::draft_incident(&ctx, id, template).await {
        Ok(_) => {
            s.live.changed(id);
            Ok(Redirect::to(&format!("/postmortems/{id}")).into_response())
        }
        Err(e @ PostmortemError::Store(_)) => Err(PageError::new(&p, "incidents", e)),
        Err(e) => {
            let status = refused_status(&e);
            crate::incidents::web::page::refused(&s, &p, id, status, e.to_string()).await
        }
    }
}

#[derive(Deserialize)]
pub struct SectionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    /// `preview` shows the text rendered without saving; anything else saves.
    #[serde(default)]
    action: String,
}

pub async fn section(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path((raw, key)): Path<(String, String)>,
    Form(f): Form<SectionForm>,
) -> Result<Response, PageError> {
    if f.action == "preview" {
        let id = pm_id(&p, &raw)?;
        p.require(AccountRole::Responder).or_page(&p, ACTIVE)?;
        p.check_csrf(&f.csrf).or_page(&p, ACTIVE)?;
        let preview = Preview {
            section: key,
            body: f.body,
        };
        return page::previewed(&s, &p, id, preview).await;
    }
    let anchor = format!("s-{key}");
    act!(s, p, raw, &f.csrf, &anchor, |ctx, id, tz| {
        command::edit_section(&ctx, id, &key, &f.body)
    })
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    body: String,
}

pub async fn comment(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Response, PageError> {
    let anchor = format!("s-{}", f.section);
    act!(s, p, raw, &f.csrf, &anchor, |ctx, id, tz| {
        command::comment(&ctx, id, f.section.trim(), &f.body)
    })
}

#[derive(Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner: String,
}

pub async fn details(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<DetailsForm>,
) -> Result<Response, PageError> {
    let owner = Some(f.owner.trim()).filter(|o| !o.is_empty());
    act!(s, p, raw, &f.csrf, "facts", |ctx, id, tz| {
        command::set_details(&ctx, id, Some(&f.title), owner)
    })
}

#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
}

pub async fn add_reviewer(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<PersonForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "reviewers", |ctx, id, tz| {
        command::add_reviewer(&ctx, id, f.person.trim())
    })
}

pub async fn remove_reviewer(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<PersonForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "reviewers", |ctx, id, tz| {
        command::remove_reviewer(&ctx, id, f.person.trim())
    })
}

pub async fn submit(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<Plain>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "workflow", |ctx, id, tz| {
        command::submit(&ctx, id)
    })
}

pub async fn approve(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<Plain>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "workflow", |ctx, id, tz| {
        command::approve(&ctx, id)
    })
}

pub async fn request_changes(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Response, PageError> {
    let comment = Some((f.section.trim(), f.body.as_str())).filter(|(k, _)| !k.is_empty());
    act!(s, p, raw, &f.csrf, "workflow", |ctx, id, tz| {
        command::request_changes(&ctx, id, comment)
    })
}

pub async fn publish(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<Plain>,
) -> Result<Response, PageError> {
    let admin = p.is_admin();
    act!(s, p, raw, &f.csrf, "workflow", |ctx, id, tz| {
        command::publish(&ctx, id, admin)
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    team: String,
    /// A date (YYYY-MM-DD) in the viewer's zone; the item is due at the end of that day.
    #[serde(default)]
    due: String,
    /// For the done toggle: `done` or `open`.
    #[serde(default)]
    status: String,
}

/// The end of `day` in `tz` (its last millisecond): due "on the 20th" is not late on the 20th.
fn due_at(day: &str, tz: &str) -> Result<Option<i64>, PostmortemError> {
    if day.trim().is_empty() {
        return Ok(None);
    }
    let start = day_start(day, tz).ok_or_else(|| {
        PostmortemError::Invalid(format!("the due date must be YYYY-MM-DD, not {day:?}"))
    })?;
    Ok(Some(start + 86_400_000 - 1))
}

pub async fn add_action(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<ActionForm>,
) -> Result<Response, PageError> {
    let some = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    act!(s, p, raw, &f.csrf, "actions", |ctx, id, tz| async {
        let input = ActionInput {
            // Sent even when empty so the command names what is missing.
            title: Some(f.title.clone()),
            kind: some(&f.kind),
            owner: some(&f.owner),
            team: some(&f.team),
            due_at: due_at(&f.due, tz)?,
            status: None,
        };
        command::add_action(&ctx, id, &input).await
    })
}

pub async fn update_action(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path((raw, aid)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "actions", |ctx, id, tz| async {
        let aid: i64 = aid.parse().map_err(|_| PostmortemError::NotFound)?;
        let input = ActionInput {
            status: Some(f.status.trim().to_string()),
            ..ActionInput::default()
        };
        command::update_action(&ctx, id, aid, &input).await
    })
}

pub async fn delete_action(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path((raw, aid)): Path<(String, String)>,
    Form(f): Form<Plain>,
) -> Result<Response, PageError> {
    act!(s, p, raw, &f.csrf, "actions", |ctx, id, tz| async {
        let aid: i64 = aid.parse().map_err(|_| PostmortemError::NotFound)?;
        command::delete_action(&ctx, id, aid).await
    })
}

/// The live preview: the text rendered (sanitised) and its blameless flags.
#[derive(Template, WebTemplate)]
#[template(path = "postmortems/_preview.html")]
pub struct PreviewFragment {
    html: String,
    flags: Vec<FlagView>,
}

#[derive(Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

/// `POST /postmortems/{id}/preview`: the fragment `static/postmortem.js` shows while typing.
pub async fn preview(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Form(f): Form<PreviewForm>,
) -> Result<Response, PageError> {
    let id = pm_id(&p, &raw)?;
    p.require(AccountRole::Responder).or_page(&p, ACTIVE)?;
    p.check_csrf(&f.csrf).or_page(&p, ACTIVE)?;
    let pm = {
        let mut tx = s.db.begin_read().await.or_page(&p, ACTIVE)?;
        store::get(&mut tx, id).await.or_page(&p, ACTIVE)?
    };
    may_read(&p, pm.status)?;
    if f.body.len() > command::BODY_MAX {
        let e = PostmortemError::Invalid(format!(
            "a section holds at most {} bytes",
            command::BODY_MAX
        ));
        return Err(PageError::new(&p, ACTIVE, e));
    }
    let snap = s.catalog().await.or_page(&p, ACTIVE)?;
    Ok(PreviewFragment {
        html: markdown_html(&f.body),
        flags: page::flags(&snap.catalog, &f.body),
    }
    .into_response())
}
