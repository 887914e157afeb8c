//! Incident SQL: the incident row and what hangs off it (services, impacted functions, alerts,
//! participants, subscribers). The timeline, roles and updates are in `store/timeline.rs`,
//! the incident outbox in `store/messages.rs`. Reads take a transaction so a command reads
//! what it is about to change and a page reads one consistent state (`Db::begin_read`).

pub mod deadlines;
pub mod delivery;
pub mod messages;
pub mod timeline;

use sqlx::AssertSqlSafe;

use crate::db::{Db, StoreError, Tx};
use crate::on_tx;

use super::{Full, ImpactedFunction, Incident, Participant, Status, Subscriber};

const COLUMNS: &str = "id, title, summary, status, severity_id, source, declared_at, \
    declared_by, started_at, acknowledged_at, mitigated_at, resolved_at, closed_at, \
    channel_kind, channel_url, last_update_at, update_due_at, lapses, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    title: String,
    summary: String,
    status: String,
    severity_id: String,
    source: String,
    declared_at: i64,
    declared_by: String,
    started_at: i64,
    acknowledged_at: Option<i64>,
    mitigated_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    channel_kind: Option<String>,
    channel_url: Option<String>,
    last_update_at: Option<i64>,
    update_due_at: Option<i64>,
    lapses: i64,
    updated_at: i64,
}

fn from_row(r: Row) -> Result<Incident, StoreError> {
    let status = Status::parse(&r.status)
        .ok_or_else(|| StoreError::Config(format!("unknown incident status {:?}", r.status)))?;
    Ok(Incident {
        id: r.id,
        title: r.title,
        summary: r.summary,
        status,
        severity: r.severity_id,
        source: r.source,
        declared_at: r.declared_at,
        declared_by: r.declared_by,
        started_at: r.started_at,
        acknowledged_at: r.acknowledged_at,
        mitigated_at: r.mitigated_at,
        resolved_at: r.resolved_at,
        closed_at: r.closed_at,
        channel_kind: r.channel_kind,
        channel_url: r.channel_url,
        last_update_at: r.last_update_at,
        update_due_at: r.update_due_at,
        lapses: r.lapses,
        updated_at: r.updated_at,
    })
}

/// Inserts a new incident (its `id` is ignored) and returns its id.
pub async fn insert(tx: &mut Tx, i: &Incident) -> Result<i64, StoreError> {
    const SQL: &str = "insert into incidents (title, summary, status, severity_id, source, \
        declared_at, declared_by, started_at, acknowledged_at, mitigated_at, resolved_at, \
        closed_at, channel_kind, channel_url, last_update_at, update_due_at, lapses, updated_at) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
        returning id";
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(&i.title)
        .bind(&i.summary)
        .bind(i.status.as_str())
        .bind(&i.severity)
        .bind(&i.source)
        .bind(i.declared_at)
        .bind(&i.declared_by)
        .bind(i.started_at)
        .bind(i.acknowledged_at)
        .bind(i.mitigated_at)
        .bind(i.resolved_at)
        .bind(i.closed_at)
        .bind(&i.channel_kind)
        .bind(&i.channel_url)
        .bind(i.last_update_at)
        .bind(i.update_due_at)
        .bind(i.lapses)
        .bind(i.updated_at)
        .fetch_one(c)
        .await)?;
    Ok(id)
}

/// The incident, its row locked until the transaction ends (PostgreSQL; SQLite's write
/// transactions are already exclusive). NotFound when there is none.
pub async fn lock(tx: &mut Tx, id: i64) -> Result<Incident, StoreError> {
    let sql = format!("update incidents set lapses = lapses where id = $1 returning {COLUMNS}");
    let row: Row = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    from_row(row)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Incident, StoreError> {
    let sql = format!("select {COLUMNS} from incidents where id = $1");
    let row: Row = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    from_row(row)
}

/// Writes the incident's mutable state back.
pub async fn save(tx: &mut Tx, i: &Incident) -> Result<(), StoreError> {
    const SQL: &str = "update incidents set title = $2, summary = $3, status = $4, \
        severity_id = $5, acknowledged_at = $6, mitigated_at = $7, resolved_at = $8, \
        closed_at = $9, channel_kind = $10, channel_url = $11, last_update_at = $12, \
        update_due_at = $13, lapses = $14, updated_at = $15, started_at = $16 where id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(i.id)
        .bind(&i.title)
        .bind(&i.summary)
        .bind(i.status.as_str())
        .bind(&i.severity)
        .bind(i.acknowledged_at)
        .bind(i.mitigated_at)
        .bind(i.resolved_at)
        .bind(i.closed_at)
        .bind(&i.channel_kind)
        .bind(&i.channel_url)
        .bind(i.last_update_at)
        .bind(i.update_due_at)
        .bind(i.lapses)
        .bind(i.updated_at)
        .bind(i.started_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Which incidents to list; empty filters match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only open ones (investigating, identified, monitoring).
    pub open: bool,
    pub status: Option<Status>,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub limit: u32,
}

/// Incidents matching `f`: open ones first, then newest first.
pub async fn list(tx: &mut Tx, f: &Filter) -> Result<Vec<Incident>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from incidents where ($1 = 0 or status in \
        ('investigating', 'identified', 'monitoring')) and ($2 = '' or status = $2) \
        and ($3 = '' or severity_id = $3) and ($4 = '' or id in \
        (select incident_id from incident_services where service_id = $4)) \
        order by case when status in ('investigating', 'identified', 'monitoring') \
        then 0 else 1 end, declared_at desc, id desc limit $5"
    );
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(i64::from(f.open))
        .bind(f.status.map_or("", Status::as_str))
        .bind(f.severity.as_deref().unwrap_or(""))
        .bind(f.service.as_deref().unwrap_or(""))
        .bind(i64::from(f.limit.clamp(1, 500)))
        .fetch_all(c)
        .await)?;
    rows.into_iter().map(from_row).collect()
}

/// Open incidents whose stakeholder update is overdue at `now`.
pub async fn updates_overdue(db: &Db, now: i64) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "select id from incidents where update_due_at <= $1 \
        and status in ('investigating', 'identified', 'monitoring') order by update_due_at";
    let rows: Vec<(i64,)> =
        crate::on_db!(db, |p| sqlx::query_as(SQL).bind(now).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Ids of every open incident.
pub async fn open_ids(db: &Db) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "select id from incidents \
        where status in ('investigating', 'identified', 'monitoring') order by id";
    let rows: Vec<(i64,)> = crate::on_db!(db, |p| sqlx::query_as(SQL).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Attaches a service; false when it already was.
pub async fn add_service(tx: &mut Tx, id: i64, service: &str) -> Result<bool, StoreError> {
    const SQL: &str = "insert into incident_services (incident_id, service_id) values ($1, $2) \
        on conflict do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(service)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn services(tx: &mut Tx, id: i64) -> Result<Vec<String>, StoreError> {
    const SQL: &str =
        "select service_id from incident_services where incident_id = $1 order by service_id";
    let rows: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// Replaces the impacted business functions.
pub async fn set_functions(
    tx: &mut Tx,
    id: i64,
    functions: &[ImpactedFunction],
) -> Result<(), StoreError> {
    const DELETE: &str = "delete from incident_functions where incident_id = $1";
    on_tx!(tx, |c| sqlx::query(DELETE)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    // A handful of rows: one statement each keeps the SQL plain on both backends.
    const SQL: &str = "insert into incident_functions (incident_id, function_id, name, \
        criticality) values ($1, $2, $3, $4)";
    for f in functions {
        on_tx!(tx, |c| sqlx::query(SQL)
            .bind(id)
            .bind(&f.id)
            .bind(&f.name)
            .bind(&f.criticality)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn functions(tx: &mut Tx, id: i64) -> Result<Vec<ImpactedFunction>, StoreError> {
    const SQL: &str = "select function_id, name, criticality from incident_functions \
        where incident_id = $1 order by case criticality when 'critical' then 0 \
        when 'high' then 1 when 'medium' then 2 else 3 end, name";
    let rows: Vec<(String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, criticality)| ImpactedFunction {
            id,
            name,
            criticality,
        })
        .collect())
}

/// Attaches an alert; false when it already was.
pub async fn attach_alert(tx: &mut Tx, id: i64, alert: &str, at: i64) -> Result<bool, StoreError> {
    const SQL: &str = "insert into incident_alerts (incident_id, alert_id, attached_at) \
        values ($1, $2, $3) on conflict do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(alert)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn alerts(tx: &mut Tx, id: i64) -> Result<Vec<String>, StoreError> {
    const SQL: &str = "select alert_id from incident_alerts where incident_id = $1 \
        order by attached_at, alert_id";
    let rows: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// The incidents an alert is attached to, newest first.
pub async fn incidents_of_alert(tx: &mut Tx, alert: &str) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "select incident_id from incident_alerts where alert_id = $1 \
        order by incident_id desc";
    let rows: Vec<(i64,)> = on_tx!(tx, |c| sqlx::query_as(SQL).bind(alert).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// Adds a team or an investigator; false when they were already in.
pub async fn add_participant(
    tx: &mut Tx,
    id: i64,
    kind: &str,
    ref_id: &str,
    at: i64,
    by: &str,
) -> Result<bool, StoreError> {
    const SQL: &str = "insert into incident_participants (incident_id, kind, ref_id, added_at, \
        added_by) values ($1, $2, $3, $4, $5) on conflict do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(kind)
        .bind(ref_id)
        .bind(at)
        .bind(by)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn participants(tx: &mut Tx, id: i64) -> Result<Vec<Participant>, StoreError> {
    const SQL: &str = "select kind, ref_id, added_at, added_by from incident_participants \
        where incident_id = $1 order by added_at, kind, ref_id";
    let rows: Vec<(String, String, i64, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(kind, id, added_at, added_by)| Participant {
            kind,
            id,
            added_at,
            added_by,
        })
        .collect())
}

/// Subscribes someone; false when they already were.
pub async fn add_subscriber(tx: &mut Tx, id: i64, s: &Subscriber) -> Result<bool, StoreError> {
    const SQL: &str = "insert into incident_subscribers (incident_id, kind, target) \
        values ($1, $2, $3) on conflict do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(&s.kind)
        .bind(&s.target)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Unsubscribes; false when they were not subscribed.
pub async fn remove_subscriber(tx: &mut Tx, id: i64, s: &Subscriber) -> Result<bool, StoreError> {
    const SQL: &str =
        "delete from incident_subscribers where incident_id = $1 and kind = $2 and target = $3";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(&s.kind)
        .bind(&s.target)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn subscribers(tx: &mut Tx, id: i64) -> Result<Vec<Subscriber>, StoreError> {
    const SQL: &str = "select kind, target from incident_subscribers where incident_id = $1 \
        order by kind, target";
    let rows: Vec<(String, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(kind, target)| Subscriber { kind, target })
        .collect())
}

/// Everything about one incident, read in one transaction.
pub async fn full(db: &Db, id: i64) -> Result<Full, StoreError> {
    let mut tx = db.begin_read().await?;
    full_in(&mut tx, id).await
}

/// Everything about one incident, inside the caller's transaction.
pub async fn full_in(tx: &mut Tx, id: i64) -> Result<Full, StoreError> {
    let incident = get(tx, id).await?;
    Ok(Full {
        incident,
        services: services(tx, id).await?,
        functions: functions(tx, id).await?,
        alerts: alerts(tx, id).await?,
        roles: timeline::roles(tx, id).await?,
        participants: participants(tx, id).await?,
        timeline: timeline::entries(tx, id, 0).await?,
        updates: timeline::updates(tx, id).await?,
        subscribers: subscribers(tx, id).await?,
    })
}
