//! Timeline, role and update SQL. The timeline is append-only: the only change an entry ever
//! sees is its star. Role stints are closed (`to_at`) rather than overwritten, so the history
//! of who held what is the table itself.

use crate::db::{StoreError, Tx};
use crate::on_tx;

use super::super::{Entry, EntryKind, Role, RoleStint, Status, Update};

/// A timeline entry to append.
#[derive(Clone, Debug, Default)]
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub body: &'a str,
    pub link_url: Option<&'a str>,
    pub image_url: Option<&'a str>,
    pub starred: bool,
}

type EntryRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
);

fn entry_from(r: EntryRow) -> Entry {
    Entry {
        id: r.0,
        at: r.1,
        // An unknown kind can only come from a newer version: show it as a note.
        kind: EntryKind::parse(&r.2).unwrap_or(EntryKind::Note),
        actor: r.3,
        body: r.4,
        link_url: r.5,
        image_url: r.6,
        starred: r.7,
        body_html: r.8,
    }
}

/// Appends an entry and returns it.
pub async fn append(
    tx: &mut Tx,
    incident: i64,
    kind: EntryKind,
    e: &NewEntry<'_>,
) -> Result<Entry, StoreError> {
    const SQL: &str = "insert into incident_timeline (incident_id, at, kind, actor, body, \
        link_url, image_url, starred, body_html) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
        returning id";
    let html = crate::incidents::markdown::markdown_html(e.body);
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(incident)
        .bind(e.at)
        .bind(kind.as_str())
        .bind(e.actor)
        .bind(e.body)
        .bind(e.link_url)
        .bind(e.image_url)
        .bind(e.starred)
        .bind(&html)
        .fetch_one(c)
        .await)?;
    Ok(Entry {
        id,
        at: e.at,
        kind,
        actor: e.actor.into(),
        body: e.body.into(),
        link_url: e.link_url.map(Into::into),
        image_url: e.image_url.map(Into::into),
        starred: e.starred,
        body_html: Some(html),
    })
}

/// The incident's entries with an id above `after` (0: all), oldest first.
pub async fn entries(tx: &mut Tx, incident: i64, after: i64) -> Result<Vec<Entry>, StoreError> {
    const SQL: &str = "select id, at, kind, actor, body, link_url, image_url, starred, \
        body_html from incident_timeline where incident_id = $1 and id > $2 order by id";
    let rows: Vec<EntryRow> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(incident)
        .bind(after)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(entry_from).collect())
}

/// Stars or unstars an entry; NotFound when the incident has no such entry.
pub async fn set_starred(
    tx: &mut Tx,
    incident: i64,
    entry: i64,
    starred: bool,
) -> Result<Entry, StoreError> {
    const SQL: &str = "update incident_timeline set starred = $3 where incident_id = $1 \
        and id = $2 returning id, at, kind, actor, body, link_url, image_url, starred, body_html";
    let row: EntryRow = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(incident)
        .bind(entry)
        .bind(starred)
        .fetch_one(c)
        .await)?;
    Ok(entry_from(row))
}

type StintRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    String,
    String,
    Option<i64>,
);

fn stint_from(r: StintRow) -> RoleStint {
    RoleStint {
        id: r.0,
        role: Role::parse(&r.1).unwrap_or(Role::Commander),
        person_id: r.2,
        from_at: r.3,
        to_at: r.4,
        assigned_by: r.5,
        handover_note: r.6,
        prompted_at: r.7,
    }
}

const STINT_COLUMNS: &str =
    "id, role, person_id, from_at, to_at, assigned_by, handover_note, prompted_at";

/// Every stint of every role, oldest first.
pub async fn roles(tx: &mut Tx, incident: i64) -> Result<Vec<RoleStint>, StoreError> {
    let sql = format!(
        "select {STINT_COLUMNS} from incident_roles where incident_id = $1 order by from_at, id"
    );
    let rows: Vec<StintRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(incident)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(stint_from).collect())
}

/// Ends the current holder's stint of `role` (if any) at `at` and returns it.
pub async fn end_stint(
    tx: &mut Tx,
    incident: i64,
    role: Role,
    at: i64,
) -> Result<Option<RoleStint>, StoreError> {
    let sql = format!(
        "update incident_roles set to_at = $3 where incident_id = $1 and role = $2 \
        and to_at is null returning {STINT_COLUMNS}"
    );
    let row: Option<StintRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(incident)
        .bind(role.as_str())
        .bind(at)
        .fetch_optional(c)
        .await)?;
    Ok(row.map(stint_from))
}

/// Starts a stint of `role` for `person`.
pub async fn start_stint(
    tx: &mut Tx,
    incident: i64,
    role: Role,
    person: &str,
    at: i64,
    by: &str,
    note: &str,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into incident_roles (incident_id, role, person_id, from_at, \
        assigned_by, handover_note) values ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(incident)
        .bind(role.as_str())
        .bind(person)
        .bind(at)
        .bind(by)
        .bind(note)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records that the holder of stint `id` was asked to hand over; false when already asked.
pub async fn mark_prompted(tx: &mut Tx, id: i64, at: i64) -> Result<bool, StoreError> {
    const SQL: &str =
        "update incident_roles set prompted_at = $2 where id = $1 and prompted_at is null";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Current stints of open incidents not yet asked to hand over: (incident, stint).
pub async fn unprompted_holders(tx: &mut Tx) -> Result<Vec<(i64, RoleStint)>, StoreError> {
    let sql = format!(
        "select r.incident_id, {} from incident_roles r join incidents i on i.id = r.incident_id \
        where r.to_at is null and r.prompted_at is null \
        and i.status in ('investigating', 'identified', 'monitoring') order by r.id",
        STINT_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    type Joined = (
        i64,
        i64,
        String,
        String,
        i64,
        Option<i64>,
        String,
        String,
        Option<i64>,
    );
    let rows: Vec<Joined> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.0, stint_from((r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8))))
        .collect())
}

/// Records a stakeholder update and returns its id.
pub async fn insert_update(tx: &mut Tx, incident: i64, u: &Update) -> Result<i64, StoreError> {
    const SQL: &str = "insert into incident_updates (incident_id, at, author, status, impact, \
        actions, next_update_at) values ($1, $2, $3, $4, $5, $6, $7) returning id";
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(incident)
        .bind(u.at)
        .bind(&u.author)
        .bind(u.status.as_str())
        .bind(&u.impact)
        .bind(&u.actions)
        .bind(u.next_update_at)
        .fetch_one(c)
        .await)?;
    Ok(id)
}

/// Every update, oldest first.
pub async fn updates(tx: &mut Tx, incident: i64) -> Result<Vec<Update>, StoreError> {
    const SQL: &str = "select id, at, author, status, impact, actions, next_update_at \
        from incident_updates where incident_id = $1 order by id";
    type UpdateRow = (i64, i64, String, String, String, String, Option<i64>);
    let rows: Vec<UpdateRow> = on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(incident)
        .fetch_all(c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| Update {
            id: r.0,
            at: r.1,
            author: r.2,
            status: Status::parse(&r.3).unwrap_or(Status::Investigating),
            impact: r.4,
            actions: r.5,
            next_update_at: r.6,
        })
        .collect())
}

/// Whether an alert log line of `kind` is echoed on the timelines of its incidents.
pub fn echoes(kind: &str) -> bool {
    matches!(
        kind,
        "page" | "acknowledge" | "resolve" | "escalation" | "action"
    )
}

/// Copies an alert log line onto the timeline of every open incident the alert is attached
/// to; an acknowledgement also counts as the incident's first, when it has none.
pub async fn echo_alert(
    tx: &mut Tx,
    alert: &str,
    at: i64,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<u64, StoreError> {
    const OPEN: &str = "select ia.incident_id from incident_alerts ia \
        join incidents i on i.id = ia.incident_id where ia.alert_id = $1 \
        and i.status in ('investigating', 'identified', 'monitoring')";
    let incidents: Vec<(i64,)> =
        on_tx!(tx, |c| sqlx::query_as(OPEN).bind(alert).fetch_all(c).await)?;
    let (entry, body) = echo_body(alert, kind, detail);
    for (id,) in &incidents {
        let e = NewEntry {
            at,
            actor,
            body: &body,
            ..NewEntry::default()
        };
        append(tx, *id, entry, &e).await?;
        if kind == "acknowledge" {
            const ACK: &str = "update incidents set acknowledged_at = $2 \
                where id = $1 and acknowledged_at is null";
            on_tx!(tx, |c| sqlx::query(ACK)
                .bind(id)
                .bind(at)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    Ok(incidents.len() as u64)
}

/// The timeline entry an alert log line of `kind` becomes.
fn echo_body(alert: &str, kind: &str, detail: &str) -> (EntryKind, String) {
    let entry = match kind {
        "page" | "escalation" => EntryKind::Page,
        "acknowledge" => EntryKind::Ack,
        _ => EntryKind::Alert,
    };
    let verb = match kind {
        "page" => "paged",
        "acknowledge" => "acknowledged",
        "resolve" => "resolved",
        "action" => "automation",
        other => other,
    };
    let mut body = format!("Alert `{alert}` {verb}");
    if !detail.is_empty() {
        body.push_str(": ");
        body.push_str(&crate::notify::chat::md_escape(detail));
    }
    (entry, body)
}

/// An alert log line to echo: alert, at, kind, actor, detail.
pub type Line<'a> = (&'a str, i64, &'a str, &'a str, &'a str);

/// [`echo_alert`] for many lines at once (the engine's pages of a tick): one read of the open
/// incidents of their alerts, one insert of the entries. Not for acknowledgements, which
/// also mark the incident.
pub async fn echo_alert_lines(tx: &mut Tx, lines: &[Line<'_>]) -> Result<u64, StoreError> {
    debug_assert!(lines.iter().all(|l| l.2 != "acknowledge"));
    let alerts: Vec<&str> = lines.iter().map(|l| l.0).collect();
    let mut open: Vec<(String, i64)> = Vec::new();
    for alerts in alerts.chunks(crate::db::MAX_BINDS) {
        let rows: Vec<(String, i64)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "select ia.alert_id, ia.incident_id from incident_alerts ia \
                join incidents i on i.id = ia.incident_id \
                where i.status in ('investigating', 'identified', 'monitoring') \
                and ia.alert_id in (",
            );
            let mut list = q.separated(", ");
            for a in alerts {
                list.push_bind(*a);
            }
            q.push(")");
            q.build_query_as().fetch_all(c).await
        })?;
        open.extend(rows);
    }
    let mut entries = Vec::new();
    for (alert, at, kind, actor, detail) in lines {
        for (_, incident) in open.iter().filter(|(a, _)| a == alert) {
            let (entry, body) = echo_body(alert, kind, detail);
            let html = crate::incidents::markdown::markdown_html(&body);
            entries.push((*incident, *at, entry, *actor, body, html));
        }
    }
    for chunk in entries.chunks(crate::db::MAX_BINDS / 7) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into incident_timeline (incident_id, at, kind, actor, body, \
                starred, body_html) ",
            );
            q.push_values(chunk, |mut b, (incident, at, entry, actor, body, html)| {
                b.push_bind(*incident)
                    .push_bind(*at)
                    .push_bind(entry.as_str())
                    .push_bind(*actor)
                    .push_bind(body)
                    .push_bind(false)
                    .push_bind(html);
            });
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(entries.len() as u64)
}
