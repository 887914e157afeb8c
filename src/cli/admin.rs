//! Account and API-token commands.

use std::io::Read;

use crate::auth::{self, accounts, store};
use crate::db::StoreError;
use crate::{audit, clock::Millis};

use super::{DbArgs, TokenAction, UserAction};

fn now() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub async fn token(action: TokenAction, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    match action {
        TokenAction::Create { name, role } => {
            let (id, secret) = accounts::create_token(&db, &name, role, &actor(), now()).await?;
            eprintln!(
                "Created token {id} ({name}, {}). Copy it now; it is not shown again:",
                role.as_str()
            );
            println!("{secret}");
        }
        TokenAction::List => {
            for t in store::list_tokens(&db).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}  {:<24} {:<9} {state}  created by {}",
                    t.id,
                    t.name,
                    t.role.as_str(),
                    t.created_by
                );
            }
        }
        TokenAction::Revoke { id } => {
            let mut tx = db.begin().await?;
            match store::revoke_token(&mut tx, &id, now()).await {
                Ok(()) => {}
                Err(StoreError::NotFound) => {
                    eprintln!("error: no active token {id:?}");
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            }
            audit::store::record(
                &mut tx,
                now(),
                &actor(),
                "token.revoke",
                &format!("token {id}"),
                "",
            )
            .await?;
            tx.commit().await?;
            println!("revoked {id}");
        }
    }
    Ok(0)
}

pub async fn user(action: UserAction, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let UserAction::Set {
        username,
        role,
        person,
        password_stdin,
    } = action;
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        (s.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (auth::new_password(), true)
    };
    if password.len() < 8 {
        eprintln!("error: the password must have at least 8 characters");
        return Ok(1);
    }
    accounts::set_account(&db, &username, role, person, &password, &actor()).await?;
    if generated {
        println!(
            "Account {username} ({}) — password: {password}",
            role.as_str()
        );
    } else {
        println!("Account {username} ({}) saved.", role.as_str());
    }
    Ok(0)
}
