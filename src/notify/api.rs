//! People's contact methods and notification rules over the REST API.
//!
//! Who may do what: admins manage anyone's; any other account manages only the person its
//! account is linked to (`tocsin user set --person`), and writing needs the responder role.
//! API tokens belong to no person, so only admin tokens reach these endpoints. Targets are
//! secrets (Slack and Mattermost URLs carry their key), which is why even reading is limited
//! this way; a webhook's signing secret is in the 201 of its creation and nowhere else.
//!
//! `POST /api/v1/contact-methods/{id}/test` queues a test notification (202 with the outbox
//! row, 429 with `Retry-After` within 10 s of the last one) under the same rules as removing
//! the method; `GET …/tests` reads the latest outcomes, with the rules of reading it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::auth::extract::{Principal, encode};
use crate::db::{Db, StoreError};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiJson, ApiPath};

use super::contact::{self, ContactError, ContactKind, ContactMethod, NotificationRule};
use super::store;
use super::test_message::{self, TestError, TestStatus};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/people/{id}/contact-methods",
            get(list_methods).post(create_method),
        )
        .route("/api/v1/contact-methods/{id}", delete(delete_method))
        .route("/api/v1/contact-methods/{id}/test", post(test_method))
        .route("/api/v1/contact-methods/{id}/tests", get(method_tests))
        .route(
            "/api/v1/people/{id}/notification-rules",
            get(list_rules).post(create_rule),
        )
        .route("/api/v1/notification-rules/{id}", delete(delete_rule))
}

/// The person `p`'s account is linked to, if any (tokens and unlinked accounts: None).
pub async fn own_person(db: &Db, p: &Principal) -> Result<Option<String>, StoreError> {
    if p.name.starts_with("token:") {
        return Ok(None);
    }
    match crate::auth::store::account(db, &p.name).await {
        Ok(a) => Ok(a.person_id),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `p` may read (`role` Viewer) or change (`role` Responder) `person`'s contact
/// methods and rules: admins always, others for their own person with `role`.
pub async fn may_manage(db: &Db, p: &Principal, person: &str, role: Role) -> Result<(), AppError> {
    if p.is_admin() {
        return Ok(());
    }
    let own = own_person(db, p).await?.is_some_and(|id| id == person);
    if own {
        p.require(role)
    } else {
        Err(AppError::Forbidden("admin"))
    }
}

/// Whether `p` may remove or test contact method `id`: 403 below responder, 404 when there
/// is none.
pub async fn may_remove_method(db: &Db, p: &Principal, id: &str) -> Result<(), AppError> {
    p.require(Role::Responder)?;
    let method = store::get_method(db, id).await?;
    may_manage(db, p, &method.person, Role::Responder).await
}

impl From<TestError> for AppError {
    fn from(e: TestError) -> Self {
        match e {
            TestError::Throttled { wait_s, .. } => AppError::Throttled {
                message: e.to_string(),
                retry_after: wait_s,
            },
            TestError::Store(e) => e.into(),
        }
    }
}

/// Whether `p` may remove rule `id`. Admins may (a missing one is then a 404); anyone else
/// must find it among their own person's rules, else 403.
pub async fn may_remove_rule(db: &Db, p: &Principal, id: &str) -> Result<(), AppError> {
    if p.is_admin() {
        return Ok(());
    }
    p.require(Role::Responder)?;
    let own = own_person(db, p)
        .await?
        .ok_or(AppError::Forbidden("admin"))?;
    let theirs = store::list_rules(db, &own).await?;
    if theirs.iter().any(|r| r.id == id) {
        Ok(())
    } else {
        Err(AppError::Forbidden("admin"))
    }
}

/// A person that must exist in the catalog; 404 otherwise.
async fn existing_person(s: &AppState, id: &str) -> Result<(), AppError> {
    let c = s.catalog().await?;
    c.person(id).map(|_| ()).ok_or(AppError::NotFound)
}

impl From<ContactError> for AppError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Invalid(m) => AppError::invalid(m),
            ContactError::Store(e) => e.into(),
        }
    }
}

/// A contact method to add to the person in the URL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContactMethod {
    pub kind: ContactKind,
    /// An http(s) URL for webhook, slack and mattermost; an address for email.
    pub target: String,
}

/// A new contact method; `secret` (webhooks only) is shown in this response and never again.
#[derive(Serialize, ToSchema)]
pub struct CreatedContactMethod {
    #[serde(flatten)]
    pub method: ContactMethod,
    /// The webhook's signing secret (`X-Tocsin-Signature`); absent for other kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A notification rule to add to the person in the URL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotificationRule {
    /// One of the person's contact methods.
    pub contact_method: String,
    /// Minutes after the page started (0: at once; at most a day).
    pub delay_minutes: u32,
}

async fn list_methods(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(person): ApiPath<String>,
) -> Result<Json<Vec<ContactMethod>>, AppError> {
    may_manage(&s.db, &p, &person, Role::Viewer).await?;
    existing_person(&s, &person).await?;
    Ok(Json(store::list_methods(&s.db, &person).await?))
}

async fn create_method(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(person): ApiPath<String>,
    ApiJson(body): ApiJson<NewContactMethod>,
) -> Result<impl IntoResponse, AppError> {
    may_manage(&s.db, &p, &person, Role::Responder).await?;
    existing_person(&s, &person).await?;
    let now = s.clock.now_ms();
    let mut method =
        contact::add_method(&s.db, now, &p.name, &person, body.kind, &body.target).await?;
    let secret = method.secret.take();
    Ok((
        StatusCode::CREATED,
        Json(CreatedContactMethod { method, secret }),
    ))
}

async fn delete_method(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    may_remove_method(&s.db, &p, &id).await?;
    contact::remove_method(&s.db, s.clock.now_ms(), &p.name, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_rules(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(person): ApiPath<String>,
) -> Result<Json<Vec<NotificationRule>>, AppError> {
    may_manage(&s.db, &p, &person, Role::Viewer).await?;
    existing_person(&s, &person).await?;
    Ok(Json(store::list_rules(&s.db, &person).await?))
}

async fn create_rule(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(person): ApiPath<String>,
    ApiJson(body): ApiJson<NewNotificationRule>,
) -> Result<impl IntoResponse, AppError> {
    may_manage(&s.db, &p, &person, Role::Responder).await?;
    existing_person(&s, &person).await?;
    let method = body.contact_method.trim();
    let created = contact::add_rule(
        &s.db,
        s.clock.now_ms(),
        &p.name,
        &person,
        method,
        body.delay_minutes,
    )
    .await;
    let rule = match created {
        Ok(rule) => rule,
        // The person exists, so NotFound means the method is not one of theirs: the body is
        // wrong, not the URL.
        Err(ContactError::Store(StoreError::NotFound)) => {
            return Err(AppError::invalid(format!(
                "contact_method: {person} has no contact method {method:?}"
            )));
        }
        Err(ContactError::Store(StoreError::Conflict(_))) => {
            return Err(AppError::Conflict(format!(
                "{person} already has a rule for {method} after {} minutes",
                body.delay_minutes
            )));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn delete_rule(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    may_remove_rule(&s.db, &p, &id).await?;
    contact::remove_rule(&s.db, s.clock.now_ms(), &p.name, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test_method(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, AppError> {
    may_remove_method(&s.db, &p, &id).await?;
    let queued = test_message::queue(&s.db, s.clock.now_ms(), &p.name, &id).await?;
    // The engine loop sends it now rather than at its next second.
    s.wake.notify_one();
    let location = format!("/api/v1/contact-methods/{}/tests", encode(&id));
    Ok((
        StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, location)],
        Json(queued),
    ))
}

async fn method_tests(
    p: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<TestStatus>>, AppError> {
    p.require(Role::Viewer)?;
    let method = store::get_method(&s.db, &id).await?;
    may_manage(&s.db, &p, &method.person, Role::Viewer).await?;
    Ok(Json(test_message::history(&s.db, &id).await?))
}
