//! `AppError`: the one error type at the HTTP edge. Client mistakes become JSON
//! `{"error": "...", "detail": ...}` with a 4xx; our own faults become a logged 500 that says
//! nothing about internals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::catalog::validate::Problem;
use crate::db::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("this needs the {0} role")]
    Forbidden(&'static str),
    /// Refused for a reason other than the role (not a named reviewer, say).
    #[error("{0}")]
    Denied(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    TooLarge,
    #[error("{message}")]
    Unprocessable { message: String, detail: Value },
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    /// A 429 that says why (a contact method's test throttle, say).
    #[error("{message}")]
    Throttled { message: String, retry_after: u64 },
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Unprocessable {
            message: message.into(),
            detail: Value::Null,
        }
    }

    /// A 422 listing each validation problem; `id_of` names the problem's record for the client
    /// (an index into the whole catalog would mean nothing to it).
    pub fn problems(problems: &[Problem], id_of: impl Fn(&Problem) -> String) -> Self {
        let detail = problems
            .iter()
            .map(|p| json!({"kind": p.kind.noun(), "id": id_of(p), "field": p.field, "message": p.message}))
            .collect();
        let message = problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Self::Unprocessable {
            message,
            detail: Value::Array(detail),
        }
    }

    /// The `Retry-After` seconds of a 429.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after } | Self::Throttled { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Denied(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } | Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(m) => Self::Conflict(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                json!({"error": "internal error"})
            }
            Self::Unprocessable { message, detail } if !detail.is_null() => {
                json!({"error": message, "detail": detail})
            }
            other => json!({"error": other.to_string()}),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(retry_after) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
