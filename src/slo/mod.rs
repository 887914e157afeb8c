//! Service level objectives as code (the catalog kind `slos:`): a service's objective for
//! one indicator ("99.9 % of checkout requests succeed over 30 days"), optionally the SLA
//! promised to customers, and the error budget that the incidents' impairments consume.
//!
//! `budget.rs` is the pure arithmetic; `store.rs` the SQL (the kind itself, impairments);
//! `api.rs` and `web.rs` the views. [`incident_burn`] and [`burn_markdown`] are what a
//! postmortem shows: how much of each budget one incident took.

pub mod api;
pub mod budget;
pub mod store;
pub mod web;

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::snapshot::Snapshot;
use crate::db::{Db, StoreError};

/// A percentage as written in the files (99.9). Compared bit for bit so a catalog stays
/// `Eq` (plans diff catalogs); the validator rejects NaN and anything outside (0, 100).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(pub f64);

impl PartialEq for Percent {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Percent {}

/// What is measured: a kind people choose (availability, latency, freshness…) and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sli {
    /// availability, latency, correctness… (free text, shown as written).
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// One SLO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    pub id: String,
    /// The catalog service it is about.
    pub service: String,
    pub name: String,
    pub sli: Sli,
    /// The objective in percent, strictly between 0 and 100 (99.9).
    #[schema(value_type = f64)]
    pub objective: Percent,
    /// The rolling window the objective is measured over, in days (28, 30).
    pub window_days: u32,
    /// What is promised to customers, in percent; at most the objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub sla: Option<Percent>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl crate::catalog::Catalog {
    pub fn slo(&self, id: &str) -> Option<&Slo> {
        self.slos.iter().find(|s| s.id == id)
    }
}

/// How much of one SLO's budget an incident consumed.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Burn {
    pub slo_id: String,
    pub slo_name: String,
    pub service: String,
    /// The incident's impairment of the service (inside the SLO's current window).
    pub impaired_ms: i64,
    pub budget_ms: i64,
    pub percent_of_budget: f64,
}

/// For each SLO of the incident's services, what the incident consumed of its budget: the
/// service's impairment during the incident, clipped to the SLO's window ending at `now` (or
/// at the end of the impairment, for an incident older than one window).
pub async fn incident_burn(
    db: &Db,
    snap: &Snapshot,
    incident_id: i64,
    now: i64,
) -> Result<Vec<Burn>, StoreError> {
    let stretches = store::incident_impairments(db, incident_id, now).await?;
    let mut out = Vec::new();
    for (service, from, to) in stretches {
        for slo in snap.slos.iter().filter(|s| s.service == service) {
            let budget_ms = budget::budget_ms(slo.objective.0, slo.window_days);
            // The window that ends when the impairment ended (or now): what a report
            // written right after the incident would show.
            let end = to.min(now).max(from);
            let window = (end - i64::from(slo.window_days) * budget::DAY_MS, end);
            let impaired_ms = budget::overlap((from, to), window);
            out.push(Burn {
                slo_id: slo.id.clone(),
                slo_name: slo.name.clone(),
                service: service.clone(),
                impaired_ms,
                budget_ms,
                percent_of_budget: if budget_ms > 0 {
                    impaired_ms as f64 * 100.0 / budget_ms as f64
                } else {
                    0.0
                },
            });
        }
    }
    out.sort_by(|a, b| a.service.cmp(&b.service).then(a.slo_id.cmp(&b.slo_id)));
    Ok(out)
}

/// A short Markdown table of burns, for the postmortem.
pub fn burn_markdown(burns: &[Burn]) -> String {
    if burns.is_empty() {
        return "No SLO covers the services of this incident.\n".into();
    }
    let mut s = String::from(
        "| SLO | Service | Impaired | Budget | Budget consumed |\n|---|---|---|---|---|\n",
    );
    let label = crate::incidents::metrics::duration_label;
    for b in burns {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} % |",
            cell(&b.slo_name),
            cell(&b.service),
            label(b.impaired_ms),
            label(b.budget_ms),
            b.percent_of_budget
        );
    }
    s
}

/// Table cells cannot hold pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burns_read_as_a_markdown_table() {
        assert_eq!(
            burn_markdown(&[]),
            "No SLO covers the services of this incident.\n"
        );
        let b = Burn {
            slo_id: "co".into(),
            slo_name: "Checkout | availability".into(),
            service: "checkout-api".into(),
            impaired_ms: 21 * 60_000 + 36_000,
            budget_ms: 2_592_000,
            percent_of_budget: 50.0,
        };
        let md = burn_markdown(&[b]);
        assert!(
            md.contains("| Checkout \\| availability | checkout-api | 21 min | 43 min | 50.0 % |"),
            "{md}"
        );
    }
}
