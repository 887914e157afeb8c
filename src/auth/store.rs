//! SQL for accounts, sessions and API tokens. Secrets are stored only as hashes.

use crate::clock::Millis;
use crate::db::{Db, StoreError, Tx};
use crate::{on_db, on_tx};

use super::Role;

/// A login account; `person_id` links it to a person of the catalog when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub person_id: Option<String>,
    pub role: Role,
    pub password_hash: String,
}

/// An API token as listed (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// Creates or replaces an account (a new password replaces the old hash).
pub async fn upsert_account(tx: &mut Tx, a: &Account, at: Millis) -> Result<(), StoreError> {
    const SQL: &str = "insert into accounts (username, person_id, role, password_hash, created_at) \
        values ($1, $2, $3, $4, $5) on conflict (username) do update set \
        person_id = excluded.person_id, role = excluded.role, password_hash = excluded.password_hash";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&a.username)
        .bind(&a.person_id)
        .bind(a.role.as_str())
        .bind(&a.password_hash)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn account(db: &Db, username: &str) -> Result<Account, StoreError> {
    const SQL: &str =
        "select username, person_id, role, password_hash from accounts where username = $1";
    let (username, person_id, role, password_hash): (String, Option<String>, String, String) =
        on_db!(db, |p| sqlx::query_as(SQL)
            .bind(username)
            .fetch_one(p)
            .await)?;
    Ok(Account {
        username,
        person_id,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash,
    })
}

pub async fn count_accounts(db: &Db) -> Result<i64, StoreError> {
    Ok(on_db!(db, |p| sqlx::query_scalar(
        "select count(*) from accounts"
    )
    .fetch_one(p)
    .await)?)
}

/// Stores a new session under the hash of its cookie value.
pub async fn create_session(
    db: &Db,
    id_hash: &str,
    username: &str,
    csrf: &str,
    at: Millis,
    expires_at: Millis,
) -> Result<(), StoreError> {
    const SQL: &str = "insert into sessions (id_hash, username, csrf_token, created_at, expires_at) \
        values ($1, $2, $3, $4, $5)";
    on_db!(db, |p| sqlx::query(SQL)
        .bind(id_hash)
        .bind(username)
        .bind(csrf)
        .bind(at)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The live session with this hash: (username, role, csrf token).
pub async fn session(
    db: &Db,
    id_hash: &str,
    now: Millis,
) -> Result<(String, Role, String), StoreError> {
    const SQL: &str = "select s.username, a.role, s.csrf_token from sessions s \
        join accounts a on a.username = s.username where s.id_hash = $1 and s.expires_at > $2";
    let (user, role, csrf): (String, String, String) = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(id_hash)
        .bind(now)
        .fetch_one(p)
        .await)?;
    Ok((user, Role::parse(&role).unwrap_or(Role::Viewer), csrf))
}

pub async fn delete_session(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    on_db!(db, |p| sqlx::query(
        "delete from sessions where id_hash = $1"
    )
    .bind(id_hash)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn create_token(tx: &mut Tx, t: &Token, token_hash: &str) -> Result<(), StoreError> {
    const SQL: &str = "insert into api_tokens (id, name, role, token_hash, created_at, created_by) \
        values ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.role.as_str())
        .bind(token_hash)
        .bind(t.created_at)
        .bind(&t.created_by)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The (name, role) of the unrevoked token with this hash; marks it used.
pub async fn use_token(
    db: &Db,
    token_hash: &str,
    now: Millis,
) -> Result<(String, Role), StoreError> {
    const SQL: &str = "update api_tokens set last_used_at = $2 \
        where token_hash = $1 and revoked_at is null returning name, role";
    let (name, role): (String, String) = on_db!(db, |p| sqlx::query_as(SQL)
        .bind(token_hash)
        .bind(now)
        .fetch_one(p)
        .await)?;
    Ok((name, Role::parse(&role).unwrap_or(Role::Viewer)))
}

pub async fn list_tokens(db: &Db) -> Result<Vec<Token>, StoreError> {
    const SQL: &str = "select id, name, role, created_at, created_by, revoked_at, last_used_at \
        from api_tokens order by created_at, id";
    type Row = (
        String,
        String,
        String,
        i64,
        String,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = on_db!(db, |p| sqlx::query_as(SQL).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, role, created_at, created_by, revoked_at, last_used_at)| Token {
                id,
                name,
                role: Role::parse(&role).unwrap_or(Role::Viewer),
                created_at,
                created_by,
                revoked_at,
                last_used_at,
            },
        )
        .collect())
}

/// Revokes a token by id; NotFound when there is no such unrevoked token.
pub async fn revoke_token(tx: &mut Tx, id: &str, at: Millis) -> Result<(), StoreError> {
    const SQL: &str = "update api_tokens set revoked_at = $2 where id = $1 and revoked_at is null";
    let n = on_tx!(tx, |c| sqlx::query(SQL)
        .bind(id)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
