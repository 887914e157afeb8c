//! Business-function pages: the list, most critical first, and a function's page with every
//! service it ultimately relies on (from the snapshot's dependency graph).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::auth::extract::WebUser;
use crate::catalog::impact::ServiceRef;
use crate::catalog::{BusinessFunction, Catalog};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};

use super::{domain_name, team_name};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/business-functions", get(list))
        .route("/business-functions/{id}", get(detail))
}

/// A domain reference: id for the services filter link, name for people.
pub(crate) struct DomainRef {
    pub id: String,
    pub name: String,
}

/// A business function with names resolved for display.
pub(crate) struct FunctionRow {
    pub id: String,
    pub name: String,
    pub criticality: &'static str,
    pub primary: DomainRef,
    pub depends_on: Vec<DomainRef>,
    pub team_id: String,
    pub team: String,
}

impl FunctionRow {
    pub(crate) fn new(c: &Catalog, f: &BusinessFunction) -> Self {
        let domain = |id: &String| DomainRef {
            id: id.clone(),
            name: domain_name(c, id),
        };
        Self {
            id: f.id.clone(),
            name: f.name.clone(),
            criticality: f.criticality.as_str(),
            primary: domain(&f.primary_domain),
            depends_on: f.depends_on_domains.iter().map(domain).collect(),
            team_id: f.owner_team.clone(),
            team: team_name(c, &f.owner_team),
        }
    }
}

/// Functions sorted the way people triage them: criticality, then name.
pub(crate) fn sorted(c: &Catalog) -> Vec<&BusinessFunction> {
    let mut all: Vec<_> = c.business_functions.iter().collect();
    all.sort_by(|a, b| a.criticality.cmp(&b.criticality).then(a.name.cmp(&b.name)));
    all
}

#[derive(Template, WebTemplate)]
#[template(path = "functions.html")]
struct FunctionsPage {
    layout: Layout,
    rows: Vec<FunctionRow>,
}

async fn list(State(s): State<AppState>, WebUser(p): WebUser) -> Result<FunctionsPage, PageError> {
    let c = s.catalog().await.or_page(&p, "functions")?;
    Ok(FunctionsPage {
        layout: Layout::new(&p, "functions", "Business functions"),
        rows: sorted(&c)
            .into_iter()
            .map(|f| FunctionRow::new(&c, f))
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "function.html")]
struct FunctionPage {
    layout: Layout,
    f: FunctionRow,
    description: String,
    /// Services in the function's own domains (depth 0).
    direct: Vec<ServiceRef>,
    /// Services those depend on, transitively (depth 1 and more).
    indirect: Vec<ServiceRef>,
}

async fn detail(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<FunctionPage, PageError> {
    let c = s.catalog().await.or_page(&p, "functions")?;
    let f = c
        .business_functions
        .iter()
        .find(|f| f.id == id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "functions")?;
    let (direct, indirect) = c
        .relied_on_by(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "functions")?
        .into_iter()
        .partition(|r| r.depth == 0);
    Ok(FunctionPage {
        layout: Layout::new(&p, "functions", f.name.clone()),
        f: FunctionRow::new(&c, f),
        description: f.description.clone(),
        direct,
        indirect,
    })
}
