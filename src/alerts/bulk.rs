//! Applies an ingest batch inside its transaction, with the same result as applying its
//! events one by one (`ingest::ingest_one`) but a few statements per batch instead of about
//! ten per new alert: per-statement round trips, not commits, were what bounded durable
//! ingestion (profile and figures in `BENCHMARKS.md`).
//!
//! The batch is cut into segments (`alerts::plan`). A run of triggers is written set-based:
//! 1. one `update … returning` locks and reads the open alerts of the run's (service, key)s;
//! 2. the pure planner decides create or repeat per trigger, in order;
//! 3. multi-row statements write the new alerts (with their rule, playbook, auto-resolve and
//!    response deadlines, computed here instead of updated after), the repeats, the log lines
//!    in event order, the declare watches, the escalation rows and the automatic actions.
//!
//! The severity levels and escalation policies those need come from the batch's catalog
//! snapshot, not from SQL. An acknowledge or resolve goes through the per-event path, after everything
//! before it is written. A new alert that a concurrent writer (PostgreSQL's second writer, or
//! another instance) opened first makes [`apply`] answer None: the caller rolls back and
//! applies the batch one event at a time, where a lost race retries as a repeat.

use std::collections::{HashMap, HashSet};

use crate::catalog::Catalog;
use crate::db::{StoreError, Tx};
use crate::incidents::deadlines::declare_due;

use super::automation::{self, AutoRun};
use super::integration::Integration;
use super::lifecycle::{self, Transition};
use super::plan::{self, Open, Segment, Step, Trigger};
use super::rules::{self, Routed};
use super::store::bulk::{self as sql, Bump, LogLine, NewAlert};
use super::store::{Outcome, dedup_key_of};
use super::{Action, AlertEvent};

/// An event as the rules routed it.
struct Prepared<'a> {
    integration: &'a Integration,
    event: AlertEvent,
    routed: Routed,
    /// The key it is deduplicated on (triggers only; the per-event path finds its own).
    key: String,
}

/// Applies `events` (each with the integration that sent it) at `now`: their outcomes in
/// order, or None when a concurrent writer won a race for a new alert's key (roll back).
pub async fn apply(
    tx: &mut Tx,
    catalog: &Catalog,
    events: &[(&Integration, &AlertEvent)],
    now: i64,
) -> Result<Option<Vec<Outcome>>, StoreError> {
    // Rules work on a copy: a failed batch retries its requests with the events as received.
    let routed: Vec<Prepared<'_>> = events
        .iter()
        .map(|(integration, event)| {
            let mut event = (*event).clone();
            let routed = rules::route(catalog, &integration.service, &mut event);
            let key = match event.action {
                Action::Trigger => dedup_key_of(&event),
                Action::Acknowledge | Action::Resolve => String::new(),
            };
            Prepared {
                integration,
                event,
                routed,
                key,
            }
        })
        .collect();
    let mut outcomes = Vec::with_capacity(routed.len());
    for segment in plan::segments(routed.iter().map(|r| r.event.action)) {
        match segment {
            Segment::Alone(i) => {
                let r = &routed[i];
                let integration = Some(r.integration);
                outcomes
                    .push(rules::ingest(tx, catalog, integration, &r.routed, &r.event, now).await?);
            }
            Segment::Triggers(range) => {
                let run = &routed[range];
                match triggers(tx, catalog, run, now).await? {
                    Some(out) => outcomes.extend(out),
                    None => return Ok(None),
                }
            }
        }
    }
    Ok(Some(outcomes))
}

/// Writes a run of triggers; None on a lost race.
async fn triggers(
    tx: &mut Tx,
    catalog: &Catalog,
    run: &[Prepared<'_>],
    now: i64,
) -> Result<Option<Vec<Outcome>>, StoreError> {
    let planned: Vec<Trigger<'_>> = run
        .iter()
        .map(|r| Trigger {
            service: &r.routed.service,
            key: &r.key,
            deadline: rules::auto_resolve_at(&r.routed, &r.event, now),
        })
        .collect();
    let wanted: HashSet<(&str, &str)> = planned.iter().map(|t| (t.service, t.key)).collect();
    let services = distinct(planned.iter().map(|t| t.service));
    let keys = distinct(planned.iter().map(|t| t.key));
    let open: HashMap<(String, String), Open> = sql::lock_open(tx, &services, &keys)
        .await?
        .into_iter()
        .filter(|(_, s, k, _)| wanted.contains(&(s.as_str(), k.as_str())))
        .map(|(id, s, k, event_count)| ((s, k), Open { id, event_count }))
        .collect();
    let plan = plan::plan(&planned, &open, || lifecycle::new_id(now));

    let creates: Vec<(usize, &plan::Planned)> = plan
        .alerts
        .iter()
        .filter_map(|a| a.created_by.map(|i| (i, a)))
        .collect();
    // The same rule as `engine::store::policy_for_service`, on the snapshot.
    let policy_of = |service: &str| {
        let service = catalog.service(service)?;
        Some(catalog.policy_for_service(service)?.id.as_str())
    };

    let mut new = Vec::with_capacity(creates.len());
    let mut watches = Vec::new();
    for &(i, a) in &creates {
        let r = &run[i];
        let mut alert = lifecycle::new_alert(
            a.id.clone(),
            &r.routed.service,
            Some(&r.integration.id),
            r.key.clone(),
            &r.event,
            now,
        );
        alert.event_count = a.event_count;
        // What `engine::store::set_response_due` sets on a new alert, from its level.
        let mut response_due_at = None;
        if let Some(level) = crate::severity::for_alert(&catalog.severities, alert.severity) {
            if let Some(due) = declare_due(level.declare, now) {
                watches.push((a.id.as_str(), level.id.as_str(), due));
            }
            response_due_at = level
                .response_target_minutes
                .map(|m| now.saturating_add(i64::from(m).saturating_mul(60_000)));
        }
        new.push(NewAlert {
            alert,
            rule: r.routed.rule.clone(),
            playbook: r.routed.playbook.clone(),
            auto_resolve_at: a.auto_resolve_at,
            response_due_at,
        });
    }
    if sql::insert_alerts(tx, &new).await? < new.len() {
        return Ok(None);
    }
    let bumps: Vec<Bump> = plan
        .alerts
        .iter()
        .filter(|a| a.created_by.is_none())
        .map(|a| Bump {
            id: a.id.clone(),
            event_count: a.event_count,
            auto_resolve_at: a.auto_resolve_at,
        })
        .collect();
    if !bumps.is_empty() {
        sql::bump_alerts(tx, &bumps, now).await?;
    }

    // The log lines in the order the per-event path writes them, and what new alerts queue.
    let mut lines = Vec::with_capacity(run.len());
    let mut auto = Vec::new();
    let mut escalations = Vec::with_capacity(creates.len());
    let mut outcomes = Vec::with_capacity(run.len());
    for (i, (r, step)) in run.iter().zip(&plan.steps).enumerate() {
        let actor = format!("integration:{}", r.integration.id);
        let line = |alert: &str, kind, actor: &str, detail: &str| LogLine {
            alert_id: alert.to_string(),
            at: now,
            kind,
            actor: actor.to_string(),
            detail: detail.to_string(),
        };
        let (a, created) = match *step {
            Step::Create(a) => (&plan.alerts[a], true),
            Step::Repeat(a) => (&plan.alerts[a], false),
        };
        let id = a.id.as_str();
        if created {
            lines.push(line(id, "trigger", &actor, &r.event.summary));
            match policy_of(planned[i].service) {
                Some(policy) => escalations.push((id, policy)),
                None => lines.push(line(id, "escalation", "engine", "no escalation policy")),
            }
            if let Some(rule_line) = r.routed.log_line() {
                lines.push(line(id, "rule", "rules", &rule_line));
            }
            let playbook = r
                .routed
                .playbook
                .as_deref()
                .and_then(|p| catalog.playbook(p));
            if let Some(playbook) = playbook {
                let service = rules::service_of(catalog, &r.routed.service, &r.routed.service);
                let ctx = automation::context(id, &r.key, &r.event, service);
                for run in automation::auto_runs(playbook, &ctx) {
                    match run {
                        AutoRun::Queue(step, name, req) => {
                            auto.push((id, playbook.id.as_str(), step, name, req));
                        }
                        AutoRun::NotRun(text) => {
                            lines.push(line(id, "action", "automation", &text))
                        }
                    }
                }
            }
        } else {
            lines.push(line(
                id,
                Transition::Repeat.as_str(),
                &actor,
                &r.event.summary,
            ));
        }
        outcomes.push(Outcome {
            alert_id: Some(a.id.clone()),
            dedup_key: r.key.clone(),
            created,
            changed: true,
            transition: (!created).then_some(Transition::Repeat),
            ignored: None,
        });
    }
    sql::log_lines(tx, &lines).await?;
    if !watches.is_empty() {
        crate::incidents::store::deadlines::watch_many(tx, &watches).await?;
    }
    if !escalations.is_empty() {
        crate::engine::store::start_escalations(tx, &escalations, now).await?;
    }
    if !auto.is_empty() {
        let runs: Vec<_> = auto
            .iter()
            .map(|(alert, playbook, step, name, req)| {
                (*alert, *playbook, *step, name.as_str(), req)
            })
            .collect();
        automation::store::queue_many(tx, &runs, now).await?;
    }
    Ok(Some(outcomes))
}

/// The distinct values, in first-seen order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}
