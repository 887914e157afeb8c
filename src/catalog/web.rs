//! Catalog pages: the services list (filtered by tier, owner team and domain with a plain GET
//! form) and a service's page with what breaks when it fails. Business-function pages live in
//! [`functions`]. Handlers only load through `store.rs` and shape the data for templates.

mod functions;

pub(crate) use functions::{FunctionRow, sorted as sorted_functions};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::extract::WebUser;
use crate::escalation::resolve::first_responders;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::oncall::current::{HORIZON_MS, person_name};

use super::impact::{FunctionImpact, ServiceRef};
use super::{Catalog, Link, Service};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(list))
        .route("/services/{id}", get(detail))
        .merge(functions::router())
}

/// The display name of a team, or its id when the catalog has no such team.
pub(crate) fn team_name(c: &Catalog, id: &str) -> String {
    c.team(id)
        .map_or_else(|| id.to_string(), |t| t.name.clone())
}

pub(crate) fn domain_name(c: &Catalog, id: &str) -> String {
    c.domain(id)
        .map_or_else(|| id.to_string(), |d| d.name.clone())
}

/// A service as a table row or page header, with names resolved for display.
pub(crate) struct ServiceRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub stateful: bool,
    pub tier: u8,
    pub domain_id: String,
    pub domain: String,
    pub team_id: String,
    pub team: String,
}

impl ServiceRow {
    pub(crate) fn new(c: &Catalog, s: &Service) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind.as_str(),
            stateful: s.stateful,
            tier: s.tier,
            domain_id: s.domain.clone(),
            domain: domain_name(c, &s.domain),
            team_id: s.owner_team.clone(),
            team: team_name(c, &s.owner_team),
        }
    }
}

/// One option of a filter select, with how many services it would show.
struct Choice {
    value: String,
    label: String,
    count: usize,
    selected: bool,
}

/// The filters, as sent by the form. Strings, not numbers: an empty select sends `tier=`, and
/// a value that matches nothing should show an empty list rather than a bare 400.
#[derive(Deserialize, Default)]
struct Filter {
    #[serde(default)]
    tier: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    domain: String,
}

impl Filter {
    fn keeps(&self, s: &Service) -> bool {
        (self.tier.is_empty() || s.tier.to_string() == self.tier)
            && (self.team.is_empty() || s.owner_team == self.team)
            && (self.domain.is_empty() || s.domain == self.domain)
    }

    fn is_active(&self) -> bool {
        !(self.tier.is_empty() && self.team.is_empty() && self.domain.is_empty())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "services.html")]
struct ServicesPage {
    layout: Layout,
    rows: Vec<ServiceRow>,
    total: usize,
    filtered: bool,
    tiers: Vec<Choice>,
    teams: Vec<Choice>,
    domains: Vec<Choice>,
}

async fn list(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(f): Query<Filter>,
) -> Result<ServicesPage, PageError> {
    let c = s.catalog().await.or_page(&p, "services")?;
    let mut services: Vec<&Service> = c.services.iter().collect();
    // Most critical first: that is what people scan this list for.
    services.sort_by(|a, b| a.tier.cmp(&b.tier).then(a.id.cmp(&b.id)));
    let count = |keep: &dyn Fn(&Service) -> bool| c.services.iter().filter(|s| keep(s)).count();
    let tiers = c
        .tiers
        .iter()
        .map(|t| Choice {
            value: t.level.to_string(),
            label: t.name.clone(),
            count: count(&|s| s.tier == t.level),
            selected: f.tier == t.level.to_string(),
        })
        .collect();
    let teams = c
        .teams
        .iter()
        .map(|t| Choice {
            value: t.id.clone(),
            label: t.name.clone(),
            count: count(&|s| s.owner_team == t.id),
            selected: f.team == t.id,
        })
        .filter(|ch| ch.count > 0 || ch.selected)
        .collect();
    let domains = c
        .domains
        .iter()
        .map(|d| Choice {
            value: d.id.clone(),
            label: d.name.clone(),
            count: count(&|s| s.domain == d.id),
            selected: f.domain == d.id,
        })
        .collect();
    let rows = services
        .into_iter()
        .filter(|s| f.keeps(s))
        .map(|s| ServiceRow::new(&c, s))
        .collect();
    Ok(ServicesPage {
        layout: Layout::new(&p, "services", "Services"),
        rows,
        total: c.services.len(),
        filtered: f.is_active(),
        tiers,
        teams,
        domains,
    })
}

/// A link to another service, with its tier for the badge.
pub(crate) struct ServiceLink {
    pub id: String,
    pub name: String,
    pub tier: i64,
}

impl ServiceLink {
    fn to(c: &Catalog, id: &str) -> Self {
        match c.service(id) {
            Some(s) => Self {
                id: s.id.clone(),
                name: s.name.clone(),
                tier: i64::from(s.tier),
            },
            // Dangling references cannot be written (validation), but a page must not fail.
            None => Self {
                id: id.to_string(),
                name: id.to_string(),
                tier: -1,
            },
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "service.html")]
struct ServicePage {
    layout: Layout,
    s: ServiceRow,
    description: String,
    tier_name: String,
    tier_meaning: String,
    links: Vec<Link>,
    depends_on: Vec<ServiceLink>,
    depended_on_by: Vec<ServiceLink>,
    affected: Vec<ServiceRef>,
    functions: Vec<FunctionImpact>,
    /// Who is paged first now, through the service's policy: (person id, name).
    responders: Vec<(String, String)>,
    /// The policy that answers for it (its own or its owner team's): (id, name).
    policy: Option<(String, String)>,
}

async fn detail(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<ServicePage, PageError> {
    let c = s.catalog().await.or_page(&p, "services")?;
    let svc = c
        .service(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "services")?;
    let impact = c
        .impact(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "services")?;
    let tier = c.tier(svc.tier);
    let at = s.clock.now_ms();
    let found = crate::oncall::store::overrides(&s.db, None, at, at.saturating_add(HORIZON_MS))
        .await
        .or_page(&p, "services")?;
    let responders = first_responders(&c, &found, &id, at)
        .into_iter()
        .map(|r| {
            let name = person_name(&c, &r);
            (r, name)
        })
        .collect();
    let policy = c
        .policy_for_service(svc)
        .map(|pol| (pol.id.clone(), pol.name.clone()));
    Ok(ServicePage {
        layout: Layout::new(&p, "services", svc.name.clone()),
        s: ServiceRow::new(&c, svc),
        description: svc.description.clone(),
        tier_name: tier.map_or_else(|| format!("Tier {}", svc.tier), |t| t.name.clone()),
        tier_meaning: tier.map(|t| t.description.clone()).unwrap_or_default(),
        // Validation only admits http(s) URLs; checked again so no other scheme becomes a link.
        links: svc
            .links
            .iter()
            .filter(|l| l.url.starts_with("https://") || l.url.starts_with("http://"))
            .cloned()
            .collect(),
        depends_on: svc
            .depends_on
            .iter()
            .map(|d| ServiceLink::to(&c, d))
            .collect(),
        depended_on_by: c
            .services
            .iter()
            .filter(|o| o.depends_on.contains(&svc.id))
            .map(|o| ServiceLink::to(&c, &o.id))
            .collect(),
        // Depth 0 is the service itself; the page is already about it.
        affected: impact
            .services
            .into_iter()
            .filter(|r| r.depth > 0)
            .collect(),
        functions: impact.business_functions,
        responders,
        policy,
    })
}
