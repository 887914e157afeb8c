//! Team and people pages: who is in a team and what it owns; how to reach a person, in their
//! own time zone. Teams and people are read with the whole catalog (it is small and the pages
//! need names from every part of it).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::auth::extract::WebUser;
use crate::catalog::Catalog;
use crate::catalog::web::{FunctionRow, ServiceRow, sorted_functions, team_name};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::oncall::current::{self, HORIZON_MS, OnCallView};

use super::Person;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams", get(teams))
        .route("/teams/{id}", get(team))
        .route("/people", get(people))
        .route("/people/{id}", get(person))
}

/// A reference to a team or a person: id for the link, name for people.
struct Named {
    id: String,
    name: String,
}

struct TeamRow {
    id: String,
    name: String,
    description: String,
    members: usize,
    services: usize,
    functions: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "teams.html")]
struct TeamsPage {
    layout: Layout,
    rows: Vec<TeamRow>,
}

async fn teams(State(s): State<AppState>, WebUser(p): WebUser) -> Result<TeamsPage, PageError> {
    let c = s.catalog().await.or_page(&p, "teams")?;
    let mut rows: Vec<TeamRow> = c
        .teams
        .iter()
        .map(|t| TeamRow {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            members: members(&c, &t.id).len(),
            services: c.services.iter().filter(|s| s.owner_team == t.id).count(),
            functions: c
                .business_functions
                .iter()
                .filter(|f| f.owner_team == t.id)
                .count(),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(TeamsPage {
        layout: Layout::new(&p, "teams", "Teams"),
        rows,
    })
}

/// The people in team `id`, by name.
fn members<'a>(c: &'a Catalog, id: &str) -> Vec<&'a Person> {
    let mut people: Vec<&Person> = c
        .people
        .iter()
        .filter(|p| p.teams.iter().any(|t| t == id))
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    people
}

#[derive(Template, WebTemplate)]
#[template(path = "team.html")]
struct TeamPage {
    layout: Layout,
    id: String,
    name: String,
    description: String,
    members: Vec<PersonRow>,
    services: Vec<ServiceRow>,
    functions: Vec<FunctionRow>,
    /// Who answers for the team now: its policy's schedules, then its own.
    oncall: Vec<OnCallView>,
    /// The team's escalation policy: (id, name).
    policy: Option<(String, String)>,
}

async fn team(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<TeamPage, PageError> {
    let c = s.catalog().await.or_page(&p, "teams")?;
    let t = c.team(&id).ok_or(AppError::NotFound).or_page(&p, "teams")?;
    let mut services: Vec<ServiceRow> = c
        .services
        .iter()
        .filter(|s| s.owner_team == id)
        .map(|s| ServiceRow::new(&c, s))
        .collect();
    services.sort_by(|a, b| a.tier.cmp(&b.tier).then(a.id.cmp(&b.id)));
    let at = s.clock.now_ms();
    let found = crate::oncall::store::overrides(&s.db, None, at, at.saturating_add(HORIZON_MS))
        .await
        .or_page(&p, "teams")?;
    let oncall = current::schedules_for_team(&c, &id)
        .into_iter()
        .map(|sch| OnCallView::new(&c, &current::on_call(&c, &found, sch, at)))
        .collect();
    let policy = t
        .escalation_policy
        .as_deref()
        .and_then(|pid| c.escalation_policy(pid))
        .map(|pol| (pol.id.clone(), pol.name.clone()));
    Ok(TeamPage {
        layout: Layout::new(&p, "teams", t.name.clone()),
        id: t.id.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        members: members(&c, &id)
            .into_iter()
            .map(|m| PersonRow::new(&c, m))
            .collect(),
        services,
        functions: sorted_functions(&c)
            .into_iter()
            .filter(|f| f.owner_team == id)
            .map(|f| FunctionRow::new(&c, f))
            .collect(),
        oncall,
        policy,
    })
}

struct PersonRow {
    id: String,
    name: String,
    email: String,
    time_zone: String,
    teams: Vec<Named>,
}

impl PersonRow {
    fn new(c: &Catalog, p: &Person) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            email: p.email.clone(),
            time_zone: p.time_zone.clone(),
            teams: p
                .teams
                .iter()
                .map(|t| Named {
                    id: t.clone(),
                    name: team_name(c, t),
                })
                .collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "people.html")]
struct PeoplePage {
    layout: Layout,
    rows: Vec<PersonRow>,
}

async fn people(State(s): State<AppState>, WebUser(p): WebUser) -> Result<PeoplePage, PageError> {
    let c = s.catalog().await.or_page(&p, "people")?;
    let mut rows: Vec<PersonRow> = c.people.iter().map(|m| PersonRow::new(&c, m)).collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PeoplePage {
        layout: Layout::new(&p, "people", "People"),
        rows,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "person.html")]
struct PersonPage {
    layout: Layout,
    p: PersonRow,
    /// The person's wall-clock time now, so whoever is about to page them sees it is 3 a.m.
    local_time: String,
    oncall: crate::oncall::web::PersonOnCall,
    /// How a page reaches them (`notify::web`).
    notifications: crate::notify::web::Notifications,
}

async fn person(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<PersonPage, PageError> {
    let c = s.catalog().await.or_page(&p, "people")?;
    let m = c
        .people
        .iter()
        .find(|m| m.id == id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "people")?;
    let local_time = jiff::tz::TimeZone::get(&m.time_zone)
        .map(|tz| {
            s.clock
                .now()
                .to_zoned(tz)
                .strftime("%A %H:%M (%Z, UTC%:z)")
                .to_string()
        })
        .unwrap_or_default();
    let oncall = crate::oncall::web::person_on_call(&s, &c, &p, m)
        .await
        .or_page(&p, "people")?;
    let notifications = crate::notify::web::for_person(&s, &p, &m.id, &m.email)
        .await
        .or_page(&p, "people")?;
    Ok(PersonPage {
        notifications,
        layout: Layout::new(&p, "people", m.name.clone()),
        p: PersonRow::new(&c, m),
        local_time,
        oncall,
    })
}
