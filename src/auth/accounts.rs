//! Account and token operations that change state: each writes its audit entry in the same
//! transaction. The CLI, the API and the demo call these.

use crate::audit;
use crate::clock::Millis;
use crate::db::{Db, StoreError};

use super::{Role, hash_password, hash_secret, new_secret, store};

/// Creates a token and returns its secret (the only time it exists in clear).
pub async fn create_token(
    db: &Db,
    name: &str,
    role: Role,
    by: &str,
    at: Millis,
) -> Result<(String, String), StoreError> {
    let secret = new_secret("tcn_");
    let id = new_secret("")[..12].to_string();
    let token = store::Token {
        id: id.clone(),
        name: name.to_string(),
        role,
        created_at: at,
        created_by: by.to_string(),
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = db.begin().await?;
    store::create_token(&mut tx, &token, &hash_secret(&secret)).await?;
    audit::store::record(
        &mut tx,
        at,
        by,
        "token.create",
        &format!("token {id}"),
        &format!("{name} ({})", role.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

/// Creates or updates an account with this password.
pub async fn set_account(
    db: &Db,
    username: &str,
    role: Role,
    person: Option<String>,
    password: &str,
    by: &str,
) -> anyhow::Result<()> {
    let hash = hash_password(password).map_err(anyhow::Error::msg)?;
    let account = store::Account {
        username: username.to_string(),
        person_id: person,
        role,
        password_hash: hash,
    };
    let at = jiff::Timestamp::now().as_millisecond();
    let mut tx = db.begin().await?;
    store::upsert_account(&mut tx, &account, at).await?;
    audit::store::record(
        &mut tx,
        at,
        by,
        "account.set",
        &format!("account {username}"),
        role.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
