//! The one-click acknowledge link every page carries: `GET /alerts/{id}/ack?token=…` shows a
//! confirmation page whose button POSTs, and only the POST acknowledges (mail scanners and
//! chat link previews fetch URLs that nobody clicked). The signed token is the authority, so
//! no sign-in is needed: it names the alert and the person, and expires after a day. The
//! acknowledgement is recorded as that person, "via link".

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::alerts::lifecycle::Status;
use crate::db::StoreError;
use crate::http::AppState;

use super::message::verify_ack;

pub fn router() -> Router<AppState> {
    Router::new().route("/alerts/{id}/ack", get(confirm).post(acknowledge))
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ack.html")]
struct AckPage {
    title: String,
    message: String,
    alert_id: String,
    summary: String,
    /// Set when the button should be shown.
    token: String,
}

impl AckPage {
    fn refused(status: StatusCode, message: impl Into<String>) -> Response {
        let page = Self {
            title: "This link does not work".into(),
            message: message.into(),
            alert_id: String::new(),
            summary: String::new(),
            token: String::new(),
        };
        (status, page).into_response()
    }
}

/// Checks the token against the alert in the path; the person it names, or the refusal page.
async fn check(s: &AppState, id: &str, token: &str) -> Result<String, Response> {
    let secret = s.ack_secret().await.map_err(|e| {
        tracing::error!(error = %e, "cannot read the acknowledge secret");
        AckPage::refused(StatusCode::INTERNAL_SERVER_ERROR, "Try again in a moment.")
    })?;
    match verify_ack(&secret, token, s.clock.now_ms()) {
        Ok(claim) if claim.alert_id == id => Ok(claim.person),
        Ok(_) => Err(AckPage::refused(
            StatusCode::FORBIDDEN,
            "This link belongs to another alert.",
        )),
        Err(e) => Err(AckPage::refused(
            StatusCode::FORBIDDEN,
            format!("{e}. Open the alert in Tocsin and acknowledge it there."),
        )),
    }
}

async fn confirm(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TokenForm>,
) -> Response {
    if let Err(refused) = check(&s, &id, &q.token).await {
        return refused;
    }
    let alert = match crate::alerts::store::get(&s.db, &id).await {
        Ok((alert, _)) => alert,
        Err(StoreError::NotFound) => {
            return AckPage::refused(StatusCode::NOT_FOUND, "There is no such alert.");
        }
        Err(e) => {
            tracing::error!(error = %e, "reading an alert for its acknowledge page");
            return AckPage::refused(StatusCode::INTERNAL_SERVER_ERROR, "Try again in a moment.");
        }
    };
    let (message, token) = match alert.status {
        Status::Triggered => (String::new(), q.token),
        Status::Acknowledged => (
            format!(
                "Already acknowledged by {}.",
                alert.acknowledged_by.as_deref().unwrap_or("someone")
            ),
            String::new(),
        ),
        Status::Resolved => ("Already resolved.".to_string(), String::new()),
    };
    AckPage {
        title: "Acknowledge this alert?".into(),
        message,
        alert_id: alert.id,
        summary: alert.summary,
        token,
    }
    .into_response()
}

async fn acknowledge(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let person = match check(&s, &id, &f.token).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let name = s
        .catalog()
        .await
        .ok()
        .and_then(|c| c.catalog.person(&person).map(|p| p.name.clone()))
        .unwrap_or_else(|| person.clone());
    let by = format!("{name} (via link)");
    let result = async {
        let mut tx = s.db.begin().await?;
        let out = crate::alerts::store::acknowledge(&mut tx, &id, &by, s.clock.now_ms()).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(out)
    }
    .await;
    let (alert, message) = match result {
        Ok((alert, true)) => (alert, "Acknowledged. Escalation has stopped.".to_string()),
        Ok((alert, false)) => {
            let by = alert.acknowledged_by.clone().unwrap_or_default();
            (alert, format!("Already acknowledged by {by}."))
        }
        Err(StoreError::Conflict(m)) => return AckPage::refused(StatusCode::CONFLICT, m),
        Err(StoreError::NotFound) => {
            return AckPage::refused(StatusCode::NOT_FOUND, "There is no such alert.");
        }
        Err(e) => {
            tracing::error!(error = %e, "acknowledging through a link");
            return AckPage::refused(StatusCode::INTERNAL_SERVER_ERROR, "Try again in a moment.");
        }
    };
    AckPage {
        title: "Alert acknowledged".into(),
        message,
        alert_id: alert.id,
        summary: alert.summary,
        token: String::new(),
    }
    .into_response()
}
