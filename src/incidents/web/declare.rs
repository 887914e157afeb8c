//! Declaring an incident from the web: the form (`/incidents/new`, optionally prefilled from
//! an alert), its POST, and the alert page's one-click "Declare incident" button. The form
//! shows Tocsin's severity suggestion for the chosen services and alerts ("Suggest severity"
//! re-renders the form with it, so it works without JavaScript); a refused declaration
//! re-renders the form with what was typed and the reason, never a bare error page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Role;
use crate::auth::extract::{Principal, WebUser};
use crate::catalog::snapshot::Snapshot;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::incidents::command::{self, Ctx, Declaration, TITLE_MAX};
use crate::incidents::{IncidentError, store, suggest};

use super::{Choice, choices, viewer};

/// The form's fields, read from repeated `key=value` pairs (services and alerts repeat).
#[derive(Default)]
struct Fields {
    csrf: String,
    action: String,
    title: String,
    severity: String,
    services: Vec<String>,
    alerts: Vec<String>,
    summary: String,
    channel_kind: String,
    channel_url: String,
}

impl Fields {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "action" => f.action = v,
                "title" => f.title = v,
                "severity" => f.severity = v.trim().to_string(),
                "service" if !v.trim().is_empty() => f.services.push(v.trim().to_string()),
                "alert" if !v.trim().is_empty() => f.alerts.push(v.trim().to_string()),
                "summary" => f.summary = v,
                "channel_kind" => f.channel_kind = v.trim().to_string(),
                "channel_url" => f.channel_url = v.trim().to_string(),
                // Unknown fields are ignored like a browser's extra inputs would be.
                _ => {}
            }
        }
        f
    }

    fn declaration(&self) -> Declaration {
        let opt = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        Declaration {
            title: self.title.clone(),
            severity: opt(&self.severity),
            services: self.services.clone(),
            alerts: self.alerts.clone(),
            summary: self.summary.clone(),
            commander: None,
            channel_kind: opt(&self.channel_kind),
            channel_url: opt(&self.channel_url),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/new.html")]
pub struct NewPage {
    layout: Layout,
    title: String,
    severities: Vec<Choice>,
    services: Vec<Choice>,
    alerts: Vec<String>,
    summary: String,
    channel_kind: String,
    channel_url: String,
    /// Tocsin's proposal: the level's name and why.
    suggestion: Option<(String, String)>,
    error: String,
}

/// The severity Tocsin proposes for these services and alerts (unknown alerts are skipped:
/// declaring names them).
async fn suggestion(
    s: &AppState,
    snap: &Snapshot,
    f: &Fields,
) -> Result<Option<(String, String)>, AppError> {
    let mut services = f.services.clone();
    let mut levels = Vec::new();
    let mut tx = s.db.begin_read().await?;
    for id in &f.alerts {
        if let Ok(a) = crate::alerts::store::get_in(&mut tx, id).await {
            if !services.contains(&a.service) {
                services.push(a.service.clone());
            }
            levels.extend(a.severity);
        }
    }
    // Alert severities order most severe first, as declaring reads them.
    let worst = levels.into_iter().min();
    Ok(suggest::severity(snap, &services, worst).map(|x| {
        let name = snap
            .severity(&x.severity)
            .map_or_else(|| x.severity.clone(), |l| l.name.clone());
        (name, x.reason)
    }))
}

async fn render(
    s: &AppState,
    p: &Principal,
    snap: &Snapshot,
    f: &Fields,
    error: String,
) -> Result<NewPage, PageError> {
    let c = &snap.catalog;
    let mut services: Vec<(&str, String)> = c
        .services
        .iter()
        .map(|x| (x.id.as_str(), x.name.clone()))
        .collect();
    services.sort_by(|a, b| a.1.cmp(&b.1));
    let services = services
        .into_iter()
        .map(|(id, name)| Choice {
            selected: f.services.iter().any(|x| x == id),
            value: id.to_string(),
            label: name,
        })
        .collect();
    let severities = c
        .severities
        .iter()
        .map(|x| (x.id.as_str(), format!("{} — {}", x.name, x.urgency)));
    Ok(NewPage {
        layout: Layout::new(p, "incidents", "Declare an incident"),
        title: f.title.clone(),
        severities: choices(severities, &f.severity),
        services,
        alerts: f.alerts.clone(),
        summary: f.summary.clone(),
        channel_kind: f.channel_kind.clone(),
        channel_url: f.channel_url.clone(),
        suggestion: suggestion(s, snap, f).await.or_page(p, "incidents")?,
        error,
    })
}

/// `GET /incidents/new`, optionally `?alert=ID` to start from an alert.
pub async fn form(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<NewPage, PageError> {
    p.require(Role::Responder).or_page(&p, "incidents")?;
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    let mut f = Fields::from_pairs(q);
    let mut tx = s.db.begin_read().await.or_page(&p, "incidents")?;
    for id in f.alerts.clone() {
        if let Ok(a) = crate::alerts::store::get_in(&mut tx, &id).await {
            if f.title.is_empty() {
                f.title = a.summary.chars().take(TITLE_MAX).collect();
            }
            if snap.service(&a.service).is_some() && !f.services.contains(&a.service) {
                f.services.push(a.service);
            }
        }
    }
    drop(tx);
    render(&s, &p, &snap, &f, String::new()).await
}

/// `POST /incidents`: declare, or (the "Suggest severity" button) show the suggestion.
pub async fn submit(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    p.require(Role::Responder).or_page(&p, "incidents")?;
    let f = Fields::from_pairs(pairs);
    p.check_csrf(&f.csrf).or_page(&p, "incidents")?;
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    if f.action == "suggest" {
        return Ok(render(&s, &p, &snap, &f, String::new())
            .await?
            .into_response());
    }
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "incidents")?;
    let ctx = Ctx {
        db: &s.db,
        snap: &snap,
        now: s.clock.now_ms(),
        actor: &v.actor,
        base_url: &s.settings.base_url,
    };
    match command::declare(&ctx, &f.declaration(), "web").await {
        Ok(i) => {
            s.live.changed(i.id);
            Ok(Redirect::to(&format!("/incidents/{}", i.id)).into_response())
        }
        Err(IncidentError::Store(e)) => Err(PageError::new(&p, "incidents", e)),
        Err(e) => {
            let status = super::refused_status(&e);
            let page = render(&s, &p, &snap, &f, e.to_string()).await?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /alerts/{id}/incident`: the alert page's button. Declares from the alert (its
/// summary as the title, its service, Tocsin's severity) and opens the new incident; when
/// the alert already belongs to an incident, opens that one instead of declaring twice.
pub async fn from_alert(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(alert): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    p.require(Role::Responder).or_page(&p, "alerts")?;
    p.check_csrf(&form.csrf).or_page(&p, "alerts")?;
    let mut tx = s.db.begin_read().await.or_page(&p, "alerts")?;
    let a = crate::alerts::store::get_in(&mut tx, &alert)
        .await
        .or_page(&p, "alerts")?;
    let existing = store::incidents_of_alert(&mut tx, &alert)
        .await
        .or_page(&p, "alerts")?;
    drop(tx);
    if let Some(id) = existing.first() {
        return Ok(Redirect::to(&format!("/incidents/{id}")).into_response());
    }
    let snap = s.catalog().await.or_page(&p, "alerts")?;
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "alerts")?;
    let ctx = Ctx {
        db: &s.db,
        snap: &snap,
        now: s.clock.now_ms(),
        actor: &v.actor,
        base_url: &s.settings.base_url,
    };
    let d = Declaration {
        title: a.summary.chars().take(TITLE_MAX).collect(),
        alerts: vec![a.id.clone()],
        ..Declaration::default()
    };
    let i = command::declare(&ctx, &d, "alert")
        .await
        .or_page(&p, "alerts")?;
    s.live.changed(i.id);
    Ok(Redirect::to(&format!("/incidents/{}", i.id)).into_response())
}
