//! The library's SQL: the search text kept in step with the postmortem, the search itself
//! (every word must appear, filters on the incident), and the reminders that are due.

use sqlx::AssertSqlSafe;

use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

/// Recomputes the lowercased search text from the title (as just saved) and every section.
pub async fn reindex(tx: &mut Tx, id: i64, title: &str) -> Result<(), StoreError> {
    const READ: &str = "select body from postmortem_sections where incident_id = $1 \
        order by position";
    let bodies: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(READ).bind(id).fetch_all(c).await)?;
    let mut text = title.to_lowercase();
    for (b,) in bodies {
        text.push('\n');
        text.push_str(&b.to_lowercase());
    }
    const SQL: &str = "update postmortems set search_text = $2 where incident_id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(&text)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What the library shows of one postmortem.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub incident_id: i64,
    pub title: String,
    pub status: String,
    pub owner: String,
    pub severity: String,
    pub started_at: i64,
    pub due_at: Option<i64>,
    pub published_at: Option<i64>,
}

/// The library's filters; empty ones match everything.
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// Words that must all appear (case-insensitive) in the title or a section.
    pub words: Vec<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    /// Any of these services (a team filter becomes its services).
    pub services: Vec<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only published ones (what viewers see).
    pub published_only: bool,
    pub limit: u32,
}

const MAX_WORDS: usize = 6;

pub async fn search(tx: &mut Tx, s: &Search) -> Result<Vec<Hit>, StoreError> {
    let mut words: Vec<String> = s
        .words
        .iter()
        .map(|w| w.to_lowercase().replace(['%', '_', '\\'], ""))
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .collect();
    words.resize(MAX_WORDS, String::new());
    let services = if s.services.is_empty() {
        String::new()
    } else {
        // Placeholders, never values: the ids are bound below.
        let marks: Vec<String> = (0..s.services.len())
            .map(|k| format!("${}", 13 + k))
            .collect();
        format!(
            " and p.incident_id in (select incident_id from incident_services \
            where service_id in ({}))",
            marks.join(", ")
        )
    };
    let sql = format!(
        "select p.incident_id, p.title, p.status, p.owner, i.severity_id, i.started_at, \
        p.due_at, p.published_at from postmortems p join incidents i on i.id = p.incident_id \
        where ($1 = '' or p.search_text like '%' || $1 || '%') \
        and ($2 = '' or p.search_text like '%' || $2 || '%') \
        and ($3 = '' or p.search_text like '%' || $3 || '%') \
        and ($4 = '' or p.search_text like '%' || $4 || '%') \
        and ($5 = '' or p.search_text like '%' || $5 || '%') \
        and ($6 = '' or p.search_text like '%' || $6 || '%') \
        and ($7 = '' or p.status = $7) and ($8 = '' or i.severity_id = $8) \
        and ($9 = 0 or p.status = 'published') \
        and i.started_at >= $10 and i.started_at < $11{services} \
        order by i.started_at desc, p.incident_id desc limit $12"
    );
    let limit = i64::from(s.limit.clamp(1, 500));
    type HitRow = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<HitRow> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
        for w in &words {
            q = q.bind(w.clone());
        }
        q = q
            .bind(s.status.clone().unwrap_or_default())
            .bind(s.severity.clone().unwrap_or_default())
            .bind(i64::from(s.published_only))
            .bind(s.from.unwrap_or(i64::MIN))
            .bind(s.to.unwrap_or(i64::MAX))
            .bind(limit);
        for id in &s.services {
            q = q.bind(id.clone());
        }
        q.fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Hit {
            incident_id: r.0,
            title: r.1,
            status: r.2,
            owner: r.3,
            severity: r.4,
            started_at: r.5,
            due_at: r.6,
            published_at: r.7,
        })
        .collect())
}

/// Postmortems whose reminder is due at `now` (not yet published).
pub async fn reminders_due(db: &Db, now: i64) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "select incident_id from postmortems where remind_at <= $1 \
        and status <> 'published' order by remind_at limit 100";
    let rows: Vec<(i64,)> = on_db!(db, |p| sqlx::query_as(SQL).bind(now).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
