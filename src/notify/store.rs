//! All notification SQL: contact methods and notification rules (migration 0007), and each
//! method's test throttle (0016; the tests themselves are outbox rows, `engine::store`). Lists
//! are sorted in Rust after loading, so both backends give the same order.

use std::collections::HashMap;

use crate::clock::Millis;
use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::contact::{ContactKind, ContactMethod, NotificationRule};

type MethodRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
);

const METHOD_COLUMNS: &str = "id, person_id, kind, target, secret, created_at, verified_at";

fn method_from(r: MethodRow) -> ContactMethod {
    let (id, person, kind, target, secret, created_at, verified_at) = r;
    ContactMethod {
        id,
        person,
        // The column's check constraint allows only the known kinds.
        kind: ContactKind::parse(&kind).unwrap_or(ContactKind::Webhook),
        target,
        secret,
        created_at,
        verified_at,
    }
}

pub async fn insert_method(tx: &mut Tx, m: &ContactMethod) -> Result<(), StoreError> {
    const SQL: &str = "insert into contact_methods \
        (id, person_id, kind, target, secret, created_at, verified_at) \
        values ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&m.id)
        .bind(&m.person)
        .bind(m.kind.as_str())
        .bind(&m.target)
        .bind(&m.secret)
        .bind(m.created_at)
        .bind(m.verified_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A person's contact methods, oldest first.
pub async fn list_methods(db: &Db, person: &str) -> Result<Vec<ContactMethod>, StoreError> {
    let sql = format!("select {METHOD_COLUMNS} from contact_methods where person_id = $1");
    let rows: Vec<MethodRow> = on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(person)
        .fetch_all(p)
        .await)?;
    let mut all: Vec<ContactMethod> = rows.into_iter().map(method_from).collect();
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(all)
}

/// One contact method (with its secret, for the sender); NotFound when there is no such id.
pub async fn get_method(db: &Db, id: &str) -> Result<ContactMethod, StoreError> {
    let sql = format!("select {METHOD_COLUMNS} from contact_methods where id = $1");
    let row: MethodRow = on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(p)
        .await)?;
    Ok(method_from(row))
}

/// Records that a message reached the method; NotFound when there is no such id.
pub async fn mark_verified(db: &Db, id: &str, at: Millis) -> Result<(), StoreError> {
    const SQL: &str = "update contact_methods set verified_at = $2 where id = $1";
    let n = on_db!(db, |p| sqlx::query(SQL)
        .bind(id)
        .bind(at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a method (its rules go with it) and returns whose it was; NotFound when absent.
pub async fn delete_method(tx: &mut Tx, id: &str) -> Result<String, StoreError> {
    const SQL: &str = "delete from contact_methods where id = $1 returning person_id";
    let row: Option<(String,)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.map(|(p,)| p).ok_or(StoreError::NotFound)
}

/// Inserts a rule only when its method belongs to its person: the check and the write are one
/// statement, so a method moving or vanishing meanwhile cannot slip through. NotFound otherwise.
pub async fn insert_rule(tx: &mut Tx, r: &NotificationRule) -> Result<(), StoreError> {
    const SQL: &str = "insert into notification_rules \
        (id, person_id, contact_method_id, delay_minutes) \
        select $1, person_id, id, $3 from contact_methods where id = $2 and person_id = $4";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&r.id)
        .bind(&r.contact_method)
        .bind(i64::from(r.delay_minutes))
        .bind(&r.person)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A person's rules, earliest delay first.
pub async fn list_rules(db: &Db, person: &str) -> Result<Vec<NotificationRule>, StoreError> {
    const SQL: &str = "select id, person_id, contact_method_id, delay_minutes \
        from notification_rules where person_id = $1";
    let rows: Vec<(String, String, String, i64)> =
        on_db!(db, |p| sqlx::query_as(SQL).bind(person).fetch_all(p).await)?;
    let mut all: Vec<NotificationRule> = rows
        .into_iter()
        .map(|(id, person, contact_method, delay)| NotificationRule {
            id,
            person,
            contact_method,
            // The column's check keeps it non-negative and the API caps it at a day.
            delay_minutes: u32::try_from(delay).unwrap_or(u32::MAX),
        })
        .collect();
    all.sort_by(|a, b| (a.delay_minutes, &a.id).cmp(&(b.delay_minutes, &b.id)));
    Ok(all)
}

/// Deletes a rule and returns whose it was; NotFound when absent.
pub async fn delete_rule(tx: &mut Tx, id: &str) -> Result<String, StoreError> {
    const SQL: &str = "delete from notification_rules where id = $1 returning person_id";
    let row: Option<(String,)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?;
    row.map(|(p,)| p).ok_or(StoreError::NotFound)
}

/// A person's channels for a page, inside the engine's transaction: each rule's method and
/// delay, or (no rules) each method once at delay 0. Methods are `(id, kind)`.
pub async fn channels_for(
    tx: &mut Tx,
    person: &str,
) -> Result<(Vec<(String, String)>, Vec<(String, i64)>), StoreError> {
    const METHODS: &str =
        "select id, kind from contact_methods where person_id = $1 order by created_at, id";
    const RULES: &str = "select contact_method_id, delay_minutes from notification_rules \
        where person_id = $1 order by delay_minutes, id";
    let methods: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(METHODS)
        .bind(person)
        .fetch_all(c)
        .await)?;
    let rules: Vec<(String, i64)> = on_tx!(tx, |c| sqlx::query_as(RULES)
        .bind(person)
        .fetch_all(c)
        .await)?;
    Ok((methods, rules))
}

/// [`channels_for`] for several people: person → (methods, rules), in the same orders.
pub async fn channels_for_many(tx: &mut Tx, people: &[&str]) -> Result<Channels, StoreError> {
    let mut found: Channels = HashMap::new();
    for people in people.chunks(crate::db::MAX_BINDS) {
        let methods: Vec<(String, String, String)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "select person_id, id, kind from contact_methods where person_id in (",
            );
            let mut list = q.separated(", ");
            for p in people {
                list.push_bind(*p);
            }
            q.push(") order by person_id, created_at, id");
            q.build_query_as().fetch_all(c).await
        })?;
        let rules: Vec<(String, String, i64)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "select person_id, contact_method_id, delay_minutes from notification_rules \
                where person_id in (",
            );
            let mut list = q.separated(", ");
            for p in people {
                list.push_bind(*p);
            }
            q.push(") order by person_id, delay_minutes, id");
            q.build_query_as().fetch_all(c).await
        })?;
        for p in people {
            found.entry((*p).to_string()).or_default();
        }
        for (person, id, kind) in methods {
            found.entry(person).or_default().0.push((id, kind));
        }
        for (person, method, delay) in rules {
            found.entry(person).or_default().1.push((method, delay));
        }
    }
    Ok(found)
}

/// Each person's contact methods `(id, kind)` and notification rules `(method, delay)`.
pub type Channels = HashMap<String, (Vec<(String, String)>, Vec<(String, i64)>)>;

/// The server's secret called `name`, made on first use and shared by every instance (the
/// first writer wins; the others read what it wrote).
pub async fn server_secret(db: &Db, name: &str) -> Result<String, StoreError> {
    const INSERT: &str = "insert into server_secrets (name, value) values ($1, $2) \
        on conflict (name) do nothing";
    const SELECT: &str = "select value from server_secrets where name = $1";
    let fresh = crate::auth::new_secret("");
    on_db!(db, |p| sqlx::query(INSERT)
        .bind(name)
        .bind(&fresh)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    let (value,): (String,) = on_db!(db, |p| sqlx::query_as(SELECT).bind(name).fetch_one(p).await)?;
    Ok(value)
}

/// A person's chat and email contact methods as (kind, target), oldest first: where incident
/// messages reach them. Webhook methods are left out: they expect signed alert pages.
pub async fn targets_of(tx: &mut Tx, person: &str) -> Result<Vec<(String, String)>, StoreError> {
    const SQL: &str = "select kind, target from contact_methods where person_id = $1 \
        and kind <> 'webhook' order by created_at, id";
    Ok(on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(person)
        .fetch_all(c)
        .await)?)
}

/// What [`take_test_slot`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestSlot {
    /// The slot is taken for `now`: the method's (person, kind) to queue the test for.
    Taken { person: String, kind: String },
    /// The method's last test was queued at this instant, too recently.
    Busy(Millis),
}

/// Takes the method's test slot at `now` when its last test was queued at `free_from` or
/// earlier (or never). One conditional update: on PostgreSQL a concurrent second taker waits
/// on the row and re-checks the condition against the first's write, and SQLite serialises
/// writers, so two clicks at once queue one test. NotFound when there is no such method.
pub async fn take_test_slot(
    tx: &mut Tx,
    id: &str,
    now: Millis,
    free_from: Millis,
) -> Result<TestSlot, StoreError> {
    const TAKE: &str = "update contact_methods set last_test_at = $2 where id = $1 \
        and (last_test_at is null or last_test_at <= $3) returning person_id, kind";
    const LAST: &str = "select last_test_at from contact_methods where id = $1";
    let taken: Option<(String, String)> = on_tx!(tx, |c| sqlx::query_as(TAKE)
        .bind(id)
        .bind(now)
        .bind(free_from)
        .fetch_optional(c)
        .await)?;
    if let Some((person, kind)) = taken {
        return Ok(TestSlot::Taken { person, kind });
    }
    let last: Option<(Option<i64>,)> = on_tx!(tx, |c| sqlx::query_as(LAST)
        .bind(id)
        .fetch_optional(c)
        .await)?;
    match last {
        Some((Some(at),)) => Ok(TestSlot::Busy(at)),
        // A null last test would have been taken: the method vanished in between.
        Some((None,)) | None => Err(StoreError::NotFound),
    }
}
