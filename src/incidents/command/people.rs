//! Who and what an incident involves: teams pulled in (paged through their own escalation
//! policy), investigators, subscribers, attached alerts and services, the chat channel.

use std::collections::BTreeMap;

use crate::alerts::{Action, AlertEvent};
use crate::incidents::error::invalid;
use crate::incidents::{
    EntryKind, Incident, IncidentError, SUBSCRIBER_KINDS, Subscriber, messages, store, suggest,
};

use super::{Ctx, Say, check_channel, md};

/// Pulls a team in: it joins the incident and its subscribers, and its on-call is paged
/// through the team's escalation policy (an alert attached to the incident, acknowledged
/// like any other). Returns the paging alert's id, when the team has a policy.
pub async fn add_team(ctx: &Ctx<'_>, id: i64, team: &str) -> Result<Option<String>, IncidentError> {
    let t = ctx
        .snap
        .team(team)
        .ok_or_else(|| invalid(format!("unknown team {team:?}")))?;
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    store::save(&mut tx, &i).await?;
    if !store::add_participant(&mut tx, id, "team", team, ctx.now, &ctx.actor.name).await? {
        return Err(IncidentError::Conflict(format!(
            "{} is already in {}",
            t.name,
            i.reference()
        )));
    }
    let sub = Subscriber {
        kind: "team".into(),
        target: team.into(),
    };
    store::add_subscriber(&mut tx, id, &sub).await?;
    let policy = t
        .escalation_policy
        .as_deref()
        .filter(|p| ctx.snap.escalation_policy(p).is_some());
    let mut alert_id = None;
    let body = match policy {
        Some(policy) => {
            // The page is an alert of its own so it is acknowledged, escalated, throttled and
            // delivered like every other page; it is filed under the incident's first service.
            let services = store::services(&mut tx, id).await?;
            let service = services.first().cloned().unwrap_or_else(|| {
                ctx.snap
                    .services
                    .iter()
                    .find(|s| s.owner_team == team)
                    .map_or_else(|| format!("team:{team}"), |s| s.id.clone())
            });
            let event = AlertEvent {
                action: Action::Trigger,
                dedup_key: Some(format!("incident:{id}:team:{team}")),
                summary: format!("{} needs {}: {}", i.reference(), t.name, i.title),
                severity: None,
                source: "tocsin".into(),
                labels: BTreeMap::from([("incident".to_string(), i.reference())]),
                annotations: BTreeMap::new(),
                details: serde_json::json!({ "incident": ctx.url(id) }),
                links: vec![crate::alerts::EventLink {
                    href: ctx.url(id),
                    text: i.reference(),
                }],
                images: vec![],
                started_at: Some(ctx.now),
                ends_at: None,
            };
            let outcome =
                crate::alerts::store::ingest(&mut tx, None, &service, &event, ctx.now).await?;
            if let Some(a) = outcome.alert_id.as_deref() {
                crate::engine::store::escalate_with(&mut tx, a, policy, ctx.now).await?;
                store::attach_alert(&mut tx, id, a, ctx.now).await?;
            }
            alert_id = outcome.alert_id;
            format!(
                "{} joined; paging their on-call through escalation policy `{policy}`.",
                md(&t.name)
            )
        }
        None => format!(
            "{} joined (the team has no escalation policy, so nobody was paged).",
            md(&t.name)
        ),
    };
    let entry = ctx
        .entry(&mut tx, id, EntryKind::Team, &body, false)
        .await?;
    let headline = format!("{} joined the incident", t.name);
    ctx.announce(
        &mut tx,
        &i,
        Say {
            event: "team",
            headline,
            details: vec![],
            key: entry.id,
            subscribers: false,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(alert_id)
}

/// Adds a person as an investigator and tells them.
pub async fn add_investigator(ctx: &Ctx<'_>, id: i64, person: &str) -> Result<(), IncidentError> {
    if ctx.snap.person(person).is_none() {
        return Err(invalid(format!("unknown person {person:?}")));
    }
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    store::save(&mut tx, &i).await?;
    if !store::add_participant(&mut tx, id, "person", person, ctx.now, &ctx.actor.name).await? {
        return Err(IncidentError::Conflict(format!(
            "{} is already investigating",
            ctx.person_name(person)
        )));
    }
    let name = ctx.person_name(person);
    let body = format!("{} is investigating.", md(&name));
    let entry = ctx
        .entry(&mut tx, id, EntryKind::Investigator, &body, false)
        .await?;
    let to = messages::person_destinations(&mut tx, &ctx.snap.catalog, person).await?;
    let a = messages::Announcement {
        incident: &i,
        event: "investigator",
        severity_name: ctx.severity_name(&i.severity),
        headline: format!("{} added you as an investigator", ctx.actor.name),
        details: vec![],
        url: ctx.url(id),
        key: entry.id.to_string(),
    };
    messages::queue(&mut tx, &a, &to, ctx.now).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a subscriber: a known kind, an existing person or team, a plausible address.
pub fn check_subscriber(ctx: &Ctx<'_>, s: &Subscriber) -> Result<(), IncidentError> {
    let target = s.target.trim();
    let ok = match s.kind.as_str() {
        "person" => ctx.snap.person(target).is_some(),
        "team" => ctx.snap.team(target).is_some(),
        "email" => target.contains('@') && !target.contains(char::is_whitespace),
        "webhook" | "slack" | "mattermost" => {
            target.starts_with("https://") || target.starts_with("http://")
        }
        other => {
            return Err(invalid(format!(
                "subscriber kind must be one of {}, not {other:?}",
                SUBSCRIBER_KINDS.join(", ")
            )));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{:?} is not a valid {}", s.target, s.kind)))
    }
}

/// Subscribes someone to the incident's announcements and updates.
pub async fn subscribe(ctx: &Ctx<'_>, id: i64, s: &Subscriber) -> Result<bool, IncidentError> {
    check_subscriber(ctx, s)?;
    let mut tx = ctx.db.begin().await?;
    store::get(&mut tx, id).await?;
    let s = Subscriber {
        kind: s.kind.clone(),
        target: s.target.trim().to_string(),
    };
    let added = store::add_subscriber(&mut tx, id, &s).await?;
    tx.commit().await?;
    Ok(added)
}

pub async fn unsubscribe(ctx: &Ctx<'_>, id: i64, s: &Subscriber) -> Result<(), IncidentError> {
    let mut tx = ctx.db.begin().await?;
    if !store::remove_subscriber(&mut tx, id, s).await? {
        return Err(IncidentError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Attaches an alert (and its service, with the business functions that fail with it).
pub async fn attach_alert(ctx: &Ctx<'_>, id: i64, alert: &str) -> Result<(), IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    let a = crate::alerts::store::get_in(&mut tx, alert)
        .await
        .map_err(|_| invalid(format!("unknown alert {alert:?}")))?;
    if !store::attach_alert(&mut tx, id, alert, ctx.now).await? {
        return Err(IncidentError::Conflict(format!(
            "alert {alert} is already attached"
        )));
    }
    store::save(&mut tx, &i).await?;
    let detail = i.reference();
    crate::alerts::store::log(
        &mut tx,
        alert,
        ctx.now,
        "incident",
        &ctx.actor.name,
        &detail,
    )
    .await?;
    let body = format!("Alert `{}` attached: {}", a.id, md(&a.summary));
    ctx.entry(&mut tx, id, EntryKind::Alert, &body, false)
        .await?;
    if ctx.snap.service(&a.service).is_some() {
        add_service_in(ctx, &mut tx, &i, &a.service).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Attaches alerts the engine gathers onto an open incident (a due declare watch on a
/// service the incident is already about, `deadlines`), in one transaction with one
/// timeline entry for them all: a storm of alerts is one line, not hundreds. Alerts gone or
/// attached meanwhile are skipped; their watches are dropped either way. The ids attached;
/// none when the incident is no longer open (the watches stay, and declare on a later claim).
pub async fn gather_alerts(
    ctx: &Ctx<'_>,
    id: i64,
    alerts: &[&str],
) -> Result<Vec<String>, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let mut i = store::lock(&mut tx, id).await?;
    if !i.status.is_open() {
        return Ok(Vec::new());
    }
    let mut attached = Vec::new();
    for alert in alerts {
        let Ok(a) = crate::alerts::store::get_in(&mut tx, alert).await else {
            continue;
        };
        if !store::attach_alert(&mut tx, id, alert, ctx.now).await? {
            continue;
        }
        let by = &ctx.actor.name;
        crate::alerts::store::log(&mut tx, alert, ctx.now, "incident", by, &i.reference()).await?;
        attached.push(a);
    }
    store::deadlines::unwatch_many(&mut tx, alerts).await?;
    if !attached.is_empty() {
        i.updated_at = ctx.now;
        store::save(&mut tx, &i).await?;
        ctx.entry(&mut tx, id, EntryKind::Alert, &gathered(&attached), false)
            .await?;
        let mut services: Vec<&str> = attached.iter().map(|a| a.service.as_str()).collect();
        services.sort_unstable();
        services.dedup();
        for s in services {
            if ctx.snap.service(s).is_some() {
                add_service_in(ctx, &mut tx, &i, s).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(attached.into_iter().map(|a| a.id).collect())
}

/// The timeline entry of [`gather_alerts`]: one alert as [`attach_alert`] writes it, more as
/// a count and the first few.
fn gathered(alerts: &[crate::alerts::lifecycle::Alert]) -> String {
    const LISTED: usize = 5;
    if let [a] = alerts {
        return format!("Alert `{}` attached: {}", a.id, md(&a.summary));
    }
    let mut body = format!("{} alerts attached:", alerts.len());
    for a in alerts.iter().take(LISTED) {
        body.push_str(&format!("\n- `{}`: {}", a.id, md(&a.summary)));
    }
    if alerts.len() > LISTED {
        body.push_str(&format!("\n- and {} more", alerts.len() - LISTED));
    }
    body
}

/// Attaches a service by hand.
pub async fn add_service(ctx: &Ctx<'_>, id: i64, service: &str) -> Result<(), IncidentError> {
    if ctx.snap.service(service).is_none() {
        return Err(invalid(format!("unknown service {service:?}")));
    }
    let mut tx = ctx.db.begin().await?;
    let i = ctx.open(&mut tx, id).await?;
    store::save(&mut tx, &i).await?;
    if !add_service_in(ctx, &mut tx, &i, service).await? {
        return Err(IncidentError::Conflict(format!(
            "{service} is already attached"
        )));
    }
    tx.commit().await?;
    Ok(())
}

/// Attaches `service` and recomputes the impacted functions; false when it was attached.
async fn add_service_in(
    ctx: &Ctx<'_>,
    tx: &mut crate::db::Tx,
    i: &Incident,
    service: &str,
) -> Result<bool, IncidentError> {
    if !store::add_service(tx, i.id, service).await? {
        return Ok(false);
    }
    let services = store::services(tx, i.id).await?;
    let functions = suggest::impacted_functions(ctx.snap, &services);
    store::set_functions(tx, i.id, &functions).await?;
    let name = ctx
        .snap
        .service(service)
        .map_or(service, |s| s.name.as_str());
    let body = format!("Service {} is affected.", md(name));
    ctx.entry(tx, i.id, EntryKind::Service, &body, false)
        .await?;
    Ok(true)
}

/// Sets or clears the incident's chat channel.
pub async fn set_channel(
    ctx: &Ctx<'_>,
    id: i64,
    kind: Option<&str>,
    url: Option<&str>,
) -> Result<Incident, IncidentError> {
    let channel = check_channel(kind, url)?;
    let mut tx = ctx.db.begin().await?;
    let mut i = ctx.open(&mut tx, id).await?;
    i.channel_kind = channel.as_ref().map(|c| c.0.clone());
    i.channel_url = channel.as_ref().map(|c| c.1.clone());
    store::save(&mut tx, &i).await?;
    let body = match &channel {
        Some((k, _)) => format!("Chat channel set ({k})."),
        None => "Chat channel removed.".to_string(),
    };
    ctx.entry(&mut tx, id, EntryKind::Note, &body, false)
        .await?;
    tx.commit().await?;
    Ok(i)
}
