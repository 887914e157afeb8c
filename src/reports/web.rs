//! The reports over HTTP, for every signed-in role: `GET /api/v1/reports/{name}` (JSON),
//! `/reports` (the period form and the list) and `/reports/{name}` (the form again, the
//! charts as inline SVG, the numbers as tables). The form is a plain GET, so a report's URL
//! can be bookmarked and shared. The API, the pages and the CLI build a report alike.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};

use crate::auth::extract::{Principal, WebUser};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::json::{ApiPath, ApiQuery};
use crate::http::web::{Layout, OrPage, PageError};

use super::view::{self, Table};
use super::{Name, Period, Query, Report, build};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/{name}", get(report))
        .route("/reports", get(index))
        .route("/reports/{name}", get(page))
}

/// The report `name` for the query, as the API, the pages and the CLI all build it.
pub async fn report_for(s: &AppState, name: &str, q: &Query) -> Result<Report, AppError> {
    let name = Name::parse(name).ok_or(AppError::NotFound)?;
    let snap = s.catalog().await?;
    let now = s.clock.now_ms();
    let (period, filters) = q.resolve(&snap, now).map_err(AppError::BadRequest)?;
    Ok(build(&s.db, &snap, name, period, &filters, now).await?)
}

async fn report(
    _: Principal,
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Report>, AppError> {
    Ok(Json(report_for(&s, &name, &q).await?))
}

/// The period form's values and choices.
pub struct Form {
    pub from: String,
    pub to: String,
    pub service: String,
    pub severity: String,
    /// (id, name).
    pub services: Vec<(String, String)>,
    pub severities: Vec<(String, String)>,
    /// The query string that keeps these choices on links, with its leading `?`.
    pub query: String,
}

/// A chart's title and its SVG (ours, drawn from numbers: safe to embed).
pub struct Chart {
    pub title: String,
    pub svg: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/index.html")]
struct IndexPage {
    layout: Layout,
    action: &'static str,
    form: Form,
    reports: Vec<(&'static str, &'static str, &'static str)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/report.html")]
struct ReportPage {
    layout: Layout,
    /// The form's target: this page.
    action: String,
    title: &'static str,
    summary: &'static str,
    form: Form,
    charts: Vec<Chart>,
    tables: Vec<Table>,
}

/// "2026-09-01" (UTC).
fn date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

fn parse_query(raw: Option<&str>) -> Result<Query, AppError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| AppError::BadRequest(format!("bad report query: {e}")))
}

fn form(s: &crate::catalog::Catalog, q: &Query, period: Period) -> Form {
    let from = date(period.from);
    // `to` is exclusive: the form shows the last day included.
    let to = date(period.to - 1);
    let service = q.service.clone().unwrap_or_default();
    let severity = q.severity.clone().unwrap_or_default();
    let query = format!(
        "?{}",
        serde_urlencoded::to_string([
            ("from", from.as_str()),
            ("to", to.as_str()),
            ("service", service.as_str()),
            ("severity", severity.as_str()),
        ])
        .unwrap_or_default()
    );
    Form {
        from,
        to,
        service,
        severity,
        services: s
            .services
            .iter()
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect(),
        severities: s
            .severities
            .iter()
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect(),
        query,
    }
}

async fn index(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    RawQuery(raw): RawQuery,
) -> Result<IndexPage, PageError> {
    let q = parse_query(raw.as_deref()).or_page(&p, "reports")?;
    let snap = s.catalog().await.or_page(&p, "reports")?;
    let (period, _) = q
        .resolve(&snap, s.clock.now_ms())
        .map_err(AppError::BadRequest)
        .or_page(&p, "reports")?;
    Ok(IndexPage {
        layout: Layout::new(&p, "reports", "Reports"),
        action: "/reports",
        form: form(&snap, &q, period),
        reports: Name::ALL
            .iter()
            .map(|n| (n.as_str(), n.title(), n.summary()))
            .collect(),
    })
}

async fn page(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<ReportPage, PageError> {
    let n = Name::parse(&name)
        .ok_or(AppError::NotFound)
        .or_page(&p, "reports")?;
    let q = parse_query(raw.as_deref()).or_page(&p, "reports")?;
    let report = report_for(&s, &name, &q).await.or_page(&p, "reports")?;
    let snap = s.catalog().await.or_page(&p, "reports")?;
    let charts = view::series(&report)
        .into_iter()
        .map(|x| Chart {
            svg: super::chart::bars(&x.title, x.unit, &x.bars),
            title: x.title,
        })
        .collect();
    Ok(ReportPage {
        layout: Layout::new(&p, "reports", n.title()),
        action: format!("/reports/{}", n.as_str()),
        title: n.title(),
        summary: n.summary(),
        form: form(&snap, &q, report.period),
        charts,
        tables: view::tables(&report),
    })
}
