//! One alert's page: what it is, where it came from, its playbook, where its escalation
//! stands, every page queued for it (the outbox) and its full event log, with the Acknowledge
//! and Resolve buttons for responders. Sender-supplied links and images are shown as links, and
//! only when they are http(s): a `javascript:` URL from a sender must never become clickable,
//! and a remote image must never load in a responder's browser.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::auth::extract::WebUser;
use crate::catalog::Catalog;
use crate::clock::format_ms;
use crate::engine::store as engine;
use crate::http::AppState;
use crate::http::web::{Layout, OrPage, PageError};
use crate::notify::message::{self, severity_label};

use crate::alerts::lifecycle::{Alert, Status};
use crate::alerts::store::{self, LogEntry};

/// A link as the page shows it: `href` empty when the URL is not http(s), so it stays text.
pub struct LinkView {
    pub href: String,
    pub text: String,
}

impl LinkView {
    fn new(url: &str, text: &str) -> Self {
        let url = url.trim();
        let lower = url.to_ascii_lowercase();
        let web = lower.starts_with("https://") || lower.starts_with("http://");
        Self {
            href: if web { url.to_string() } else { String::new() },
            text: if text.trim().is_empty() {
                url.to_string()
            } else {
                text.to_string()
            },
        }
    }
}

/// The runbook to follow when no configured playbook applies, and where it came from
/// (`templates/alerts/runbook.html`).
pub struct Runbook {
    pub link: Option<LinkView>,
    /// "the alert's runbook_url annotation" or "the service's links".
    pub from: &'static str,
}

/// Where the alert's escalation stands.
pub struct EscalationView {
    pub policy_id: String,
    pub policy: String,
    /// 1-based, as people count levels.
    pub next_level: usize,
    pub round: u32,
    pub next_at: String,
    pub active: bool,
}

/// One queued page.
pub struct OutboxView {
    pub person_id: String,
    pub person: String,
    pub level: usize,
    pub round: u32,
    pub status: String,
    pub attempts: u32,
    pub last_error: String,
    pub sent_at: String,
    /// webhook, slack, mattermost or email; "bundle" rows carry several alerts.
    pub channel: String,
    pub kind: String,
    /// When it is (or was) due to go out.
    pub due: String,
    /// Every attempt at sending it, oldest first.
    pub tries: Vec<AttemptView>,
}

/// One attempt at sending a page.
pub struct AttemptView {
    pub at: String,
    pub ok: bool,
    pub error: String,
    pub duration_ms: i64,
}

pub struct LogView {
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "alerts/alert.html")]
pub struct AlertPage {
    layout: Layout,
    a: Alert,
    status: &'static str,
    severity: &'static str,
    severity_label: &'static str,
    service_name: String,
    service_known: bool,
    created: String,
    started: String,
    last_seen: String,
    acknowledged: String,
    resolved: String,
    details: String,
    links: Vec<LinkView>,
    images: Vec<LinkView>,
    runbook: Runbook,
    /// The playbook an alert rule attached (`templates/alerts/playbook.html`).
    playbook: Option<crate::alerts::playbook::PlaybookView>,
    escalation: Option<EscalationView>,
    outbox: Vec<OutboxView>,
    log: Vec<LogView>,
    can_acknowledge: bool,
    can_resolve: bool,
    /// The incident this alert belongs to (the newest, when several), else whether the
    /// person may declare one from it.
    incident: Option<i64>,
    can_declare: bool,
    flash: &'static str,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
}

/// What the redirect after a button says; unknown words say nothing.
fn flash(done: Option<&str>) -> &'static str {
    match done {
        Some("acknowledged") => "You acknowledged this alert; its escalation has stopped.",
        Some("already-acknowledged") => "It was already acknowledged; nothing changed.",
        Some("resolved") => "You resolved this alert.",
        Some("already-resolved") => "It was already resolved; nothing changed.",
        _ => "",
    }
}

fn when(ms: Option<i64>) -> String {
    ms.map(format_ms).unwrap_or_default()
}

fn person_name(c: &Catalog, id: &str) -> String {
    c.person(id)
        .map_or_else(|| id.to_string(), |p| p.name.clone())
}

pub async fn page(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<AlertPage, PageError> {
    let (a, log) = store::get(&s.db, &id).await.or_page(&p, "alerts")?;
    let c = s.catalog().await.or_page(&p, "alerts")?;
    let escalation = engine::escalation(&s.db, &id).await.or_page(&p, "alerts")?;
    let outbox = engine::outbox_for_alert(&s.db, &id)
        .await
        .or_page(&p, "alerts")?;
    let service = c.service(&a.service);
    let from_alert = a
        .annotations
        .get("runbook_url")
        .is_some_and(|u| !u.is_empty());
    let routing = crate::alerts::automation::store::routing(&s.db, &id)
        .await
        .or_page(&p, "alerts")?;
    let playbook = routing
        .playbook
        .as_deref()
        .and_then(|pb| c.playbook(pb))
        .map(|pb| crate::alerts::playbook::view(pb, &id, p.is_responder(), &p.csrf));
    let runbook = Runbook {
        link: message::playbook(&a, service).map(|l| LinkView::new(&l.url, &l.title)),
        from: if from_alert {
            "the alert's runbook_url annotation"
        } else {
            "the service's links"
        },
    };
    let escalation = escalation.map(|e| EscalationView {
        policy: c
            .escalation_policy(&e.policy_id)
            .map_or_else(|| e.policy_id.clone(), |x| x.name.clone()),
        policy_id: e.policy_id,
        next_level: e.cursor.level.saturating_add(1),
        round: e.cursor.round.saturating_add(1),
        next_at: format_ms(e.cursor.at),
        active: e.state == "active",
    });
    let incident = {
        let mut tx = s.db.begin_read().await.or_page(&p, "alerts")?;
        crate::incidents::store::incidents_of_alert(&mut tx, &id)
            .await
            .or_page(&p, "alerts")?
            .first()
            .copied()
    };
    let attempts = engine::attempts_for_alert(&s.db, &id)
        .await
        .or_page(&p, "alerts")?;
    let outbox = outbox
        .into_iter()
        .map(|o| OutboxView {
            tries: attempts
                .iter()
                .filter(|t| t.outbox_id == o.id)
                .map(|t| AttemptView {
                    at: format_ms(t.at),
                    ok: t.ok,
                    error: t.error.clone().unwrap_or_default(),
                    duration_ms: t.duration_ms,
                })
                .collect(),
            channel: o.channel,
            kind: o.kind,
            due: format_ms(o.next_attempt_at),
            person: person_name(&c, &o.person_id),
            person_id: o.person_id,
            level: o.level.saturating_add(1),
            round: o.round.saturating_add(1),
            status: o.status,
            attempts: o.attempts,
            last_error: o.last_error.unwrap_or_default(),
            sent_at: when(o.sent_at),
        })
        .collect();
    let by = |who: &Option<String>, at: Option<i64>| match (who, at) {
        (Some(w), Some(t)) => format!("{w} at {}", format_ms(t)),
        (None, Some(t)) => format_ms(t),
        _ => String::new(),
    };
    let details = if a.details.is_null() {
        String::new()
    } else {
        serde_json::to_string_pretty(&a.details).unwrap_or_default()
    };
    Ok(AlertPage {
        layout: Layout::new(&p, "alerts", a.summary.clone()),
        status: a.status.as_str(),
        severity: a.severity.map_or("", store::severity_str),
        severity_label: severity_label(a.severity),
        service_name: service.map_or_else(|| a.service.clone(), |x| x.name.clone()),
        service_known: service.is_some(),
        created: format_ms(a.created_at),
        started: when(a.started_at),
        last_seen: format_ms(a.last_event_at),
        acknowledged: by(&a.acknowledged_by, a.acknowledged_at),
        resolved: by(&a.resolved_by, a.resolved_at),
        details,
        links: a
            .links
            .iter()
            .map(|l| LinkView::new(&l.href, &l.text))
            .collect(),
        images: a
            .images
            .iter()
            .map(|i| LinkView::new(&i.src, &i.alt))
            .collect(),
        runbook,
        playbook,
        escalation,
        outbox,
        log: log.into_iter().map(log_view).collect(),
        can_acknowledge: p.is_responder() && a.status == Status::Triggered,
        can_resolve: p.is_responder() && a.status != Status::Resolved,
        can_declare: p.is_responder() && incident.is_none(),
        incident,
        flash: flash(q.done.as_deref()),
        a,
    })
}

fn log_view(e: LogEntry) -> LogView {
    LogView {
        at: format_ms(e.at),
        kind: e.kind,
        actor: e.actor,
        detail: e.detail,
    }
}
