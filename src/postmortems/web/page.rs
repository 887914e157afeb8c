//! One postmortem's page: the facts (status, incident, date, duration, owner, reviewers and
//! their approvals, due date), then each section in the template's order with its help text,
//! the sanitised rendering of what was written, the blameless flags beside it, its review
//! comments and, while it is not published, its edit and comment forms. The action items are
//! a table with an add form and done toggles; the timeline is generated from the incident.
//! The workflow buttons follow the state and who is looking. A refused form and a preview
//! both come back here: the refusal with its reason, the preview with the unsaved text.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::extract::{Principal, WebUser};
use crate::catalog::Catalog;
use crate::http::AppState;
use crate::http::web::{Layout, OrPage, PageError};
use crate::incidents::markdown::markdown_html;
use crate::incidents::metrics::duration_label;
use crate::incidents::store as istore;
use crate::incidents::web::{Choice, SevView, viewer};
use crate::oncall::current::{local_time, person_name};
use crate::postmortems::{
    ActionItem, ActionKind, Fill, PmFull, PmStatus, PostmortemError, Section,
};
use crate::postmortems::{blameless, render, store, workflow};

use super::{ACTIVE, may_read, people, pm_id, teams};

pub struct FlagView {
    pub phrase: String,
    pub why: String,
    pub suggestion: String,
}

pub struct CommentView {
    pub author: String,
    pub at: String,
    pub html: String,
}

pub struct SectionView {
    pub key: String,
    pub title: String,
    pub help: String,
    pub required: bool,
    /// Required and not written yet: submitting is refused until it is.
    pub missing: bool,
    /// `text`, `actions` (the table comes first) or `timeline` (generated table first).
    pub kind: &'static str,
    /// The textarea's text: the saved body, or the previewed one.
    pub body: String,
    pub html: String,
    pub generated_html: String,
    pub flags: Vec<FlagView>,
    pub comments: Vec<CommentView>,
    /// The rendered preview of unsaved text, empty when not previewing this section.
    pub preview_html: String,
    pub previewing: bool,
    pub updated: String,
}

pub struct ActionView {
    pub id: i64,
    pub title: String,
    pub kind: &'static str,
    pub owner: String,
    pub team: String,
    pub due: String,
    /// `done`, `overdue` or `open`.
    pub state: &'static str,
    pub done: bool,
    pub backlog_key: String,
    pub backlog_url: String,
}

pub struct ReviewerView {
    pub person_id: String,
    pub name: String,
    /// When they approved, empty while waiting.
    pub approved: String,
}

/// Unsaved text of one section to show rendered, with its flags, instead of the saved body.
pub struct Preview {
    pub section: String,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "postmortems/page.html")]
pub struct PmPage {
    layout: Layout,
    id: i64,
    reference: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    incident_title: String,
    incident_status: &'static str,
    severity: SevView,
    date: String,
    duration: String,
    owner: String,
    reviewers: Vec<ReviewerView>,
    due: String,
    overdue: bool,
    published: String,
    sections: Vec<SectionView>,
    actions: Vec<ActionView>,
    missing: Vec<String>,
    tz: String,
    can_edit: bool,
    /// Marking action items done or open: follow-up work goes on after publication.
    can_track: bool,
    can_submit: bool,
    can_approve: bool,
    can_send_back: bool,
    can_publish: bool,
    owners: Vec<Choice>,
    candidates: Vec<Choice>,
    people: Vec<Choice>,
    teams: Vec<Choice>,
    kinds: Vec<&'static str>,
    error: String,
}

/// Flags for `text`, checked against every person's name in the catalog.
pub fn flags(c: &Catalog, text: &str) -> Vec<FlagView> {
    let names: Vec<String> = c.people.iter().map(|x| x.name.clone()).collect();
    blameless::check(text, &names)
        .into_iter()
        .map(|f| FlagView {
            phrase: f.phrase,
            why: f.why,
            suggestion: f.suggestion,
        })
        .collect()
}

fn action_view(c: &Catalog, a: &ActionItem, tz: &str, now: i64) -> ActionView {
    ActionView {
        id: a.id,
        title: a.title.clone(),
        kind: a.kind.as_str(),
        owner: person_name(c, &a.owner),
        team: c
            .team(&a.team)
            .map_or_else(|| a.team.clone(), |t| t.name.clone()),
        due: a.due_at.map(|d| local_time(d, tz)).unwrap_or_default(),
        state: if a.is_done() {
            "done"
        } else if a.is_overdue(now) {
            "overdue"
        } else {
            "open"
        },
        done: a.is_done(),
        backlog_key: a.backlog_key.clone().unwrap_or_default(),
        backlog_url: a.backlog_url.clone().unwrap_or_default(),
    }
}

fn section_view(
    c: &Catalog,
    pm: &PmFull,
    s: &Section,
    timeline_html: &str,
    tz: &str,
    preview: Option<&Preview>,
) -> SectionView {
    let preview = preview.filter(|x| x.section == s.key);
    let text = preview.map_or(s.body.as_str(), |x| x.body.as_str());
    let kind = match s.fill {
        Fill::ActionItems => "actions",
        Fill::Timeline => "timeline",
        _ => "text",
    };
    SectionView {
        key: s.key.clone(),
        title: s.title.clone(),
        help: s.help.clone(),
        required: s.required,
        missing: s.required && !workflow::is_filled(s, pm.actions.len()),
        kind,
        body: text.to_string(),
        html: if workflow::is_blank(&s.body) {
            String::new()
        } else {
            markdown_html(&s.body)
        },
        generated_html: if kind == "timeline" {
            timeline_html.to_string()
        } else {
            String::new()
        },
        flags: flags(c, text),
        comments: pm
            .comments
            .iter()
            .filter(|x| x.section == s.key)
            .map(|x| CommentView {
                author: x.author.clone(),
                at: local_time(x.at, tz),
                html: markdown_html(&x.body),
            })
            .collect(),
        preview_html: preview.map(|x| markdown_html(&x.body)).unwrap_or_default(),
        previewing: preview.is_some(),
        updated: format!("{} by {}", local_time(s.updated_at, tz), s.updated_by),
    }
}

/// The page for postmortem `id`; `error` is a refused form's reason, `preview` unsaved text.
pub async fn build(
    s: &AppState,
    p: &Principal,
    id: i64,
    error: String,
    preview: Option<Preview>,
) -> Result<PmPage, PageError> {
    let snap = s.catalog().await.or_page(p, ACTIVE)?;
    let c = &snap.catalog;
    let pm = store::full(&s.db, id).await.or_page(p, ACTIVE)?;
    may_read(p, pm.postmortem.status)?;
    if let Some(x) = preview.as_ref()
        && !pm.sections.iter().any(|sec| sec.key == x.section)
    {
        let e = PostmortemError::Invalid(format!("this postmortem has no section {:?}", x.section));
        return Err(PageError::new(p, ACTIVE, e));
    }
    let f = istore::full(&s.db, id).await.or_page(p, ACTIVE)?;
    let v = viewer(&s.db, &snap, p).await.or_page(p, ACTIVE)?;
    let tz = v.tz.as_str();
    let now = s.clock.now_ms();
    let pmx = &pm.postmortem;
    let i = &f.incident;
    let me = v.actor.person.as_deref();
    let responder = p.is_responder();
    let status = pmx.status;
    let open = status != PmStatus::Published;
    let reviewer =
        |who: Option<&str>| who.and_then(|w| pm.reviewers.iter().find(|r| r.person_id == w));
    let timeline_html = markdown_html(&render::timeline(&f, tz));
    let sections = pm
        .sections
        .iter()
        .map(|x| section_view(c, &pm, x, &timeline_html, tz, preview.as_ref()))
        .collect();
    let mut skip: Vec<&str> = pm.reviewers.iter().map(|r| r.person_id.as_str()).collect();
    skip.push(&pmx.owner);
    let end = i.resolved_at.unwrap_or(now);
    Ok(PmPage {
        layout: Layout::new(
            p,
            ACTIVE,
            format!("Postmortem {}: {}", i.reference(), pmx.title),
        ),
        id,
        reference: i.reference(),
        title: pmx.title.clone(),
        status: status.as_str(),
        status_label: status.label(),
        incident_title: i.title.clone(),
        incident_status: i.status.as_str(),
        severity: SevView::new(c, &i.severity),
        date: local_time(i.started_at, tz),
        duration: duration_label(end - i.started_at),
        owner: if pmx.owner.is_empty() {
            String::new()
        } else {
            person_name(c, &pmx.owner)
        },
        reviewers: pm
            .reviewers
            .iter()
            .map(|r| ReviewerView {
                person_id: r.person_id.clone(),
                name: person_name(c, &r.person_id),
                approved: r.approved_at.map(|a| local_time(a, tz)).unwrap_or_default(),
            })
            .collect(),
        due: pmx.due_at.map(|d| local_time(d, tz)).unwrap_or_default(),
        overdue: open && workflow::overdue(pmx.due_at, now),
        published: pmx
            .published_at
            .map(|at| {
                let by = pmx.published_by.clone().unwrap_or_default();
                format!("{} by {by}", local_time(at, tz))
            })
            .unwrap_or_default(),
        sections,
        actions: pm
            .actions
            .iter()
            .map(|a| action_view(c, a, tz, now))
            .collect(),
        missing: if status == PmStatus::Draft {
            workflow::missing(&pm)
        } else {
            Vec::new()
        },
        tz: v.tz.clone(),
        can_edit: responder && open,
        can_track: responder,
        can_submit: responder && status == PmStatus::Draft,
        can_approve: responder
            && status == PmStatus::InReview
            && reviewer(me).is_some_and(|r| r.approved_at.is_none()),
        can_send_back: responder
            && status == PmStatus::InReview
            && (reviewer(me).is_some() || me == Some(pmx.owner.as_str())),
        can_publish: responder && status == PmStatus::InReview,
        owners: people(c, &pmx.owner, &[]),
        candidates: people(c, "", &skip),
        people: people(c, "", &[]),
        teams: teams(c, ""),
        kinds: ActionKind::ALL.map(ActionKind::as_str).to_vec(),
        error,
    })
}

/// `GET /postmortems/{id}`.
pub async fn show(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
) -> Result<PmPage, PageError> {
    let id = pm_id(&p, &raw)?;
    build(&s, &p, id, String::new(), None).await
}

/// The page again with a refused form's reason, under the refusal's status (422, 409, 403).
pub async fn refused(
    s: &AppState,
    p: &Principal,
    id: i64,
    status: StatusCode,
    error: String,
) -> Result<Response, PageError> {
    let page = build(s, p, id, error, None).await?;
    Ok((status, page).into_response())
}

/// The page with `preview` rendered in place of its section's saved text (nothing saved).
pub async fn previewed(
    s: &AppState,
    p: &Principal,
    id: i64,
    preview: Preview,
) -> Result<Response, PageError> {
    let page = build(s, p, id, String::new(), Some(preview)).await?;
    Ok(page.into_response())
}
