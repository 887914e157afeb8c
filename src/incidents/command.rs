//! Commands on incidents: every way an incident changes, whoever asks (web form, API, CLI,
//! chat, the engine). Each command is one transaction that checks the request against the
//! catalog and the incident's state, writes the new state, appends its timeline entry and
//! queues the messages it implies; a refused command writes nothing. `now` comes from the
//! caller's clock. Declaring is here; roles, people and updates are in `command/`.

mod close;
mod people;
mod roles;
mod updates;

pub use close::*;
pub use people::*;
pub use roles::*;
pub use updates::*;

use serde::Deserialize;
use utoipa::ToSchema;

use crate::catalog::snapshot::Snapshot;
use crate::db::{Db, Tx};

use super::error::invalid;
use super::messages::{self, Announcement, Destination};
use super::store::timeline::{self, NewEntry};
use super::{Entry, EntryKind, Incident, IncidentError, Role, Status, store, suggest};

/// Who is acting: a display name for the timeline, and the person behind it when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub person: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            name: "Tocsin".into(),
            person: None,
        }
    }

    /// Tocsin itself (the engine), as opposed to someone signed in, with or without a person.
    pub fn is_system(&self) -> bool {
        self.person.is_none() && self.name == Self::system().name
    }

    /// The person `id` of the catalog (their name, or the id when unknown).
    pub fn person(snap: &Snapshot, id: &str) -> Self {
        Self {
            name: snap
                .person(id)
                .map_or_else(|| id.to_string(), |p| p.name.clone()),
            person: Some(id.to_string()),
        }
    }
}

/// What every command needs besides its own arguments.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub snap: &'a Snapshot,
    pub now: i64,
    pub actor: &'a Actor,
    /// Where links in messages point (`Settings::base_url`).
    pub base_url: &'a str,
}

impl Ctx<'_> {
    pub fn url(&self, id: i64) -> String {
        format!("{}/incidents/{id}", self.base_url.trim_end_matches('/'))
    }

    pub fn severity_name(&self, id: &str) -> String {
        self.snap
            .severity(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    }

    pub fn person_name(&self, id: &str) -> String {
        crate::oncall::current::person_name(&self.snap.catalog, id)
    }

    /// Appends a timeline entry written by the actor.
    async fn entry(
        &self,
        tx: &mut Tx,
        id: i64,
        kind: EntryKind,
        body: &str,
        starred: bool,
    ) -> Result<Entry, IncidentError> {
        let e = NewEntry {
            at: self.now,
            actor: &self.actor.name,
            body,
            starred,
            ..NewEntry::default()
        };
        Ok(timeline::append(tx, id, kind, &e).await?)
    }

    /// Announces `say` about `i` to its chat channel and, when it says so, to subscribers.
    async fn announce(&self, tx: &mut Tx, i: &Incident, say: Say<'_>) -> Result<(), IncidentError> {
        let Say {
            event,
            headline,
            details,
            key,
            subscribers,
        } = say;
        let mut to: Vec<Destination> = messages::channel_of(i).into_iter().collect();
        if subscribers {
            let subs = store::subscribers(tx, i.id).await?;
            to.extend(messages::subscriber_destinations(tx, &self.snap.catalog, &subs).await?);
        }
        let a = Announcement {
            incident: i,
            event,
            severity_name: self.severity_name(&i.severity),
            headline,
            details,
            url: self.url(i.id),
            key: key.to_string(),
        };
        messages::queue(tx, &a, &to, self.now).await?;
        Ok(())
    }

    /// The incident locked for change, refused when it is closed. Anyone but Tocsin acting
    /// on it counts as acknowledging it.
    async fn open(&self, tx: &mut Tx, id: i64) -> Result<Incident, IncidentError> {
        let mut i = store::lock(tx, id).await?;
        if i.status == Status::Closed {
            return Err(IncidentError::Conflict(format!(
                "{} is closed; its postmortem is published",
                i.reference()
            )));
        }
        if i.acknowledged_at.is_none() && !self.actor.is_system() {
            i.acknowledged_at = Some(self.now);
        }
        i.updated_at = self.now;
        Ok(i)
    }
}

/// What to announce: the event, its headline and details, the timeline entry it belongs to
/// (which makes its messages' idempotency keys), and whether subscribers hear it too.
struct Say<'a> {
    event: &'a str,
    headline: String,
    details: Vec<(String, String)>,
    key: i64,
    subscribers: bool,
}

/// How an incident came to be declared.
pub const SOURCES: [&str; 6] = ["web", "api", "cli", "chat", "alert", "auto"];

/// A request to declare an incident.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    pub title: String,
    /// A severity level id; omitted: Tocsin's suggestion from the catalog and the alerts.
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub services: Vec<String>,
    /// Alerts to attach; their services are attached too.
    #[serde(default)]
    pub alerts: Vec<String>,
    #[serde(default)]
    pub summary: String,
    /// The first Incident Commander (a person id); omitted: the on-call responder of the
    /// first service, else the person declaring.
    #[serde(default)]
    pub commander: Option<String>,
    /// `slack` or `mattermost`, with `channel_url`.
    #[serde(default)]
    pub channel_kind: Option<String>,
    #[serde(default)]
    pub channel_url: Option<String>,
}

pub const TITLE_MAX: usize = 200;

/// Checks a chat channel: a known kind with an http(s) URL, both or neither.
pub fn check_channel(
    kind: Option<&str>,
    url: Option<&str>,
) -> Result<Option<(String, String)>, IncidentError> {
    match (
        kind.filter(|k| !k.is_empty()),
        url.filter(|u| !u.is_empty()),
    ) {
        (None, None) => Ok(None),
        (Some(k @ ("slack" | "mattermost")), Some(u))
            if u.starts_with("https://") || u.starts_with("http://") =>
        {
            Ok(Some((k.to_string(), u.to_string())))
        }
        (Some("slack" | "mattermost"), Some(_)) => {
            Err(invalid("channel_url must be an http(s) URL"))
        }
        (Some(k), Some(_)) => Err(invalid(format!(
            "channel_kind must be slack or mattermost, not {k:?}"
        ))),
        _ => Err(invalid(
            "give both channel_kind and channel_url, or neither",
        )),
    }
}

/// Declares an incident: records who and when, attaches its alerts and services, computes
/// the impacted business functions, assigns the first Incident Commander, starts the update
/// cadence, and announces it to its channel and subscribers. Returns the incident.
pub async fn declare(
    ctx: &Ctx<'_>,
    d: &Declaration,
    source: &str,
) -> Result<Incident, IncidentError> {
    let title = d.title.trim();
    if title.is_empty() {
        return Err(invalid("title must not be empty"));
    }
    if title.chars().count() > TITLE_MAX {
        return Err(invalid(format!(
            "title is longer than {TITLE_MAX} characters"
        )));
    }
    if !SOURCES.contains(&source) {
        return Err(invalid(format!("unknown source {source:?}")));
    }
    let channel = check_channel(d.channel_kind.as_deref(), d.channel_url.as_deref())?;
    let mut tx = ctx.db.begin().await?;
    let mut services: Vec<String> = Vec::new();
    for s in &d.services {
        if ctx.snap.service(s).is_none() {
            return Err(invalid(format!("unknown service {s:?}")));
        }
        if !services.contains(s) {
            services.push(s.clone());
        }
    }
    let mut alerts = Vec::new();
    for id in &d.alerts {
        // Locked: two declarations for one alert (a person and the engine) take turns.
        let alert = crate::alerts::store::lock_by_id(&mut tx, id)
            .await
            .map_err(|_| invalid(format!("unknown alert {id:?}")))?;
        // The engine declares for an alert only once: checked here, inside the transaction
        // (serialised with any person's declaration), not just before it.
        if source == "auto" && !store::incidents_of_alert(&mut tx, id).await?.is_empty() {
            return Err(IncidentError::Conflict(format!(
                "alert {id} is already on an incident"
            )));
        }
        if !services.contains(&alert.service) && ctx.snap.service(&alert.service).is_some() {
            services.push(alert.service.clone());
        }
        alerts.push(alert);
    }
    let worst_alert = alerts.iter().filter_map(|a| a.severity).min();
    let suggestion = suggest::severity(ctx.snap, &services, worst_alert);
    let severity = match &d.severity {
        Some(s) if ctx.snap.severity(s).is_some() => s.clone(),
        Some(s) => return Err(invalid(format!("unknown severity {s:?}"))),
        None => match &suggestion {
            Some(s) => s.severity.clone(),
            None => return Err(invalid("no severity levels are configured")),
        },
    };
    let commander = match &d.commander {
        Some(p) if ctx.snap.person(p).is_some() => Some(p.clone()),
        Some(p) => return Err(invalid(format!("unknown person {p:?}"))),
        None => first_on_call(ctx, &services)
            .await?
            .or(ctx.actor.person.clone()),
    };
    let started_at = alerts
        .iter()
        .map(|a| a.started_at.unwrap_or(a.created_at))
        .min()
        .unwrap_or(ctx.now)
        .min(ctx.now);
    // A person declaring has answered the alarm: that is the acknowledgement.
    let acknowledged_at = alerts
        .iter()
        .filter_map(|a| a.acknowledged_at)
        .min()
        .or((!ctx.actor.is_system()).then_some(ctx.now));
    let cadence = cadence_ms(ctx.snap, &severity);
    let mut incident = Incident {
        id: 0,
        title: title.to_string(),
        summary: d.summary.trim().to_string(),
        status: Status::Investigating,
        severity: severity.clone(),
        source: source.to_string(),
        declared_at: ctx.now,
        declared_by: ctx.actor.name.clone(),
        started_at,
        acknowledged_at,
        mitigated_at: None,
        resolved_at: None,
        closed_at: None,
        channel_kind: channel.as_ref().map(|c| c.0.clone()),
        channel_url: channel.map(|c| c.1),
        last_update_at: None,
        update_due_at: cadence.map(|c| ctx.now.saturating_add(c)),
        lapses: 0,
        updated_at: ctx.now,
    };
    incident.id = store::insert(&mut tx, &incident).await?;
    let id = incident.id;
    for s in &services {
        store::add_service(&mut tx, id, s).await?;
    }
    let functions = suggest::impacted_functions(ctx.snap, &services);
    store::set_functions(&mut tx, id, &functions).await?;
    for a in &alerts {
        store::attach_alert(&mut tx, id, &a.id, ctx.now).await?;
        crate::alerts::store::log(
            &mut tx,
            &a.id,
            ctx.now,
            "incident",
            &ctx.actor.name,
            &incident.reference(),
        )
        .await?;
    }
    // The business owners of what fails hear about it: the stakeholder list to start from.
    for f in &functions {
        if let Some(bf) = ctx.snap.business_functions.iter().find(|b| b.id == f.id) {
            let team = super::Subscriber {
                kind: "team".into(),
                target: bf.owner_team.clone(),
            };
            store::add_subscriber(&mut tx, id, &team).await?;
        }
    }
    let mut body = format!(
        "Declared **{}** ({}) by {}.",
        md(&incident.title),
        ctx.severity_name(&severity),
        md(&ctx.actor.name)
    );
    if let Some(s) = suggestion.filter(|s| s.severity != severity || d.severity.is_none()) {
        body.push_str(&format!(
            " Suggested severity: {} ({}).",
            ctx.severity_name(&s.severity),
            md(&s.reason)
        ));
    }
    if !functions.is_empty() {
        let names: Vec<String> = functions
            .iter()
            .map(|f| format!("{} ({})", md(&f.name), f.criticality))
            .collect();
        body.push_str(&format!(
            " Impacted business functions: {}.",
            names.join(", ")
        ));
    }
    if !alerts.is_empty() {
        let ids: Vec<String> = alerts.iter().map(|a| format!("`{}`", a.id)).collect();
        body.push_str(&format!(" Alerts: {}.", ids.join(", ")));
    }
    let entry = ctx
        .entry(&mut tx, id, EntryKind::Declared, &body, true)
        .await?;
    let mut details = Vec::new();
    if !functions.is_empty() {
        let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        details.push(("Impact".to_string(), names.join(", ")));
    }
    if let Some(c) = &commander {
        details.push(("Incident Commander".into(), ctx.person_name(c)));
    }
    let headline = format!("Incident declared by {}", ctx.actor.name);
    ctx.announce(
        &mut tx,
        &incident,
        Say {
            event: "declared",
            headline,
            details,
            key: entry.id,
            subscribers: true,
        },
    )
    .await?;
    if let Some(c) = commander {
        roles::assign_in(ctx, &mut tx, &incident, Role::Commander, &c, "").await?;
    }
    tx.commit().await?;
    metrics::counter!("tocsin_incidents_declared_total", "source" => source.to_string())
        .increment(1);
    Ok(incident)
}

/// The first on-call responder of the first of `services` that has one.
async fn first_on_call(
    ctx: &Ctx<'_>,
    services: &[String],
) -> Result<Option<String>, IncidentError> {
    if services.is_empty() {
        return Ok(None);
    }
    let overrides =
        crate::oncall::store::overrides(ctx.db, None, ctx.now, ctx.now.saturating_add(1)).await?;
    Ok(services.iter().find_map(|s| {
        crate::escalation::resolve::first_responders(&ctx.snap.catalog, &overrides, s, ctx.now)
            .into_iter()
            .next()
    }))
}

/// The stakeholder update cadence of severity `id`, in milliseconds.
pub fn cadence_ms(snap: &Snapshot, id: &str) -> Option<i64> {
    let m = snap.severity(id)?.update_every_minutes?;
    Some(i64::from(m) * 60_000)
}

/// Escapes text for Markdown in a timeline entry Tocsin writes (titles, names).
pub fn md(s: &str) -> String {
    crate::notify::chat::md_escape(s)
}

/// Moves the incident to `to`; the timeline, the channel and (on resolve) the subscribers
/// hear about it. Identified or monitoring marks the first mitigation, resolved the end.
pub async fn set_status(
    ctx: &Ctx<'_>,
    id: i64,
    to: Status,
    note: &str,
) -> Result<Incident, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let mut i = ctx.open(&mut tx, id).await?;
    i.status.may_become(to).map_err(IncidentError::Conflict)?;
    let from = i.status;
    i.status = to;
    match to {
        Status::Identified | Status::Monitoring => {
            i.mitigated_at.get_or_insert(ctx.now);
        }
        Status::Resolved => {
            i.resolved_at = Some(ctx.now);
            i.update_due_at = None;
        }
        Status::Investigating | Status::Closed => {}
    }
    if from == Status::Resolved {
        // Reopened: the cadence starts again.
        i.resolved_at = None;
        i.update_due_at = cadence_ms(ctx.snap, &i.severity).map(|c| ctx.now.saturating_add(c));
    }
    store::save(&mut tx, &i).await?;
    let mut body = format!("Status: {} → **{}**.", from.as_str(), to.as_str());
    if !note.trim().is_empty() {
        body.push_str(&format!("\n\n{}", note.trim()));
    }
    let key = matches!(to, Status::Resolved) || from == Status::Resolved;
    let entry = ctx
        .entry(&mut tx, id, EntryKind::Status, &body, key)
        .await?;
    let headline = format!("Status is now {} ({})", to.as_str(), ctx.actor.name);
    let details = if note.trim().is_empty() {
        vec![]
    } else {
        vec![("Note".into(), note.trim().to_string())]
    };
    ctx.announce(
        &mut tx,
        &i,
        Say {
            event: "status",
            headline,
            details,
            key: entry.id,
            subscribers: key,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(i)
}

/// Changes the severity; the update cadence follows the new level.
pub async fn set_severity(ctx: &Ctx<'_>, id: i64, to: &str) -> Result<Incident, IncidentError> {
    if ctx.snap.severity(to).is_none() {
        return Err(invalid(format!("unknown severity {to:?}")));
    }
    let mut tx = ctx.db.begin().await?;
    let mut i = ctx.open(&mut tx, id).await?;
    if i.severity == to {
        return Err(IncidentError::Conflict(format!(
            "{} is already {}",
            i.reference(),
            ctx.severity_name(to)
        )));
    }
    let from = std::mem::replace(&mut i.severity, to.to_string());
    if i.status.is_open() {
        let base = i.last_update_at.unwrap_or(i.declared_at);
        i.update_due_at = cadence_ms(ctx.snap, to).map(|c| base.saturating_add(c).max(ctx.now));
    }
    store::save(&mut tx, &i).await?;
    let body = format!(
        "Severity: {} → **{}**.",
        ctx.severity_name(&from),
        ctx.severity_name(to)
    );
    let entry = ctx
        .entry(&mut tx, id, EntryKind::Severity, &body, true)
        .await?;
    let headline = format!(
        "Severity changed from {} to {} by {}",
        ctx.severity_name(&from),
        ctx.severity_name(to),
        ctx.actor.name
    );
    ctx.announce(
        &mut tx,
        &i,
        Say {
            event: "severity",
            headline,
            details: vec![],
            key: entry.id,
            subscribers: true,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(i)
}
