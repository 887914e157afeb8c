//! The login form, signing in and out. The login form carries its own CSRF token
//! (double-submit: a cookie and a hidden field that must match), since there is no session yet.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::audit;
use crate::db::StoreError;
use crate::http::AppState;
use crate::http::error::AppError;

use super::extract::{SESSION_COOKIE, WebUser, cookie};
use super::{hash_secret, new_secret, store, verify_password};

const LOGIN_CSRF_COOKIE: &str = "tocsin_login_csrf";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(form).post(login))
        .route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    error: String,
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only same-site relative paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn cookie_header(s: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if s.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn login_page(s: &AppState, next: String, error: &str) -> Response {
    let csrf = new_secret("");
    let page = LoginPage {
        csrf: csrf.clone(),
        next,
        error: error.to_string(),
    };
    let mut response = page.into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(s, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    response
}

async fn form(State(s): State<AppState>, Query(q): Query<Next>) -> Response {
    login_page(&s, safe_next(q.next.as_deref()), "")
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

async fn login(
    State(s): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(f.next.as_deref());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty()
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            f.csrf.as_bytes(),
        ))
    {
        return Ok(login_page(
            &s,
            next,
            "Your sign-in form expired; please try again.",
        ));
    }
    let now = s.clock.now_ms();
    let key = format!("{}|{}", f.username.to_lowercase(), addr.ip());
    if let Some(wait) = s.limiter.retry_after(&key, now) {
        audit::store::record_now(
            &s.db,
            now,
            &f.username,
            "login.throttled",
            "session",
            &addr.ip().to_string(),
        )
        .await?;
        let mut r = login_page(
            &s,
            next,
            &format!("Too many failed attempts; try again in {wait} seconds."),
        );
        *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(r);
    }
    let account = match store::account(&s.db, &f.username).await {
        Ok(a) => Some(a),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let password = f.password.clone();
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    // Verify even for unknown users (against a fixed hash) so timing does not reveal accounts.
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            let _ = verify_password(&password, DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(account) = account.filter(|_| ok) else {
        s.limiter.fail(&key, now);
        audit::store::record_now(
            &s.db,
            now,
            &f.username,
            "login.failed",
            "session",
            &addr.ip().to_string(),
        )
        .await?;
        return Ok(login_page(&s, next, "Wrong username or password."));
    };
    s.limiter.succeed(&key);
    let session = new_secret("");
    let hours = s.settings.session_hours;
    let expires = now + hours * 3_600_000;
    store::create_session(
        &s.db,
        &hash_secret(&session),
        &account.username,
        &new_secret(""),
        now,
        expires,
    )
    .await?;
    audit::store::record_now(
        &s.db,
        now,
        &account.username,
        "login",
        "session",
        &addr.ip().to_string(),
    )
    .await?;
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&s, SESSION_COOKIE, &session, hours * 3600),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&s, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(r)
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Result<Response, AppError> {
    p.check_csrf(&f.csrf)?;
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        store::delete_session(&s.db, &hash_secret(session)).await?;
    }
    audit::store::record_now(&s.db, s.clock.now_ms(), &p.name, "logout", "session", "").await?;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, cookie_header(&s, SESSION_COOKIE, "", 0));
    Ok(r)
}

/// A valid argon2id hash of a random password, used to spend the same time on unknown users.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhc2g";
