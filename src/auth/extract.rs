//! Extractors that say who is calling: `Principal` for the API (401 when nobody), `WebUser`
//! for pages (a redirect to the login form when nobody). A session cookie or a bearer token
//! both work everywhere; a cookie-authenticated API write must also carry the CSRF header.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::StoreError;
use crate::http::AppState;
use crate::http::error::AppError;

use super::{Role, hash_secret, store};

pub const SESSION_COOKIE: &str = "tocsin_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Session,
    Token,
}

/// An authenticated caller: an account (by username) or an API token (by `token:NAME`).
#[derive(Clone, Debug)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub via: Via,
    /// The session's CSRF token, which every state-changing form must echo.
    pub csrf: String,
}

impl Principal {
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::Forbidden(role.as_str()))
        }
    }

    /// Checks a form's CSRF field against the session (bearer tokens need none).
    pub fn check_csrf(&self, token: &str) -> Result<(), AppError> {
        let ok = self.via == Via::Token
            || subtle::ConstantTimeEq::ct_eq(self.csrf.as_bytes(), token.as_bytes()).into();
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden("valid CSRF token for the"))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role >= Role::Admin
    }

    pub fn is_responder(&self) -> bool {
        self.role >= Role::Responder
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Principal>, AppError> {
    let now = state.clock.now_ms();
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized)?;
        return match store::use_token(&state.db, &hash_secret(token.trim()), now).await {
            Ok((name, role)) => Ok(Some(Principal {
                name: format!("token:{name}"),
                role,
                via: Via::Token,
                csrf: String::new(),
            })),
            Err(StoreError::NotFound) => Err(AppError::Unauthorized),
            Err(e) => Err(e.into()),
        };
    }
    let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    match store::session(&state.db, &hash_secret(session), now).await {
        Ok((name, role, csrf)) => Ok(Some(Principal {
            name,
            role,
            via: Via::Session,
            csrf,
        })),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let p = authenticate(parts, state)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if p.via == Via::Session && !safe && parts.uri.path().starts_with("/api/") {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            p.check_csrf(sent)?;
        }
        Ok(p)
    }
}

impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        authenticate(parts, state).await
    }
}

/// A caller with the admin role. As an extractor it answers 401/403 before the body is read,
/// so a viewer never learns whether their body would have been valid.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let p = <Principal as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        p.require(Role::Admin)?;
        Ok(Self(p))
    }
}

/// A signed-in person viewing pages; anyone else is sent to the login form.
pub struct WebUser(pub Principal);

pub enum WebRejection {
    Login(String),
    Error(AppError),
}

impl IntoResponse for WebRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Login(next) => {
                Redirect::to(&format!("/login?next={}", encode(&next))).into_response()
            }
            Self::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = WebRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebRejection> {
        match authenticate(parts, state).await {
            Ok(Some(p)) => Ok(Self(p)),
            Ok(None) | Err(AppError::Unauthorized) => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                Err(WebRejection::Login(next.to_string()))
            }
            Err(e) => Err(WebRejection::Error(e)),
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
