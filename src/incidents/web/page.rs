//! One incident's page: the header (severity and status with their forms), impact, roles with
//! their history and the hand-over form, participants, subscribers, response metrics, the
//! stakeholder update and note composers, the timeline, the incident's messages, and its
//! postmortem (a link with its status, or once resolved the one-click "Draft postmortem"
//! button). Times are in the viewer's zone. A form that was refused comes back here with the reason. Also
//! the incident's document page: the living document (`incidents::document`) rendered from
//! the current state on every request, with a link to the same document as Markdown.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::extract::{Principal, WebUser};
use crate::catalog::Catalog;
use crate::http::AppState;
use crate::http::web::{Layout, OrPage, PageError};
use crate::incidents::metrics::{self, duration_label};
use crate::incidents::store::{self, messages::Message};
use crate::incidents::{EntryKind, Full, Role, SUBSCRIBER_KINDS, Status, document};
use crate::oncall::current::{local_time, person_name};

use super::timeline::Renderer;
use super::{Choice, SevView, choices, incident_id, viewer};

/// A role's current holder, for the roles panel and the live header.
pub struct HolderView {
    pub role: &'static str,
    pub title: &'static str,
    pub person: String,
    pub since: String,
    pub note: String,
    /// Tocsin asked them to hand over (their on-call shift ended).
    pub prompted: bool,
}

pub struct StintView {
    pub title: &'static str,
    pub person: String,
    pub from: String,
    pub to: String,
    pub by: String,
    pub note: String,
}

pub struct AlertView {
    pub id: String,
    pub summary: String,
    pub status: &'static str,
}

pub struct MessageView {
    pub channel: String,
    pub target: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub error: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/incident.html")]
pub struct IncidentPage {
    layout: Layout,
    id: i64,
    reference: String,
    title: String,
    status: &'static str,
    open: bool,
    severity: SevView,
    declared: String,
    declared_by: String,
    source: String,
    started: String,
    summary_html: String,
    functions: Vec<(String, String)>,
    services: Vec<(String, String)>,
    holders: Vec<HolderView>,
    history: Vec<StintView>,
    participants: Vec<String>,
    /// (kind, target, what to call them).
    subscribers: Vec<(String, String, String)>,
    metrics: Vec<(&'static str, String)>,
    next_update: String,
    overdue: String,
    entries: Vec<String>,
    last_entry: i64,
    alerts: Vec<AlertView>,
    messages: Vec<MessageView>,
    /// The postmortem's status label ("Draft", "In review", "Published"), empty when there
    /// is none yet.
    postmortem: &'static str,
    can_act: bool,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    roles: Vec<Choice>,
    people: Vec<Choice>,
    teams: Vec<Choice>,
    subscriber_kinds: Vec<&'static str>,
    note_kinds: Vec<&'static str>,
    error: String,
}

fn people(c: &Catalog) -> Vec<Choice> {
    let mut all: Vec<(&str, String)> = c
        .people
        .iter()
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    choices(all, "")
}

fn subscriber_label(c: &Catalog, kind: &str, target: &str) -> String {
    match kind {
        "person" => person_name(c, target),
        "team" => c
            .team(target)
            .map_or(target.to_string(), |t| t.name.clone()),
        _ => masked(target),
    }
}

/// A webhook URL's path is its secret (Slack and Mattermost incoming webhooks): pages show
/// only where it goes. Addresses and ids are shown whole.
pub fn masked(target: &str) -> String {
    match target.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            format!("{scheme}://{host}/…")
        }
        None => target.to_string(),
    }
}

fn message_view(m: Message, tz: &str) -> MessageView {
    MessageView {
        channel: m.channel,
        target: masked(&m.target),
        subject: m.subject,
        status: m.status,
        attempts: m.attempts,
        error: m.last_error.unwrap_or_default(),
        at: local_time(m.sent_at.unwrap_or(m.next_attempt_at), tz),
    }
}

/// The page for incident `id`, with `error` (a refused form's reason) shown at the top.
pub async fn build(
    s: &AppState,
    p: &Principal,
    id: i64,
    error: String,
) -> Result<IncidentPage, PageError> {
    let snap = s.catalog().await.or_page(p, "incidents")?;
    let c = &snap.catalog;
    let v = viewer(&s.db, &snap, p).await.or_page(p, "incidents")?;
    let tz = v.tz.as_str();
    let f: Full = store::full(&s.db, id).await.or_page(p, "incidents")?;
    let mut tx = s.db.begin_read().await.or_page(p, "incidents")?;
    let messages = store::messages::for_incident(&mut tx, id)
        .await
        .or_page(p, "incidents")?;
    let mut alerts = Vec::new();
    for a in &f.alerts {
        // Alerts are history; one that is gone still shows by its id.
        let (summary, status) = match crate::alerts::store::get_in(&mut tx, a).await {
            Ok(x) => (x.summary, x.status.as_str()),
            Err(_) => (String::new(), ""),
        };
        alerts.push(AlertView {
            id: a.clone(),
            summary,
            status,
        });
    }
    let postmortem = match crate::postmortems::store::get(&mut tx, id).await {
        Ok(pm) => pm.status.label(),
        Err(crate::db::StoreError::NotFound) => "",
        Err(e) => return Err(PageError::new(p, "incidents", e)),
    };
    drop(tx);
    let i = &f.incident;
    let now = s.clock.now_ms();
    let at = |ms: i64| local_time(ms, tz);
    let holders = Role::ALL
        .into_iter()
        .map(|r| {
            let h = f.holder(r);
            HolderView {
                role: r.as_str(),
                title: r.title(),
                person: h.map(|h| person_name(c, &h.person_id)).unwrap_or_default(),
                since: h.map(|h| at(h.from_at)).unwrap_or_default(),
                note: h.map(|h| h.handover_note.clone()).unwrap_or_default(),
                prompted: h.is_some_and(|h| h.prompted_at.is_some()),
            }
        })
        .collect();
    let history = f
        .roles
        .iter()
        .map(|r| StintView {
            title: r.role.title(),
            person: person_name(c, &r.person_id),
            from: at(r.from_at),
            to: r.to_at.map(at).unwrap_or_default(),
            by: r.assigned_by.clone(),
            note: r.handover_note.clone(),
        })
        .collect();
    let m = metrics::of(i);
    let d = |x: Option<i64>| x.map_or_else(|| "—".to_string(), duration_label);
    let renderer = Renderer {
        incident: id,
        tz,
        can_act: p.is_responder(),
        csrf: &p.csrf,
    };
    let (next_update, overdue) = match i.update_due_at.filter(|_| i.status.is_open()) {
        Some(due) if due < now => (at(due), duration_label(now - due)),
        Some(due) => (at(due), String::new()),
        None => (String::new(), String::new()),
    };
    let statuses = Status::ALL
        .into_iter()
        .filter(|x| i.status.may_become(*x).is_ok())
        .map(|x| (x.as_str(), x.as_str().to_string()));
    Ok(IncidentPage {
        layout: Layout::new(p, "incidents", format!("{}: {}", i.reference(), i.title)),
        id,
        reference: i.reference(),
        title: i.title.clone(),
        status: i.status.as_str(),
        open: i.status.is_open(),
        severity: SevView::new(c, &i.severity),
        declared: at(i.declared_at),
        declared_by: i.declared_by.clone(),
        source: i.source.clone(),
        started: at(i.started_at),
        summary_html: super::timeline::markdown_html(&i.summary),
        functions: f
            .functions
            .iter()
            .map(|x| (x.name.clone(), x.criticality.clone()))
            .collect(),
        services: f
            .services
            .iter()
            .map(|x| {
                (
                    x.clone(),
                    c.service(x).map_or(x.clone(), |y| y.name.clone()),
                )
            })
            .collect(),
        holders,
        history,
        participants: f
            .participants
            .iter()
            .map(|x| subscriber_label(c, &x.kind, &x.id))
            .collect(),
        subscribers: f
            .subscribers
            .iter()
            .map(|x| {
                let label = subscriber_label(c, &x.kind, &x.target);
                (x.kind.clone(), x.target.clone(), label)
            })
            .collect(),
        metrics: vec![
            ("Time to acknowledge", d(m.time_to_acknowledge_ms)),
            ("Time to declare", duration_label(m.time_to_declare_ms)),
            ("Time to mitigate", d(m.time_to_mitigate_ms)),
            ("Time to resolve", d(m.time_to_resolve_ms)),
        ],
        next_update,
        overdue,
        entries: renderer.entries(&f.timeline),
        last_entry: f.timeline.last().map_or(0, |e| e.id),
        alerts,
        messages: messages.into_iter().map(|x| message_view(x, tz)).collect(),
        postmortem,
        can_act: p.is_responder(),
        statuses: choices(statuses, ""),
        severities: choices(
            c.severities.iter().map(|x| (x.id.as_str(), x.name.clone())),
            &i.severity,
        ),
        roles: choices(Role::ALL.map(|r| (r.as_str(), r.title().to_string())), ""),
        people: people(c),
        teams: {
            let mut t: Vec<(&str, String)> = c
                .teams
                .iter()
                .map(|x| (x.id.as_str(), x.name.clone()))
                .collect();
            t.sort_by(|a, b| a.1.cmp(&b.1));
            choices(t, "")
        },
        subscriber_kinds: SUBSCRIBER_KINDS.to_vec(),
        note_kinds: EntryKind::ALL
            .into_iter()
            .filter(|k| k.is_written())
            .map(EntryKind::as_str)
            .collect(),
        error,
    })
}

/// `GET /incidents/{id}`.
pub async fn show(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
) -> Result<IncidentPage, PageError> {
    let id = incident_id(&p, &raw)?;
    build(&s, &p, id, String::new()).await
}

/// The page again with a refused form's reason, under the refusal's status (422, 409).
pub async fn refused(
    s: &AppState,
    p: &Principal,
    id: i64,
    status: StatusCode,
    error: String,
) -> Result<Response, PageError> {
    let page = build(s, p, id, error).await?;
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/document.html")]
pub struct DocumentPage {
    layout: Layout,
    id: i64,
    reference: String,
    tz: String,
    body: String,
}

pub async fn document(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
) -> Result<DocumentPage, PageError> {
    let id = incident_id(&p, &raw)?;
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "incidents")?;
    let full = store::full(&s.db, id).await.or_page(&p, "incidents")?;
    let md = document::markdown(&full, &snap.catalog, &v.tz, s.clock.now_ms());
    Ok(DocumentPage {
        layout: Layout::new(
            &p,
            "incidents",
            format!("{} document", full.incident.reference()),
        ),
        id,
        reference: full.incident.reference(),
        tz: v.tz,
        body: super::timeline::markdown_html(&md),
    })
}
