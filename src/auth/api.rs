//! Auth over the REST API: who am I (`/api/v1/me`) and API tokens for admins (list, create with
//! the secret shown once, revoke).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath};

use super::Role;
use super::extract::{Admin, Principal};
use super::store::{self, Token};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/tokens", get(list).post(create))
        .route("/api/v1/tokens/{id}", delete(revoke))
}

/// Who the caller is: an account name, or `token:NAME` for an API token.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    pub role: Role,
}

async fn me(p: Principal) -> Json<Me> {
    Json(Me {
        name: p.name,
        role: p.role,
    })
}

/// A token to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for ("alertmanager", "ci"); 1 to 100 characters.
    pub name: String,
    pub role: Role,
}

/// A created token. `secret` is shown here once and never again (only its hash is stored).
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub secret: String,
}

async fn list(_: Admin, State(s): State<AppState>) -> Result<Json<Vec<Token>>, AppError> {
    Ok(Json(store::list_tokens(&s.db).await?))
}

async fn create(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<impl IntoResponse, AppError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "expected a token name of 1 to 100 characters, without control characters",
        ));
    }
    let (id, secret) =
        super::accounts::create_token(&s.db, name, new.role, &p.name, s.clock.now_ms()).await?;
    let created = CreatedToken {
        id,
        name: name.to_string(),
        role: new.role,
        secret,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

async fn revoke(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    // Token ids are generated hex; anything else names no token (and never reaches SQL,
    // where PostgreSQL would refuse a NUL byte with an error of its own).
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::NotFound);
    }
    let at = s.clock.now_ms();
    let mut tx = s.db.begin().await?;
    // NotFound (unknown or already revoked) becomes a 404 and rolls back on drop.
    store::revoke_token(&mut tx, &id, at).await?;
    audit::store::record(
        &mut tx,
        at,
        &p.name,
        "token.revoke",
        &format!("token {id}"),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
