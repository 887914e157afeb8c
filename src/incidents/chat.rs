//! The `/incident` slash command for Slack and Mattermost (reference §6.2–6.4): `POST
//! /chat/slack/command` and `POST /chat/mattermost/command`, form-encoded as the platforms
//! send them. Each request is authenticated first (`verify`: Slack's signature over the raw
//! body, Mattermost's token), then parsed (`parse`) and run as the chat user (`run`).
//!
//! Answers are Slack's JSON shape, which Mattermost accepts too: `{"response_type":
//! "in_channel" | "ephemeral", "text": …}`. A change is announced in the channel; help, the
//! document and every refusal are ephemeral, with HTTP 200, because the platforms show any
//! other status as a broken integration. Only authentication failures are 401, with a JSON
//! error, and write nothing. Platforms give up after 3 seconds, so a command still running
//! after 2.5 is left to finish on its own and the caller told so.

mod parse;
mod run;
mod store;
pub mod verify;

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use crate::http::AppState;

pub use parse::{Command, Parsed, parse, person_named, split_update};
pub use run::{Caller, Reply};

/// How long a command may run before the caller is answered without its outcome.
const ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/chat/slack/command", post(slack_command))
        .route("/chat/mattermost/command", post(mattermost_command))
}

/// The form fields both platforms send that Tocsin reads; the rest are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Form {
    token: String,
    team_id: String,
    channel_id: String,
    user_id: String,
    user_name: String,
    command: String,
    text: String,
}

fn refused(e: verify::Refused) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": e.to_string()})),
    )
        .into_response()
}

/// The form fields, or a 400 saying the body is not a slash command.
fn form(body: &[u8]) -> Result<Form, Box<Response>> {
    serde_urlencoded::from_bytes(body).map_err(|e| {
        let error = format!("the body is not a form-encoded slash command: {e}");
        Box::new(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": error })),
            )
                .into_response(),
        )
    })
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn slack_command(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let now = state.clock.now_ms();
    if let Err(e) = verify::slack(
        &state.settings.slack_signing_secret,
        header(&headers, "x-slack-request-timestamp"),
        header(&headers, "x-slack-signature"),
        &body,
        now,
    ) {
        return refused(e);
    }
    match form(&body) {
        Ok(f) => answer(state, "slack", f).await,
        Err(r) => *r,
    }
}

async fn mattermost_command(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = match form(&body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    if let Err(e) = verify::mattermost(
        &state.settings.mattermost_token,
        Some(f.token.as_str()),
        header(&headers, header::AUTHORIZATION.as_str()),
    ) {
        return refused(e);
    }
    answer(state, "mattermost", f).await
}

/// Runs the command in a task of its own, so one that outlives the platform's patience still
/// finishes (and tells the live pages), and answers with its reply or a holding message.
async fn answer(state: AppState, platform: &'static str, f: Form) -> Response {
    let user_name = [f.user_name, f.user_id]
        .into_iter()
        .find(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "someone".into());
    let caller = Caller {
        platform,
        team_id: f.team_id,
        channel_id: f.channel_id,
        user_name,
        command: if f.command.is_empty() {
            "/incident".into()
        } else {
            f.command
        },
        text: f.text,
    };
    let now = state.clock.now_ms();
    let task = tokio::spawn(async move {
        let reply = run::run(&state, &caller, now).await;
        if let Some(id) = reply.changed {
            state.live.changed(id);
        }
        reply
    });
    let reply = match tokio::time::timeout(ANSWER_WITHIN, task).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "chat command task failed");
            Reply::ephemeral("Tocsin could not do that (an internal error); try again.")
        }
        Err(_) => Reply::ephemeral(
            "Tocsin is still working on that; the incident page will show the outcome.",
        ),
    };
    let response_type = if reply.in_channel {
        "in_channel"
    } else {
        "ephemeral"
    };
    axum::Json(json!({"response_type": response_type, "text": reply.text})).into_response()
}
