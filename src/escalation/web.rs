//! The escalation matrix: who is notified at each level of a policy, in the workshop's shape
//! (Level, Name, Role, notified after N minutes), with schedule targets resolved to whoever is
//! on call right now. [`matrix`] is pure and shared with the handbook and `tocsin oncall`; the
//! pages are `/teams/{id}/escalation` (the team's policy) and `/escalation-policies/{id}`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::auth::extract::WebUser;
use crate::catalog::Catalog;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::oncall::current::{HORIZON_MS, local_time, person_name};
use crate::oncall::{Override, store};

use super::resolve::people_of;
use super::{EscalationPolicy, Target};

/// One row of the matrix: one target of one level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixRow {
    /// 0 for the first level (the on-call responder), as the workshop numbers them.
    pub level: usize,
    /// Whether this is the level's first row (the page shows the level number once).
    pub first_of_level: bool,
    /// Who: a person's name, the people a schedule resolves to now, or a team's name.
    pub name: String,
    /// Where the name links: `/people/ID`, `/teams/ID`, or empty (nobody on call).
    pub href: String,
    /// A person's title, "On call: SCHEDULE NAME", or "Whole team (N people)".
    pub role: String,
    /// Minutes after escalation starts when this level is first notified.
    pub after_minutes: u64,
}

/// The matrix of `policy` with schedule targets resolved at `at` (ms since the epoch).
pub fn matrix(
    catalog: &Catalog,
    overrides: &[Override],
    policy: &EscalationPolicy,
    at: i64,
) -> Vec<MatrixRow> {
    let offsets = policy.level_offsets();
    let mut rows = Vec::new();
    for (i, level) in policy.levels.iter().enumerate() {
        for (j, target) in level.targets.iter().enumerate() {
            let (name, href, role) = match target {
                Target::Person(id) => (
                    person_name(catalog, id),
                    format!("/people/{id}"),
                    catalog
                        .person(id)
                        .map(|p| p.title.clone())
                        .unwrap_or_default(),
                ),
                Target::Schedule(id) => {
                    let people = people_of(catalog, overrides, target, at);
                    let schedule = catalog.schedule(id).map_or(id.as_str(), |s| &s.name);
                    let (name, href) = match people.as_slice() {
                        [] => ("Nobody on call".to_string(), String::new()),
                        [one] => (person_name(catalog, one), format!("/people/{one}")),
                        many => {
                            let names: Vec<String> =
                                many.iter().map(|p| person_name(catalog, p)).collect();
                            (names.join(", "), String::new())
                        }
                    };
                    (name, href, format!("On call: {schedule}"))
                }
                Target::Team(id) => {
                    let n = people_of(catalog, overrides, target, at).len();
                    let name = catalog.team(id).map_or(id.as_str(), |t| &t.name);
                    let people = if n == 1 { "person" } else { "people" };
                    (
                        name.to_string(),
                        format!("/teams/{id}"),
                        format!("Whole team ({n} {people})"),
                    )
                }
            };
            rows.push(MatrixRow {
                level: i,
                first_of_level: j == 0,
                name,
                href,
                role,
                after_minutes: offsets[i],
            });
        }
    }
    rows
}

/// What happens after the last level, in a sentence.
pub fn repeats(policy: &EscalationPolicy) -> String {
    let last = policy.levels.last().map_or(0, |l| l.escalate_after_minutes);
    match policy.repeat {
        0 => "Runs once through: nobody more is notified after the last level.".to_string(),
        1 => format!(
            "If nobody acknowledges {last} minutes after the last level, it starts over once more."
        ),
        n => format!(
            "If nobody acknowledges {last} minutes after the last level, it starts over, {n} more times."
        ),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams/{id}/escalation", get(team_matrix))
        .route("/escalation-policies/{id}", get(policy_matrix))
}

/// A team using a policy, for links.
struct TeamLink {
    id: String,
    name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "escalation.html")]
struct MatrixPage {
    layout: Layout,
    /// Breadcrumb parent: (href, label).
    parent: (String, String),
    heading: String,
    /// None when the team has no policy.
    policy: Option<EscalationPolicy>,
    rows: Vec<MatrixRow>,
    repeats: String,
    teams: Vec<TeamLink>,
    /// When "on call" was resolved, in UTC for people reading from anywhere.
    as_of: String,
}

async fn page(
    s: &AppState,
    c: &Catalog,
    layout: Layout,
    parent: (String, String),
    policy: Option<&EscalationPolicy>,
) -> Result<MatrixPage, AppError> {
    let at = s.clock.now_ms();
    let overrides = store::overrides(&s.db, None, at, at.saturating_add(HORIZON_MS)).await?;
    let mut teams: Vec<TeamLink> = c
        .teams
        .iter()
        .filter(|t| policy.is_some_and(|p| t.escalation_policy.as_deref() == Some(&p.id)))
        .map(|t| TeamLink {
            id: t.id.clone(),
            name: t.name.clone(),
        })
        .collect();
    teams.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(MatrixPage {
        heading: layout.title.clone(),
        layout,
        parent,
        rows: policy.map_or_else(Vec::new, |p| matrix(c, &overrides, p, at)),
        repeats: policy.map(repeats).unwrap_or_default(),
        policy: policy.cloned(),
        teams,
        as_of: local_time(at, "UTC"),
    })
}

async fn team_matrix(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<MatrixPage, PageError> {
    let c = s.catalog().await.or_page(&p, "teams")?;
    let team = c.team(&id).ok_or(AppError::NotFound).or_page(&p, "teams")?;
    let policy = team
        .escalation_policy
        .as_deref()
        .and_then(|id| c.escalation_policy(id));
    let layout = Layout::new(&p, "teams", format!("Escalation matrix: {}", team.name));
    let parent = (format!("/teams/{id}"), team.name.clone());
    page(&s, &c, layout, parent, policy)
        .await
        .or_page(&p, "teams")
}

async fn policy_matrix(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<MatrixPage, PageError> {
    let c = s.catalog().await.or_page(&p, "teams")?;
    let policy = c
        .escalation_policy(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "teams")?;
    let layout = Layout::new(&p, "teams", format!("Escalation policy: {}", policy.name));
    let parent = ("/teams".to_string(), "Teams".to_string());
    page(&s, &c, layout, parent, Some(policy))
        .await
        .or_page(&p, "teams")
}
