//! The incident deadlines the engine keeps, one [`tick`] per engine pass:
//!
//! 1. Auto-declare: an alert whose severity level declares on its own is watched from the
//!    transaction that created it (`engine::store::set_response_due`); when the watch falls
//!    due, an incident is declared for it unless it was resolved or put on an incident
//!    meanwhile (the rule is [`watch_outcome`]).
//! 2. Update cadence: an open incident whose stakeholder update is overdue gets a reminder
//!    entry, a message to its Comms Lead (else its IC; from the second lapse the IC too), and
//!    its next deadline one cadence on.
//! 3. Handover at shift end: a role holder who was on call when their stint began and is on
//!    call nowhere now is asked, once, to hand over to whoever is on call now.
//!
//! Decisions are pure (`deadlines/decide.rs`); each change is one transaction that re-reads
//! what it acts on under lock, so a retry or a second instance finds nothing left to do, and
//! message idempotency keys name the deadline they are about.

mod decide;

pub use decide::*;

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::catalog::snapshot::{Snapshot, SnapshotCache};
use crate::db::{Db, StoreError};

use super::command::{self, Actor, Ctx, Declaration, md};
use super::live::Live;
use super::messages::{self, Announcement, Destination};
use super::store::timeline::{self, NewEntry};
use super::store::{self, deadlines};
use super::{EntryKind, IncidentError, Role, RoleStint};

/// How long a claimed declare watch stays with its claimer: a declaration takes
/// milliseconds; after this a crashed claimer's watch falls due again.
pub const WATCH_LEASE_MS: i64 = 60_000;
/// Watches claimed per tick; the rest wait for the next one.
const WATCH_BATCH: i64 = 50;

/// What one tick did: the incidents it changed, by deadline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Incidents declared from watches.
    pub declared: Vec<i64>,
    /// Open incidents that gathered due watches' alerts instead (`group_into`).
    pub joined: Vec<i64>,
    /// Alerts those incidents gathered.
    pub gathered: usize,
    /// Watches dropped without declaring (resolved, already on an incident…).
    pub dropped: usize,
    /// Incidents reminded of an overdue update.
    pub reminded: Vec<i64>,
    /// Incidents where a holder was asked to hand over.
    pub prompted: Vec<i64>,
    /// Postmortems whose owner or reviewers were reminded of the due date.
    pub postmortems_reminded: Vec<i64>,
    /// Steps that failed (retried on a later tick).
    pub failed: usize,
}

impl Report {
    /// Every incident this tick changed, each once.
    pub fn changed(&self) -> Vec<i64> {
        let mut all: Vec<i64> = [&self.declared, &self.joined, &self.reminded, &self.prompted]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The engine's hook: the catalog snapshot cached across ticks, where links point, and the
/// live pages of this process to tell (other instances' pages catch up by polling).
pub struct Deadlines {
    cache: SnapshotCache,
    base_url: String,
    live: Option<Arc<Live>>,
}

impl Deadlines {
    pub fn new(base_url: String, live: Option<Arc<Live>>) -> Self {
        Self {
            cache: SnapshotCache::default(),
            base_url,
            live,
        }
    }

    /// One [`tick`] at `now`, then the live pages of what changed.
    pub async fn run(&self, db: &Db, now: i64) -> Result<Report, StoreError> {
        let snap = self.cache.get(db).await?;
        let report = tick(db, &snap, now, &self.base_url).await?;
        if let Some(live) = &self.live {
            for id in report.changed() {
                live.changed(id);
            }
        }
        Ok(report)
    }
}

/// Runs every incident deadline due at `now`. A failed step is logged and counted; the
/// others go on, and the failed one is retried by a later tick.
pub async fn tick(
    db: &Db,
    snap: &Snapshot,
    now: i64,
    base_url: &str,
) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let system = Actor::system();
    let ctx = Ctx {
        db,
        snap,
        now,
        actor: &system,
        base_url,
    };
    // The open incidents of each service a watch is on, read once per tick and kept up to
    // date with this tick's declarations; and the alerts each incident gathers.
    let mut open = HashMap::new();
    let mut gather: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for w in
        deadlines::claim_watches(db, now, now.saturating_add(WATCH_LEASE_MS), WATCH_BATCH).await?
    {
        match declare_watched(&ctx, &w, &mut open).await {
            Ok(Watched::Declared(id)) => report.declared.push(id),
            Ok(Watched::Joins(id)) => gather.entry(id).or_default().push(w.alert_id),
            Ok(Watched::Dropped) => report.dropped += 1,
            Err(e) => {
                tracing::warn!(alert = %w.alert_id, error = %e, "auto-declare failed");
                report.failed += 1;
            }
        }
    }
    for (id, alerts) in gather {
        let alerts: Vec<&str> = alerts.iter().map(String::as_str).collect();
        match command::gather_alerts(&ctx, id, &alerts).await {
            Ok(attached) if attached.is_empty() => {}
            Ok(attached) => {
                report.gathered += attached.len();
                report.joined.push(id);
            }
            Err(e) => {
                tracing::warn!(incident = id, error = %e, "attaching alerts failed");
                report.failed += alerts.len();
            }
        }
    }
    for id in store::updates_overdue(db, now).await? {
        match remind(&ctx, id).await {
            Ok(true) => report.reminded.push(id),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(incident = id, error = %e, "update reminder failed");
                report.failed += 1;
            }
        }
    }
    let holders = {
        let mut tx = db.begin_read().await?;
        timeline::unprompted_holders(&mut tx).await?
    };
    if let Some(from) = holders.iter().map(|(_, s)| s.from_at).min() {
        let overrides =
            crate::oncall::store::overrides(db, None, from, now.saturating_add(1)).await?;
        for (id, stint) in holders {
            let Some(p) = handover(&snap.catalog, &overrides, &stint, now) else {
                continue;
            };
            match prompt(&ctx, id, &stint, &p).await {
                Ok(true) => report.prompted.push(id),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(incident = id, error = %e, "handover prompt failed");
                    report.failed += 1;
                }
            }
        }
    }
    // Two holders of one incident may both have been asked.
    report.prompted.sort_unstable();
    report.prompted.dedup();
    for id in crate::postmortems::store::library::reminders_due(db, now).await? {
        match crate::postmortems::reminders::remind(&ctx, id).await {
            Ok(true) => report.postmortems_reminded.push(id),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(incident = id, error = %e, "postmortem reminder failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// What became of a due watch.
enum Watched {
    /// An incident was declared for it (its id).
    Declared(i64),
    /// Its alert goes onto this open incident (attached after the loop, all at once).
    Joins(i64),
    /// Dropped as moot, or the declaration was refused.
    Dropped,
}

/// Declares an incident for a due watch, has it join an open incident of its service
/// ([`group_into`]), or drops it as moot. A refused declaration (the request itself is
/// wrong, so retrying cannot help) drops the watch; a database failure keeps it for the next
/// claim. `open` caches each service's open incidents for the tick.
async fn declare_watched(
    ctx: &Ctx<'_>,
    w: &deadlines::Watch,
    open: &mut HashMap<String, Vec<(i64, String)>>,
) -> Result<Watched, IncidentError> {
    let alert = deadlines::watched_alert(ctx.db, &w.alert_id).await?;
    let outcome = watch_outcome(
        alert.as_ref().map(|a| a.status.as_str()),
        alert.as_ref().is_some_and(|a| a.attached),
        ctx.snap
            .severity(&w.severity)
            .is_some_and(|l| !l.declare.is_manual()),
    );
    // `watch_outcome` finds a missing alert moot, so a declaring watch has its alert.
    let (WatchOutcome::Declare, Some(alert)) = (&outcome, alert) else {
        let why = match outcome {
            WatchOutcome::Moot(why) => why,
            WatchOutcome::Declare => "the alert no longer exists",
        };
        tracing::info!(alert = %w.alert_id, why, "no incident declared");
        deadlines::unwatch(ctx.db, &w.alert_id).await?;
        return Ok(Watched::Dropped);
    };
    let incidents = match open.entry(alert.service.clone()) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e.insert(deadlines::open_on_service(ctx.db, &alert.service).await?),
    };
    let rank = |level: &str| ctx.snap.severities.iter().position(|l| l.id == level);
    if let Some(id) = group_into(incidents, &w.severity, rank) {
        return Ok(Watched::Joins(id));
    }
    let d = Declaration {
        title: title_of(&alert.summary, &w.alert_id),
        severity: Some(w.severity.clone()),
        alerts: vec![w.alert_id.clone()],
        ..Declaration::default()
    };
    let declared = match command::declare(ctx, &d, "auto").await {
        Ok(i) => {
            incidents.insert(0, (i.id, i.severity));
            Watched::Declared(i.id)
        }
        Err(IncidentError::Store(e)) => return Err(IncidentError::Store(e)),
        Err(e) => {
            tracing::warn!(alert = %w.alert_id, error = %e, "auto-declare refused");
            Watched::Dropped
        }
    };
    deadlines::unwatch(ctx.db, &w.alert_id).await?;
    Ok(declared)
}

/// The incident's title: the alert's summary, cut to what a title may hold.
fn title_of(summary: &str, alert_id: &str) -> String {
    let s = summary.trim();
    if s.is_empty() {
        return format!("Alert {alert_id}");
    }
    s.chars().take(command::TITLE_MAX).collect()
}

/// Reminds incident `id` of its overdue update; false when it is not overdue any more (an
/// update, a resolve or another instance got there first).
async fn remind(ctx: &Ctx<'_>, id: i64) -> Result<bool, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let mut i = store::lock(&mut tx, id).await?;
    let Some(due) = i
        .update_due_at
        .filter(|d| *d <= ctx.now && i.status.is_open())
    else {
        return Ok(false);
    };
    let roles = timeline::roles(&mut tx, id).await?;
    let holder = |role: Role| {
        roles
            .iter()
            .rev()
            .find(|r| r.role == role && r.to_at.is_none())
            .map(|r| r.person_id.as_str())
    };
    let cadence = command::cadence_ms(ctx.snap, &i.severity);
    let r = reminder(
        due,
        i.lapses,
        holder(Role::Comms),
        holder(Role::Commander),
        cadence,
        ctx.now,
    );
    i.lapses = r.lapse;
    i.update_due_at = r.next_due;
    i.updated_at = ctx.now;
    store::save(&mut tx, &i).await?;
    let when = crate::oncall::current::local_time(due, "UTC");
    let names: Vec<String> = r
        .remind
        .iter()
        .map(|(role, p)| format!("{} ({})", md(&ctx.person_name(p)), role.title()))
        .collect();
    let mut body = format!(
        "Stakeholder update overdue since {when} (lapse {}): ",
        r.lapse
    );
    if names.is_empty() {
        body.push_str("nobody holds Communications Lead or Incident Commander to remind.");
    } else {
        body.push_str(&format!("reminded {}.", names.join(" and ")));
    }
    if let Some(n) = r.next_due {
        let next = crate::oncall::current::local_time(n, "UTC");
        body.push_str(&format!(" Next reminder {next}."));
    }
    let e = NewEntry {
        at: ctx.now,
        actor: &ctx.actor.name,
        body: &body,
        ..NewEntry::default()
    };
    timeline::append(&mut tx, id, EntryKind::Reminder, &e).await?;
    let mut to: Vec<Destination> = Vec::new();
    for (_, p) in &r.remind {
        to.extend(messages::person_destinations(&mut tx, &ctx.snap.catalog, p).await?);
    }
    to.sort();
    to.dedup();
    let a = Announcement {
        incident: &i,
        event: "reminder",
        severity_name: ctx.severity_name(&i.severity),
        headline: format!("A stakeholder update was due at {when}: please post one"),
        details: vec![("Lapses since the last update".into(), r.lapse.to_string())],
        url: ctx.url(id),
        // The missed deadline names the reminder: a redone one queues nothing twice.
        key: due.to_string(),
    };
    messages::queue(&mut tx, &a, &to, ctx.now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Asks the holder of `stint` to hand over; false when the stint ended or was prompted
/// meanwhile.
async fn prompt(
    ctx: &Ctx<'_>,
    id: i64,
    stint: &RoleStint,
    p: &Prompt,
) -> Result<bool, IncidentError> {
    let mut tx = ctx.db.begin().await?;
    let i = store::lock(&mut tx, id).await?;
    let current = timeline::roles(&mut tx, id)
        .await?
        .into_iter()
        .any(|r| r.id == stint.id && r.to_at.is_none());
    if !i.status.is_open()
        || !current
        || !timeline::mark_prompted(&mut tx, stint.id, ctx.now).await?
    {
        return Ok(false);
    }
    let holder = ctx.person_name(&stint.person_id);
    let schedule = ctx
        .snap
        .schedule(&p.schedule)
        .map_or_else(|| p.schedule.clone(), |s| s.name.clone());
    let role = stint.role.title();
    let successor = p.successor.as_deref().map(|s| ctx.person_name(s));
    // Plain for the message, escaped for the timeline's Markdown.
    let (suggestion, suggestion_md) = match &successor {
        Some(s) => (
            format!("suggested successor: {s} (on call now)"),
            format!("suggested successor: {} (on call now)", md(s)),
        ),
        None => (
            format!("nobody is on call on {schedule} now"),
            format!("nobody is on call on {} now", md(&schedule)),
        ),
    };
    let body = format!(
        "{}'s on-call shift on {} has ended: asked to hand over **{role}**; {suggestion_md}.",
        md(&holder),
        md(&schedule),
    );
    let e = NewEntry {
        at: ctx.now,
        actor: &ctx.actor.name,
        body: &body,
        ..NewEntry::default()
    };
    timeline::append(&mut tx, id, EntryKind::HandoverPrompt, &e).await?;
    let to = messages::person_destinations(&mut tx, &ctx.snap.catalog, &stint.person_id).await?;
    let a = Announcement {
        incident: &i,
        event: "handover_prompt",
        severity_name: ctx.severity_name(&i.severity),
        headline: format!("Your on-call shift has ended: please hand over {role}"),
        details: vec![("Suggestion".into(), suggestion)],
        url: ctx.url(id),
        key: stint.id.to_string(),
    };
    messages::queue(&mut tx, &a, &to, ctx.now).await?;
    tx.commit().await?;
    Ok(true)
}
