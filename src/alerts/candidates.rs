//! "Candidates for automation": alerts that fire often without a playbook. Counted per service
//! and alert (its `alertname` label, else its summary) over the last days; a pure function of
//! the fired alerts, shared by `tocsin audit` and the `/readiness` page.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::Millis;
use crate::db::{Db, StoreError};

use super::automation::store::{Fired, fired_since};

/// The window looked at, and how often an alert must have fired in it to be listed.
pub const DAYS: i64 = 30;
pub const MIN_COUNT: usize = 5;
/// At most this many recent alerts are counted: enough to see what fires often.
const SCAN_LIMIT: i64 = 50_000;

/// One alert that fired often without a playbook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub service: String,
    /// The `alertname` label, else the summary.
    pub alert: String,
    pub count: usize,
}

/// What an alert is called for grouping.
fn name_of(f: &Fired) -> String {
    serde_json::from_str::<BTreeMap<String, String>>(&f.labels)
        .ok()
        .and_then(|l| l.get("alertname").cloned())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| f.summary.clone())
}

/// The groups of alerts without a playbook that fired at least `min_count` times, most
/// frequent first. Alerts that got a playbook do not count: that group is being handled.
pub fn candidates(fired: &[Fired], min_count: usize) -> Vec<Candidate> {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for f in fired.iter().filter(|f| f.playbook.is_none()) {
        *counts.entry((f.service.clone(), name_of(f))).or_default() += 1;
    }
    let mut found: Vec<Candidate> = counts
        .into_iter()
        .filter(|(_, n)| *n >= min_count.max(1))
        .map(|((service, alert), count)| Candidate {
            service,
            alert,
            count,
        })
        .collect();
    found.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.service, &a.alert).cmp(&(&b.service, &b.alert)))
    });
    found
}

/// The candidates over the [`DAYS`] before `now`.
pub async fn load(db: &Db, now: Millis) -> Result<Vec<Candidate>, StoreError> {
    let since = now - DAYS * 86_400_000;
    Ok(candidates(
        &fired_since(db, since, SCAN_LIMIT).await?,
        MIN_COUNT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(service: &str, alertname: Option<&str>, summary: &str, playbook: bool) -> Fired {
        let labels = alertname.map_or("{}".to_string(), |n| format!("{{\"alertname\":\"{n}\"}}"));
        Fired {
            service: service.into(),
            labels,
            summary: summary.into(),
            playbook: playbook.then(|| "pb".to_string()),
        }
    }

    #[test]
    fn groups_by_service_and_alertname_else_summary() {
        let mut all = Vec::new();
        for i in 0..6 {
            // Same alertname, different summaries: one group.
            all.push(fired(
                "cart",
                Some("HighLatency"),
                &format!("p99 {i}"),
                false,
            ));
        }
        for _ in 0..5 {
            all.push(fired("db", None, "Disk almost full", false));
        }
        for _ in 0..4 {
            all.push(fired("db", None, "Replica lag", false));
        }
        for _ in 0..9 {
            all.push(fired("pay", Some("Provider5xx"), "x", true));
        }
        all.push(fired("cart", Some("HighLatency"), "with playbook", true));
        assert_eq!(
            candidates(&all, 5),
            [
                Candidate {
                    service: "cart".into(),
                    alert: "HighLatency".into(),
                    count: 6
                },
                Candidate {
                    service: "db".into(),
                    alert: "Disk almost full".into(),
                    count: 5
                },
            ]
        );
        assert_eq!(candidates(&all, 4).len(), 3);
    }
}
