//! SQL for SLOs (the catalog kind, stored whole as JSON with its service as a column) and for
//! impairments: when each service of an incident was impaired (`incident_services`, migration
//! 0014), set by responders and read by the budgets.

use crate::db::{Db, StoreError, Tx};
use crate::incidents::EntryKind;
use crate::incidents::store::timeline::{self, NewEntry};
use crate::{on_db, on_tx};

use super::Slo;
use super::budget::{self, Impairment};

pub async fn load(tx: &mut Tx) -> Result<Vec<Slo>, StoreError> {
    const SQL: &str = "select id, spec from slos";
    let rows: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    let mut out = rows
        .into_iter()
        .map(|(id, spec)| {
            serde_json::from_str::<Slo>(&spec)
                .map_err(|e| StoreError::Config(format!("slo {id}: stored spec: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

pub async fn upsert(tx: &mut Tx, s: &Slo) -> Result<(), StoreError> {
    const SQL: &str = "insert into slos (id, service_id, spec) values ($1, $2, $3) \
        on conflict (id) do update set service_id = excluded.service_id, spec = excluded.spec";
    let spec = serde_json::to_string(s).map_err(|e| StoreError::Config(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&s.id)
        .bind(&s.service)
        .bind(&spec)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// (incident, title, started, mitigated, resolved, impaired_from, impaired_to).
type StretchRow = (
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The impairments of `service` that may overlap `[from, to)`; open incidents last to `now`.
pub async fn service_impairments(
    db: &Db,
    service: &str,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Vec<Impairment>, StoreError> {
    // Coarse in SQL (what started before the window ends), exact in `budget`: the end of an
    // impairment falls back through three columns and `now`.
    const SQL: &str = "select i.id, i.title, i.started_at, i.mitigated_at, i.resolved_at, \
        s.impaired_from, s.impaired_to from incident_services s \
        join incidents i on i.id = s.incident_id \
        where s.service_id = $1 and coalesce(s.impaired_from, i.started_at) < $2";
    let rows: Vec<StretchRow> = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(service)
        .bind(to)
        .fetch_all(p)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, started, mitigated, resolved, f, t)| {
            let (a, b) = budget::effective((f, t), started, mitigated, resolved, now);
            Impairment {
                incident_id: id,
                title,
                from: a,
                to: b,
            }
        })
        .filter(|i| i.to > from)
        .collect())
}

/// Each service of incident `id` with its impaired stretch; NotFound for no such incident.
pub async fn incident_impairments(
    db: &Db,
    id: i64,
    now: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    const INCIDENT: &str =
        "select started_at, mitigated_at, resolved_at from incidents where id = $1";
    let (started, mitigated, resolved): (i64, Option<i64>, Option<i64>) =
        on_db!(db, |p| sqlx::query_as(INCIDENT).bind(id).fetch_one(p).await)?;
    const SQL: &str = "select service_id, impaired_from, impaired_to from incident_services \
        where incident_id = $1";
    let rows: Vec<(String, Option<i64>, Option<i64>)> =
        on_db!(db, |p| sqlx::query_as(SQL).bind(id).fetch_all(p).await)?;
    let mut out: Vec<(String, i64, i64)> = rows
        .into_iter()
        .map(|(service, f, t)| {
            let (a, b) = budget::effective((f, t), started, mitigated, resolved, now);
            (service, a, b)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Records when `service` was impaired during incident `id`, with a timeline entry, in one
/// transaction. NotFound when the incident does not exist or does not list the service.
pub async fn set_impairment(
    db: &Db,
    id: i64,
    service: &str,
    range: (i64, i64),
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    crate::incidents::store::lock(&mut tx, id).await?;
    const SQL: &str = "update incident_services set impaired_from = $3, impaired_to = $4 \
        where incident_id = $1 and service_id = $2";
    let changed = on_tx!(&mut tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(service)
        .bind(range.0)
        .bind(range.1)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let body = format!(
        "{service} impaired from {} to {} ({})",
        crate::clock::format_ms(range.0),
        crate::clock::format_ms(range.1),
        crate::incidents::metrics::duration_label(range.1 - range.0)
    );
    let entry = NewEntry {
        at: now,
        actor,
        body: &body,
        link_url: None,
        image_url: None,
        starred: false,
    };
    timeline::append(&mut tx, id, EntryKind::Service, &entry).await?;
    tx.commit().await?;
    Ok(())
}
