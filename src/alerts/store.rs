//! All alert SQL: integrations (keys stored hashed), alerts and their event log, and
//! [`ingest`], which runs the lifecycle decision inside the caller's transaction so an alert is
//! committed before its sender hears 2xx.
//!
//! Concurrency: every write path starts with [`lock_open`], an `update … returning` that
//! changes nothing. On PostgreSQL it locks the open alert's row like `select … for update`; on
//! SQLite it makes the transaction a writer from its first statement, so it queues on the
//! busy timeout instead of failing later when a read snapshot is upgraded (WAL's
//! `SQLITE_BUSY_SNAPSHOT`). Two first triggers racing on one key both miss that row; the
//! partial unique index lets one insert win and the other, `on conflict do nothing`, retries
//! and finds the winner's alert to count itself into.

use sqlx::AssertSqlSafe;

use crate::auth::new_secret;
use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::integration::{Integration, IntegrationKind};
use super::lifecycle::{self, Alert, Decision, Ignored, PersonAction, Status, Transition};
use super::{AlertEvent, Severity};

/// Auto-resolution's SQL lives with the rules that set its deadlines; the engine calls it here.
pub use super::automation::store::auto_resolve_due;

pub mod bulk;

// Integrations.

type IntegrationRow = (String, String, String, String, String, i64, Option<i64>);

const INTEGRATION_COLUMNS: &str = "id, service_id, kind, name, created_by, created_at, rotated_at";

fn integration_from(r: IntegrationRow) -> Integration {
    let (id, service, kind, name, created_by, created_at, rotated_at) = r;
    Integration {
        id,
        service,
        // The column's check constraint allows only the known kinds.
        kind: IntegrationKind::parse(&kind).unwrap_or(IntegrationKind::Generic),
        name,
        created_by,
        created_at,
        rotated_at,
    }
}

pub async fn insert_integration(
    tx: &mut Tx,
    i: &Integration,
    key_hash: &str,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into integrations \
        (id, service_id, kind, name, key_hash, created_by, created_at) \
        values ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&i.id)
        .bind(&i.service)
        .bind(i.kind.as_str())
        .bind(&i.name)
        .bind(key_hash)
        .bind(&i.created_by)
        .bind(i.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The kind of an integration; NotFound when there is no such id.
pub async fn integration_kind(tx: &mut Tx, id: &str) -> Result<IntegrationKind, StoreError> {
    const SQL: &str = "select kind from integrations where id = $1";
    let (kind,): (String,) = on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_one(c).await)?;
    IntegrationKind::parse(&kind).ok_or(StoreError::NotFound)
}

/// Replaces an integration's key hash; NotFound when there is no such id.
pub async fn rotate_integration(
    tx: &mut Tx,
    id: &str,
    key_hash: &str,
    at: i64,
) -> Result<Integration, StoreError> {
    let sql = format!(
        "update integrations set key_hash = $2, rotated_at = $3 where id = $1 \
        returning {INTEGRATION_COLUMNS}"
    );
    let row: IntegrationRow = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(key_hash)
        .bind(at)
        .fetch_one(c)
        .await)?;
    Ok(integration_from(row))
}

pub async fn delete_integration(tx: &mut Tx, id: &str) -> Result<Integration, StoreError> {
    let sql = format!("delete from integrations where id = $1 returning {INTEGRATION_COLUMNS}");
    let row: IntegrationRow = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    Ok(integration_from(row))
}

/// The integration whose key hashes to `key_hash`; NotFound otherwise.
pub async fn integration_by_key_hash(db: &Db, key_hash: &str) -> Result<Integration, StoreError> {
    let sql = format!("select {INTEGRATION_COLUMNS} from integrations where key_hash = $1");
    let row: IntegrationRow = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(key_hash)
        .fetch_one(p)
        .await)?;
    Ok(integration_from(row))
}

/// Integrations of one service (every service when None), by service then creation.
pub async fn list_integrations(
    db: &Db,
    service: Option<&str>,
) -> Result<Vec<Integration>, StoreError> {
    let sql = format!(
        "select {INTEGRATION_COLUMNS} from integrations where ($1 = '' or service_id = $1)"
    );
    let rows: Vec<IntegrationRow> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(service.unwrap_or(""))
        .fetch_all(p)
        .await)?;
    let mut found: Vec<Integration> = rows.into_iter().map(integration_from).collect();
    found.sort_by(|a, b| (&a.service, a.created_at, &a.id).cmp(&(&b.service, b.created_at, &b.id)));
    Ok(found)
}

// Alerts.

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: String,
    service_id: String,
    integration_id: Option<String>,
    dedup_key: String,
    status: String,
    severity: Option<String>,
    summary: String,
    source: String,
    labels: String,
    annotations: String,
    details: String,
    links: String,
    images: String,
    started_at: Option<i64>,
    created_at: i64,
    last_event_at: i64,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    resolved_at: Option<i64>,
    resolved_by: Option<String>,
    event_count: i64,
}

const ALERT_COLUMNS: &str = "id, service_id, integration_id, dedup_key, status, severity, \
    summary, source, labels, annotations, details, links, images, started_at, created_at, \
    last_event_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, event_count";

fn json_col<T: serde::de::DeserializeOwned>(
    id: &str,
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Config(format!("alert {id}: stored {what}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Config(e.to_string()))
}

pub fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Severity names as stored and as filters take them.
pub fn parse_severity(s: &str) -> Option<Severity> {
    [
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Info,
    ]
    .into_iter()
    .find(|v| severity_str(*v) == s)
}

fn alert_from(r: AlertRow) -> Result<Alert, StoreError> {
    // An unknown stored severity reads as none rather than hiding the alert.
    let severity = r.severity.as_deref().and_then(parse_severity);
    Ok(Alert {
        status: Status::parse(&r.status)
            .ok_or_else(|| StoreError::Config(format!("alert {}: status {:?}", r.id, r.status)))?,
        severity,
        labels: json_col(&r.id, "labels", &r.labels)?,
        annotations: json_col(&r.id, "annotations", &r.annotations)?,
        details: json_col(&r.id, "details", &r.details)?,
        links: json_col(&r.id, "links", &r.links)?,
        images: json_col(&r.id, "images", &r.images)?,
        id: r.id,
        service: r.service_id,
        integration: r.integration_id,
        dedup_key: r.dedup_key,
        summary: r.summary,
        source: r.source,
        started_at: r.started_at,
        created_at: r.created_at,
        last_event_at: r.last_event_at,
        acknowledged_at: r.acknowledged_at,
        acknowledged_by: r.acknowledged_by,
        resolved_at: r.resolved_at,
        resolved_by: r.resolved_by,
        event_count: r.event_count,
    })
}

/// Locks and returns the open alert for (service, key), if any (see the module comment).
async fn lock_open(tx: &mut Tx, service: &str, key: &str) -> Result<Option<Alert>, StoreError> {
    let sql = format!(
        "update alerts set event_count = event_count \
        where service_id = $1 and dedup_key = $2 and status <> 'resolved' returning {ALERT_COLUMNS}"
    );
    let row: Option<AlertRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(service)
        .bind(key)
        .fetch_optional(c)
        .await)?;
    row.map(alert_from).transpose()
}

/// Locks and returns the alert with this id; NotFound when there is none.
pub(crate) async fn lock_by_id(tx: &mut Tx, id: &str) -> Result<Alert, StoreError> {
    let sql = format!(
        "update alerts set event_count = event_count where id = $1 returning {ALERT_COLUMNS}"
    );
    let row: AlertRow = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    alert_from(row)
}

/// Inserts a new alert unless an open one with its key appeared meanwhile (false then): the
/// batch insert with one row, so the column list lives in one place. Rule, playbook and
/// deadlines are set afterwards on this path (`rules::ingest`).
async fn insert_alert(tx: &mut Tx, a: &Alert) -> Result<bool, StoreError> {
    let row = bulk::NewAlert {
        alert: a.clone(),
        rule: None,
        playbook: None,
        auto_resolve_at: None,
        response_due_at: None,
    };
    Ok(bulk::insert_alerts(tx, std::slice::from_ref(&row)).await? == 1)
}

/// Writes the parts of an alert that transitions change.
async fn update_progress(tx: &mut Tx, a: &Alert) -> Result<(), StoreError> {
    const SQL: &str = "update alerts set status = $2, last_event_at = $3, event_count = $4, \
        acknowledged_at = $5, acknowledged_by = $6, resolved_at = $7, resolved_by = $8 \
        where id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&a.id)
        .bind(a.status.as_str())
        .bind(a.last_event_at)
        .bind(a.event_count)
        .bind(a.acknowledged_at)
        .bind(&a.acknowledged_by)
        .bind(a.resolved_at)
        .bind(&a.resolved_by)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Appends a line to an alert's event log.
pub async fn log(
    tx: &mut Tx,
    alert: &str,
    at: i64,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    const SQL: &str =
        "insert into alert_log (alert_id, at, kind, actor, detail) values ($1, $2, $3, $4, $5)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(alert)
        .bind(at)
        .bind(kind)
        .bind(actor)
        .bind(detail)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    // What happens to an alert after it is attached to an incident (pages, acknowledgements,
    // escalations, automation) belongs on the incident's timeline too. A trigger or repeat
    // cannot concern an incident yet, so ingestion pays nothing for this.
    if crate::incidents::store::timeline::echoes(kind) {
        crate::incidents::store::timeline::echo_alert(tx, alert, at, kind, actor, detail).await?;
    }
    Ok(())
}

/// What one ingested event did.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The alert it created or changed (None when ignored).
    pub alert_id: Option<String>,
    /// The event's key, or the one generated for a trigger without one (senders get it back).
    pub dedup_key: String,
    pub created: bool,
    pub changed: bool,
    /// What it did to an existing alert.
    pub transition: Option<Transition>,
    pub ignored: Option<Ignored>,
}

impl Outcome {
    /// Only a new alert pages; repeats, acknowledgements and resolves never do.
    pub fn pages(&self) -> bool {
        self.created
    }
}

/// A lost race on the partial unique index is retried; two losses in a row would mean the
/// winner was resolved in between, which one more round settles.
const INGEST_ATTEMPTS: usize = 4;

/// The key `event` is deduplicated on: its own, trimmed, or a fresh one for an event that
/// came without (a new alert every time).
pub(crate) fn dedup_key_of(event: &AlertEvent) -> String {
    match event.dedup_key.as_deref().map(str::trim) {
        Some(k) if !k.is_empty() => k.to_string(),
        _ => new_secret("")[..32].to_string(),
    }
}

/// Applies `event` for `service` (through `integration`, when there is one) inside `tx`: the
/// alert, its log row and the caller's other writes commit together.
pub async fn ingest(
    tx: &mut Tx,
    integration: Option<&Integration>,
    service: &str,
    event: &AlertEvent,
    now: i64,
) -> Result<Outcome, StoreError> {
    let dedup_key = dedup_key_of(event);
    let actor = integration.map_or_else(|| "api".to_string(), |i| format!("integration:{}", i.id));
    let mut outcome = Outcome {
        alert_id: None,
        dedup_key: dedup_key.clone(),
        created: false,
        changed: false,
        transition: None,
        ignored: None,
    };
    for _ in 0..INGEST_ATTEMPTS {
        let open = lock_open(tx, service, &dedup_key).await?;
        match lifecycle::decide(open.as_ref(), event, now, &actor) {
            Decision::Create => {
                let id = lifecycle::new_id(now);
                let integration_id = integration.map(|i| i.id.as_str());
                let alert = lifecycle::new_alert(
                    id,
                    service,
                    integration_id,
                    dedup_key.clone(),
                    event,
                    now,
                );
                if !insert_alert(tx, &alert).await? {
                    continue;
                }
                log(tx, &alert.id, now, "trigger", &actor, &event.summary).await?;
                crate::engine::store::start_escalation(tx, &alert.id, service, now).await?;
                outcome.alert_id = Some(alert.id);
                outcome.created = true;
                outcome.changed = true;
                return Ok(outcome);
            }
            Decision::Change { transition, next } => {
                update_progress(tx, &next).await?;
                log(
                    tx,
                    &next.id,
                    now,
                    transition.as_str(),
                    &actor,
                    &event.summary,
                )
                .await?;
                crate::engine::store::after_transition(tx, &next.id, transition, now).await?;
                outcome.alert_id = Some(next.id);
                outcome.changed = true;
                outcome.transition = Some(transition);
                return Ok(outcome);
            }
            Decision::Ignore(why) => {
                outcome.alert_id = open.map(|a| a.id);
                outcome.ignored = Some(why);
                return Ok(outcome);
            }
        }
    }
    Err(StoreError::Conflict(format!(
        "alert {dedup_key:?} kept changing under concurrent writers"
    )))
}

/// A person acknowledging or resolving an alert by id: the alert afterwards, and whether it
/// changed. NotFound when there is no such alert; Conflict when it is already resolved.
pub async fn act(
    tx: &mut Tx,
    id: &str,
    action: PersonAction,
    by: &str,
    now: i64,
) -> Result<(Alert, bool), StoreError> {
    let alert = lock_by_id(tx, id).await?;
    match lifecycle::person(&alert, action, now, by) {
        Err(refused) => Err(StoreError::Conflict(refused.to_string())),
        Ok(None) => Ok((alert, false)),
        Ok(Some((transition, next))) => {
            update_progress(tx, &next).await?;
            log(tx, id, now, transition.as_str(), by, "").await?;
            crate::engine::store::after_transition(tx, id, transition, now).await?;
            Ok((next, true))
        }
    }
}

pub async fn acknowledge(
    tx: &mut Tx,
    id: &str,
    by: &str,
    now: i64,
) -> Result<(Alert, bool), StoreError> {
    act(tx, id, PersonAction::Acknowledge, by, now).await
}

pub async fn resolve(
    tx: &mut Tx,
    id: &str,
    by: &str,
    now: i64,
) -> Result<(Alert, bool), StoreError> {
    act(tx, id, PersonAction::Resolve, by, now).await
}

/// Which alerts to list; empty filters match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub service: Option<String>,
    pub severity: Option<Severity>,
    /// Only alerts created before this instant (paging backwards).
    pub before: Option<i64>,
    pub limit: u32,
}

/// Alerts matching `f`, newest first, at most `f.limit` (1..=500).
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<Alert>, StoreError> {
    let sql = format!(
        "select {ALERT_COLUMNS} from alerts where ($1 = '' or status = $1) \
        and ($2 = '' or service_id = $2) and ($3 = '' or severity = $3) and created_at < $4 \
        order by created_at desc, id desc limit $5"
    );
    let rows: Vec<AlertRow> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(f.status.map_or("", Status::as_str))
        .bind(f.service.as_deref().unwrap_or(""))
        .bind(f.severity.map_or("", severity_str))
        .bind(f.before.unwrap_or(i64::MAX))
        .bind(i64::from(f.limit.clamp(1, 500)))
        .fetch_all(p)
        .await)?;
    rows.into_iter().map(alert_from).collect()
}

/// One line of an alert's event log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub at: i64,
    /// trigger, repeat, acknowledge, resolve.
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

/// An alert with its log, oldest entry first; NotFound when there is no such id.
pub async fn get(db: &Db, id: &str) -> Result<(Alert, Vec<LogEntry>), StoreError> {
    let sql = format!("select {ALERT_COLUMNS} from alerts where id = $1");
    const LOG: &str =
        "select at, kind, actor, detail from alert_log where alert_id = $1 order by id";
    let row: AlertRow = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(p)
        .await)?;
    let entries: Vec<(i64, String, String, String)> =
        on_db!(db, |p| sqlx::query_as(LOG).bind(id).fetch_all(p).await)?;
    let log = entries
        .into_iter()
        .map(|(at, kind, actor, detail)| LogEntry {
            at,
            kind,
            actor,
            detail,
        })
        .collect();
    Ok((alert_from(row)?, log))
}

/// An alert read inside a transaction (without its log); NotFound when there is none.
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Alert, StoreError> {
    let sql = format!("select {ALERT_COLUMNS} from alerts where id = $1");
    let row: AlertRow = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    alert_from(row)
}

/// Like [`list`], for paging through pages that must not skip an alert: alerts of one batch
/// share `created_at`, so the next page starts after the last shown (`created_at`, id), not
/// merely before its instant (no id sorts below '', so None means "before the instant"). Up
/// to 501 rows: one more than a page holds says whether another page follows.
pub async fn list_page(
    db: &Db,
    f: &Filter,
    before_id: Option<&str>,
) -> Result<Vec<Alert>, StoreError> {
    let sql = format!(
        "select {ALERT_COLUMNS} from alerts where ($1 = '' or status = $1) \
        and ($2 = '' or service_id = $2) and ($3 = '' or severity = $3) \
        and (created_at < $4 or (created_at = $4 and id < $6)) \
        order by created_at desc, id desc limit $5"
    );
    let rows: Vec<AlertRow> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(f.status.map_or("", Status::as_str))
        .bind(f.service.as_deref().unwrap_or(""))
        .bind(f.severity.map_or("", severity_str))
        .bind(f.before.unwrap_or(i64::MAX))
        .bind(i64::from(f.limit.clamp(1, 501)))
        .bind(before_id.unwrap_or(""))
        .fetch_all(p)
        .await)?;
    rows.into_iter().map(alert_from).collect()
}
