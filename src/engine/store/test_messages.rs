//! Outbox reads for test notifications (`notify::test_message`): a contact method's recent
//! tests, and the latest test of each of a person's methods. Tests are queued with
//! [`super::insert_message`] like any page.

use sqlx::AssertSqlSafe;

use crate::db::{Db, StoreError};
use crate::engine::outbox::OutboxRow;
use crate::on_db;

use super::outbox::{COLUMNS, Row};

/// A contact method's newest `limit` tests, newest first.
pub async fn tests_for_method(
    db: &Db,
    method: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from outbox where contact_method_id = $1 and kind = 'test' \
        order by id desc limit $2"
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(method)
        .bind(limit)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(OutboxRow::from).collect())
}

/// The latest test of each of `person`'s contact methods (one row per method that had one).
pub async fn last_tests_of_person(db: &Db, person: &str) -> Result<Vec<OutboxRow>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from outbox where id in (select max(id) from outbox \
        where person_id = $1 and kind = 'test' group by contact_method_id)"
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(AssertSqlSafe(sql))
        .bind(person)
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(OutboxRow::from).collect())
}
