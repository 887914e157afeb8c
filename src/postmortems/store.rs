//! Postmortem SQL: the postmortem row, its sections, reviewers and comments. Action items
//! are in `store/actions.rs`, the library's search and the reminders' claim in
//! `store/library.rs`.

pub mod actions;
pub mod facts;
pub mod library;

use sqlx::AssertSqlSafe;

use crate::db::{Db, StoreError, Tx};
use crate::on_tx;

use super::{Comment, Fill, PmFull, PmStatus, Postmortem, Reviewer, Section};

const COLUMNS: &str = "incident_id, title, status, owner, created_at, created_by, due_at, \
    remind_at, submitted_at, published_at, published_by, updated_at";

type Row = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
);

fn from_row(r: Row) -> Result<Postmortem, StoreError> {
    let (incident_id, title, status, owner, created_at, created_by, due_at, remind_at) =
        (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7);
    Ok(Postmortem {
        incident_id,
        title,
        status: PmStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("unknown postmortem status {status:?}")))?,
        owner,
        created_at,
        created_by,
        due_at,
        remind_at,
        submitted_at: r.8,
        published_at: r.9,
        published_by: r.10,
        updated_at: r.11,
    })
}

/// Inserts a new postmortem; Conflict when the incident already has one.
pub async fn insert(tx: &mut Tx, p: &Postmortem) -> Result<(), StoreError> {
    const SQL: &str = "insert into postmortems (incident_id, title, status, owner, created_at, \
        created_by, due_at, remind_at, submitted_at, published_at, published_by, updated_at) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(p.incident_id)
        .bind(&p.title)
        .bind(p.status.as_str())
        .bind(&p.owner)
        .bind(p.created_at)
        .bind(&p.created_by)
        .bind(p.due_at)
        .bind(p.remind_at)
        .bind(p.submitted_at)
        .bind(p.published_at)
        .bind(&p.published_by)
        .bind(p.updated_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The postmortem, its row locked until the transaction ends.
pub async fn lock(tx: &mut Tx, id: i64) -> Result<Postmortem, StoreError> {
    let sql = format!(
        "update postmortems set updated_at = updated_at where incident_id = $1 returning {COLUMNS}"
    );
    let row: Row = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    from_row(row)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Postmortem, StoreError> {
    let sql = format!("select {COLUMNS} from postmortems where incident_id = $1");
    let row: Row = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(c)
        .await)?;
    from_row(row)
}

/// Whether the incident has a postmortem.
pub async fn exists(tx: &mut Tx, id: i64) -> Result<bool, StoreError> {
    const SQL: &str = "select count(*) from postmortems where incident_id = $1";
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Writes the postmortem's mutable state back, and its search text.
pub async fn save(tx: &mut Tx, p: &Postmortem) -> Result<(), StoreError> {
    const SQL: &str = "update postmortems set title = $2, status = $3, owner = $4, due_at = $5, \
        remind_at = $6, submitted_at = $7, published_at = $8, published_by = $9, \
        updated_at = $10 where incident_id = $1";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(p.incident_id)
        .bind(&p.title)
        .bind(p.status.as_str())
        .bind(&p.owner)
        .bind(p.due_at)
        .bind(p.remind_at)
        .bind(p.submitted_at)
        .bind(p.published_at)
        .bind(&p.published_by)
        .bind(p.updated_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    library::reindex(tx, p.incident_id, &p.title).await
}

/// Inserts or replaces a section (its template fields and body).
pub async fn put_section(
    tx: &mut Tx,
    id: i64,
    position: usize,
    s: &Section,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into postmortem_sections (incident_id, key, position, title, \
        help, required, fill, body, updated_at, updated_by) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (incident_id, key) \
        do update set body = excluded.body, updated_at = excluded.updated_at, \
        updated_by = excluded.updated_by";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(&s.key)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&s.title)
        .bind(&s.help)
        .bind(i64::from(s.required))
        .bind(s.fill.as_str())
        .bind(&s.body)
        .bind(s.updated_at)
        .bind(&s.updated_by)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn sections(tx: &mut Tx, id: i64) -> Result<Vec<Section>, StoreError> {
    const SQL: &str = "select key, title, help, required, fill, body, updated_at, updated_by \
        from postmortem_sections where incident_id = $1 order by position, key";
    type R = (String, String, String, i64, String, String, i64, String);
    let rows: Vec<R> = on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(
            |(key, title, help, required, fill, body, updated_at, updated_by)| Section {
                key,
                title,
                help,
                required: required != 0,
                fill: Fill::parse(&fill).unwrap_or_default(),
                body,
                updated_at,
                updated_by,
            },
        )
        .collect())
}

/// Adds a reviewer; false when they already were one.
pub async fn add_reviewer(tx: &mut Tx, id: i64, r: &Reviewer) -> Result<bool, StoreError> {
    const SQL: &str = "insert into postmortem_reviewers (incident_id, person_id, added_at, \
        added_by) values ($1, $2, $3, $4) on conflict do nothing";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(&r.person_id)
        .bind(r.added_at)
        .bind(&r.added_by)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn remove_reviewer(tx: &mut Tx, id: i64, person: &str) -> Result<bool, StoreError> {
    const SQL: &str = "delete from postmortem_reviewers where incident_id = $1 and person_id = $2";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(person)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Records `person`'s approval (None clears every approval: the text changed).
pub async fn set_approval(
    tx: &mut Tx,
    id: i64,
    person: Option<&str>,
    at: Option<i64>,
) -> Result<(), StoreError> {
    const SQL: &str = "update postmortem_reviewers set approved_at = $3 \
        where incident_id = $1 and ($2 = '' or person_id = $2)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(person.unwrap_or(""))
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn reviewers(tx: &mut Tx, id: i64) -> Result<Vec<Reviewer>, StoreError> {
    const SQL: &str = "select person_id, added_at, added_by, approved_at \
        from postmortem_reviewers where incident_id = $1 order by added_at, person_id";
    let rows: Vec<(String, i64, String, Option<i64>)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(person_id, added_at, added_by, approved_at)| Reviewer {
            person_id,
            added_at,
            added_by,
            approved_at,
        })
        .collect())
}

pub async fn add_comment(tx: &mut Tx, id: i64, c: &Comment) -> Result<i64, StoreError> {
    const SQL: &str = "insert into postmortem_comments (incident_id, section_key, at, author, \
        body) values ($1, $2, $3, $4, $5) returning id";
    let (cid,): (i64,) = on_tx!(tx, |x| sqlx::query_as(SQL)
        .bind(id)
        .bind(&c.section)
        .bind(c.at)
        .bind(&c.author)
        .bind(&c.body)
        .fetch_one(x)
        .await)?;
    Ok(cid)
}

pub async fn comments(tx: &mut Tx, id: i64) -> Result<Vec<Comment>, StoreError> {
    const SQL: &str = "select id, section_key, at, author, body from postmortem_comments \
        where incident_id = $1 order by id";
    let rows: Vec<(i64, String, i64, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, section, at, author, body)| Comment {
            id,
            section,
            at,
            author,
            body,
        })
        .collect())
}

/// Everything about one postmortem, read in one transaction.
pub async fn full_in(tx: &mut Tx, id: i64) -> Result<PmFull, StoreError> {
    Ok(PmFull {
        postmortem: get(tx, id).await?,
        sections: sections(tx, id).await?,
        reviewers: reviewers(tx, id).await?,
        comments: comments(tx, id).await?,
        actions: actions::of(tx, id).await?,
    })
}

pub async fn full(db: &Db, id: i64) -> Result<PmFull, StoreError> {
    let mut tx = db.begin_read().await?;
    let f = full_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(f)
}
