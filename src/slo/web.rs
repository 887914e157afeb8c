//! The SLO pages, for every signed-in role: `/slos` lists every SLO with its error budget
//! over the current window as a bar, `/slos/{id}` shows which incidents consumed the budget
//! and the burn chart (cumulative consumption day by day, with the 100 % line).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::auth::extract::WebUser;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};
use crate::incidents::metrics::duration_label;

use super::budget::{self, Budget};
use super::{Slo, store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slos", get(list))
        .route("/slos/{id}", get(detail))
}

/// One SLO with its budget, as both pages show it.
pub struct Row {
    pub slo: Slo,
    pub service_name: String,
    pub budget: Budget,
}

impl Row {
    pub fn objective(&self) -> String {
        format!(
            "{} % over {} days",
            self.slo.objective.0, self.slo.window_days
        )
    }
    pub fn sla(&self) -> String {
        self.slo
            .sla
            .map_or_else(|| "–".into(), |s| format!("{} %", s.0))
    }
    pub fn budget(&self) -> String {
        duration_label(self.budget.budget_ms)
    }
    pub fn consumed(&self) -> String {
        duration_label(self.budget.consumed_ms)
    }
    pub fn remaining(&self) -> String {
        let r = self.budget.remaining_ms;
        if r < 0 {
            format!("overspent by {}", duration_label(-r))
        } else {
            duration_label(r)
        }
    }
    /// The bar's value, capped at 100 (the text says by how much it is over).
    pub fn meter(&self) -> String {
        format!("{:.1}", self.budget.percent_consumed.min(100.0))
    }
    pub fn percent(&self) -> String {
        format!("{:.1} %", self.budget.percent_consumed)
    }
    pub fn sla_state(&self) -> &'static str {
        match self.budget.sla_breached {
            Some(true) => "breached",
            Some(false) => "met",
            None => "–",
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "slo/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
}

#[derive(Template, WebTemplate)]
#[template(path = "slo/detail.html")]
struct DetailPage {
    layout: Layout,
    row: Row,
    window: String,
    chart: String,
    /// (incident, title, consumed, percent of budget).
    incidents: Vec<(i64, String, String, String)>,
}

async fn row(
    s: &AppState,
    slo: &Slo,
    snap: &crate::catalog::Catalog,
    now: i64,
) -> Result<(Row, Vec<budget::Impairment>), AppError> {
    let from = now - i64::from(slo.window_days) * budget::DAY_MS;
    let items = store::service_impairments(&s.db, &slo.service, from, now, now).await?;
    let b = budget::compute(slo, &items, now);
    let service_name = snap
        .service(&slo.service)
        .map_or_else(|| slo.service.clone(), |x| x.name.clone());
    Ok((
        Row {
            slo: slo.clone(),
            service_name,
            budget: b,
        },
        items,
    ))
}

async fn list(State(s): State<AppState>, WebUser(p): WebUser) -> Result<ListPage, PageError> {
    let snap = s.catalog().await.or_page(&p, "reports")?;
    let now = s.clock.now_ms();
    let mut rows = Vec::new();
    for slo in &snap.slos {
        rows.push(row(&s, slo, &snap, now).await.or_page(&p, "reports")?.0);
    }
    Ok(ListPage {
        layout: Layout::new(&p, "reports", "Service level objectives"),
        rows,
    })
}

async fn detail(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
) -> Result<DetailPage, PageError> {
    let snap = s.catalog().await.or_page(&p, "reports")?;
    let slo = snap
        .slo(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "reports")?;
    let now = s.clock.now_ms();
    let (row, items) = row(&s, slo, &snap, now).await.or_page(&p, "reports")?;
    let day = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned(jiff::tz::TimeZone::UTC)
                    .strftime("%m-%d")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let points: Vec<(String, f64)> = budget::burn_series(slo, &items, now)
        .into_iter()
        .map(|(t, pct)| (day(t), pct))
        .collect();
    let title = format!("{}: budget consumed over the window (%)", slo.name);
    let chart = crate::reports::chart::line(&title, "% of budget", &points, Some(100.0));
    let incidents = row
        .budget
        .incidents
        .iter()
        .map(|x| {
            (
                x.incident_id,
                x.title.clone(),
                duration_label(x.consumed_ms),
                format!("{:.1} %", x.percent_of_budget),
            )
        })
        .collect();
    let window = format!(
        "{} to {}",
        crate::clock::format_ms(row.budget.window_from),
        crate::clock::format_ms(row.budget.window_to)
    );
    Ok(DetailPage {
        layout: Layout::new(&p, "reports", slo.name.clone()),
        row,
        window,
        chart,
        incidents,
    })
}
