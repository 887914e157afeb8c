//! REST API for the catalog under `/api/v1`: list, create, read, replace and delete for each
//! kind of record, written once over the [`Record`] trait, plus the impact queries.
//!
//! Every write edits a copy of the whole catalog and hands it to [`config::apply::apply`], so the
//! API and config-as-code share one validator, one diff and one audit trail.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::extract::Admin;
use crate::auth::extract::Principal;
use crate::config::apply::apply_with;
use crate::escalation::EscalationPolicy;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::ApiJson;
use crate::http::json::{ApiPath, ApiQuery};
use crate::oncall::Schedule;
use crate::people::{Person, Team};

use super::impact::{Impact, ServiceRef};
use super::validate::{Problem, check_id};
use super::{BusinessFunction, Catalog, Domain, Kind, Service, Tier};

/// One kind of catalog record as the API sees it: where it lives in the URL space and in a
/// [`Catalog`], and how it is identified and filtered.
pub trait Record: Clone + Serialize + DeserializeOwned + ToSchema + Send + Sync + 'static {
    const KIND: Kind;
    /// The collection's URL segment: `/api/v1/{PATH}`.
    const PATH: &'static str;
    /// The list endpoint's query parameters.
    type Filter: DeserializeOwned + IntoParams + Send + 'static;

    fn id(&self) -> String;
    fn all(c: &Catalog) -> &Vec<Self>;
    fn all_mut(c: &mut Catalog) -> &mut Vec<Self>;

    fn matches(&self, _filter: &Self::Filter) -> bool {
        true
    }

    /// Reads an id from the URL. A malformed one names no record: 404 (400 for a tier, whose
    /// id must be a number).
    fn path_id(raw: String) -> Result<String, AppError> {
        known_id(raw)
    }
}

/// The query of a list endpoint that takes no filters; unknown parameters are still a 400.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFilter {}

impl IntoParams for NoFilter {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        Vec::new()
    }
}

/// Filters of `GET /api/v1/services`; all given ones must match.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServiceFilter {
    /// Only services of this tier level.
    pub tier: Option<u8>,
    /// Only services owned by this team id.
    pub owner_team: Option<String>,
    /// Only services in this domain id.
    pub domain: Option<String>,
}

impl Record for Tier {
    const KIND: Kind = Kind::Tier;
    const PATH: &'static str = "tiers";
    type Filter = NoFilter;

    fn id(&self) -> String {
        self.level.to_string()
    }
    fn all(c: &Catalog) -> &Vec<Self> {
        &c.tiers
    }
    fn all_mut(c: &mut Catalog) -> &mut Vec<Self> {
        &mut c.tiers
    }
    fn path_id(raw: String) -> Result<String, AppError> {
        // Normalised through u8 so that `/tiers/01` names tier 1, as the body's `level` would.
        raw.parse::<u8>().map(|l| l.to_string()).map_err(|_| {
            AppError::BadRequest(format!("expected a tier level from 0 to 255, got {raw:?}"))
        })
    }
}

impl Record for Service {
    const KIND: Kind = Kind::Service;
    const PATH: &'static str = "services";
    type Filter = ServiceFilter;

    fn id(&self) -> String {
        self.id.clone()
    }
    fn all(c: &Catalog) -> &Vec<Self> {
        &c.services
    }
    fn all_mut(c: &mut Catalog) -> &mut Vec<Self> {
        &mut c.services
    }
    fn matches(&self, f: &ServiceFilter) -> bool {
        f.tier.is_none_or(|t| t == self.tier)
            && f.owner_team.as_ref().is_none_or(|t| *t == self.owner_team)
            && f.domain.as_ref().is_none_or(|d| *d == self.domain)
    }
}

/// The kinds identified by a plain `id` field and listed without filters.
macro_rules! plain_record {
    ($ty:ty, $kind:expr, $path:literal, $field:ident) => {
        impl Record for $ty {
            const KIND: Kind = $kind;
            const PATH: &'static str = $path;
            type Filter = NoFilter;

            fn id(&self) -> String {
                self.id.clone()
            }
            fn all(c: &Catalog) -> &Vec<Self> {
                &c.$field
            }
            fn all_mut(c: &mut Catalog) -> &mut Vec<Self> {
                &mut c.$field
            }
        }
    };
}

plain_record!(Team, Kind::Team, "teams", teams);
plain_record!(Domain, Kind::Domain, "domains", domains);
plain_record!(Person, Kind::Person, "people", people);
plain_record!(Schedule, Kind::Schedule, "schedules", schedules);
plain_record!(
    crate::severity::SeverityLevel,
    Kind::Severity,
    "severities",
    severities
);
plain_record!(
    EscalationPolicy,
    Kind::EscalationPolicy,
    "escalation-policies",
    escalation_policies
);
plain_record!(
    BusinessFunction,
    Kind::BusinessFunction,
    "business-functions",
    business_functions
);

plain_record!(super::Playbook, Kind::Playbook, "playbooks", playbooks);
plain_record!(crate::slo::Slo, Kind::Slo, "slos", slos);
plain_record!(
    super::AlertRule,
    Kind::AlertRule,
    "alert-rules",
    alert_rules
);

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(crud::<Tier>())
        .merge(crud::<Team>())
        .merge(crud::<Domain>())
        .merge(crud::<Person>())
        .merge(crud::<Schedule>())
        .merge(crud::<crate::severity::SeverityLevel>())
        .merge(crud::<EscalationPolicy>())
        .merge(crud::<BusinessFunction>())
        .merge(crud::<Service>())
        .merge(crud::<super::Playbook>())
        .merge(crud::<super::AlertRule>())
        .merge(crud::<crate::slo::Slo>())
        .route("/api/v1/services/{id}/impact", get(impact))
        .route(
            "/api/v1/business-functions/{id}/dependencies",
            get(dependencies),
        )
}

/// The five routes of one kind.
fn crud<T: Record>() -> Router<AppState> {
    Router::new()
        .route(
            &format!("/api/v1/{}", T::PATH),
            get(list::<T>).post(create::<T>),
        )
        .route(
            &format!("/api/v1/{}/{{id}}", T::PATH),
            get(read::<T>).put(replace::<T>).delete(remove::<T>),
        )
}

async fn list<T: Record>(
    _: Principal,
    State(s): State<AppState>,
    ApiQuery(filter): ApiQuery<T::Filter>,
) -> Result<Json<Vec<T>>, AppError> {
    let catalog = s.catalog().await?;
    let found = T::all(&catalog).iter().filter(|r| r.matches(&filter));
    Ok(Json(found.cloned().collect()))
}

async fn read<T: Record>(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<T>, AppError> {
    let id = T::path_id(id)?;
    let catalog = s.catalog().await?;
    let found = T::all(&catalog).iter().find(|r| r.id() == id);
    found.cloned().map(Json).ok_or(AppError::NotFound)
}

async fn create<T: Record>(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiJson(record): ApiJson<T>,
) -> Result<impl IntoResponse, AppError> {
    let id = record.id();
    let added = record.clone();
    write::<T>(&s, &p, unprocessable, |all| {
        if all.iter().any(|r| r.id() == id) {
            return Err(AppError::Conflict(format!(
                "{} {id:?} already exists",
                T::KIND.noun()
            )));
        }
        all.push(added);
        Ok(())
    })
    .await?;
    let location = format!("/api/v1/{}/{}", T::PATH, record.id());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(record),
    ))
}

async fn replace<T: Record>(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(record): ApiJson<T>,
) -> Result<Json<T>, AppError> {
    let id = T::path_id(id)?;
    if record.id() != id {
        return Err(AppError::invalid(format!(
            "the body's id {:?} differs from the URL's {id:?}; ids cannot be changed, \
             create a new record and delete the old one instead",
            record.id()
        )));
    }
    let new = record.clone();
    write::<T>(&s, &p, unprocessable, |all| {
        let slot = all.iter_mut().find(|r| r.id() == id);
        *slot.ok_or(AppError::NotFound)? = new;
        Ok(())
    })
    .await?;
    Ok(Json(record))
}

async fn remove<T: Record>(
    Admin(p): Admin,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    let id = T::path_id(id)?;
    // The catalog was valid before, so whatever is invalid now refers to the removed record.
    let still_referenced = |c: &Catalog, problems: &[Problem]| {
        AppError::Conflict(format!(
            "cannot delete {} {id:?}: still referred to by {}",
            T::KIND.noun(),
            referrers(c, problems)
        ))
    };
    write::<T>(&s, &p, still_referenced, |all| {
        let before = all.len();
        all.retain(|r| r.id() != id);
        if all.len() == before {
            Err(AppError::NotFound)
        } else {
            Ok(())
        }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets `edit` change the records of kind `T` in the current catalog and applies the result as
/// the principal, under the catalog lock (so concurrent writers, API or CLI, queue rather than
/// overwrite each other). Validation problems become `on_invalid`'s error.
async fn write<T: Record>(
    s: &AppState,
    who: &Principal,
    on_invalid: impl FnOnce(&Catalog, &[Problem]) -> AppError,
    edit: impl FnOnce(&mut Vec<T>) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let edit = |mut desired: Catalog| {
        edit(T::all_mut(&mut desired))?;
        Ok(desired)
    };
    let on_invalid = |c: &Catalog, problems: Vec<Problem>| on_invalid(c, &problems);
    apply_with(&s.db, s.clock.now_ms(), &who.name, false, edit, on_invalid).await?;
    Ok(())
}

/// A 422 whose detail names each problem's record by id (its index in the whole catalog would
/// mean nothing to an API client).
fn unprocessable(c: &Catalog, problems: &[Problem]) -> AppError {
    AppError::problems(problems, |p| record_id(c, p))
}

/// "service \"cart\" (owner_team), person \"jon\" (teams[0])", the first few of them.
fn referrers(c: &Catalog, problems: &[Problem]) -> String {
    const MAX: usize = 10;
    let mut s = problems
        .iter()
        .take(MAX)
        .map(|p| format!("{} {:?} ({})", p.kind.noun(), record_id(c, p), p.field))
        .collect::<Vec<_>>()
        .join(", ");
    if problems.len() > MAX {
        s.push_str(&format!(" and {} more", problems.len() - MAX));
    }
    s
}

/// The id of the record a problem is about (found by position, without listing every id).
fn record_id(c: &Catalog, p: &Problem) -> String {
    let i = p.index;
    let id = match p.kind {
        Kind::Tier => c.tiers.get(i).map(Record::id),
        Kind::Team => c.teams.get(i).map(Record::id),
        Kind::Domain => c.domains.get(i).map(Record::id),
        Kind::Person => c.people.get(i).map(Record::id),
        Kind::Schedule => c.schedules.get(i).map(Record::id),
        Kind::EscalationPolicy => c.escalation_policies.get(i).map(Record::id),
        Kind::Severity => c.severities.get(i).map(Record::id),
        Kind::BusinessFunction => c.business_functions.get(i).map(Record::id),
        Kind::Service => c.services.get(i).map(Record::id),
        Kind::Playbook => c.playbooks.get(i).map(Record::id),
        Kind::AlertRule => c.alert_rules.get(i).map(Record::id),
        Kind::Slo => c.slos.get(i).map(Record::id),
    };
    id.unwrap_or_default()
}

/// An id from the URL that could name a record; anything else is a 404 without a query.
fn known_id(raw: String) -> Result<String, AppError> {
    check_id(&raw).map(|()| raw).map_err(|_| AppError::NotFound)
}

async fn impact(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Impact>, AppError> {
    let id = known_id(id)?;
    Ok(Json(
        s.catalog().await?.impact(&id).ok_or(AppError::NotFound)?,
    ))
}

async fn dependencies(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<ServiceRef>>, AppError> {
    let id = known_id(id)?;
    Ok(Json(
        s.catalog()
            .await?
            .relied_on_by(&id)
            .ok_or(AppError::NotFound)?,
    ))
}
