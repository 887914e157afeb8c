//! A report as people read it: tables of labelled cells and the series its charts draw.
//! The pages and `tocsin report --format text` show the same tables.

use super::response::Group;
use super::response::label;
use super::{Body, Report};

/// One table: a caption, column headers, rows of text cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub id: String,
    pub caption: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// What one chart draws: title, y unit, (label, value) bars.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub title: String,
    pub unit: &'static str,
    pub bars: Vec<(String, f64)>,
}

const RESPONSE_HEADERS: [&str; 8] = [
    "Group",
    "Incidents",
    "MTTA",
    "Median TTA",
    "Mean time to declare",
    "Median time to declare",
    "MTTR",
    "Median TTR",
];

fn response_table(id: &str, caption: &str, groups: &[Group]) -> Table {
    Table {
        id: id.into(),
        caption: caption.into(),
        headers: RESPONSE_HEADERS.to_vec(),
        rows: groups
            .iter()
            .map(|g| {
                vec![
                    g.label.clone(),
                    g.incidents.to_string(),
                    g.acknowledge.mean_label(),
                    g.acknowledge.p50_label(),
                    g.declare.mean_label(),
                    g.declare.p50_label(),
                    g.resolve.mean_label(),
                    g.resolve.p50_label(),
                ]
            })
            .collect(),
    }
}

fn minutes(ms: Option<i64>) -> f64 {
    ms.map_or(0.0, |m| m as f64 / 60_000.0)
}

pub fn tables(r: &Report) -> Vec<Table> {
    match &r.report {
        Body::Response(b) => vec![
            response_table("overall", "All incidents", std::slice::from_ref(&b.overall)),
            response_table("by-severity", "By severity", &b.by_severity),
            response_table("by-service", "By service", &b.by_service),
            response_table("by-team", "By owner team", &b.by_team),
            response_table("by-month", "By month (UTC)", &b.by_month),
        ],
        Body::Services(b) => vec![
            Table {
                id: "by-service".into(),
                caption: format!(
                    "Incidents per service ({} incidents, {} without a service)",
                    b.incidents, b.without_service
                ),
                headers: vec!["Service", "Tier", "Owner team", "Incidents"],
                rows: b
                    .services
                    .iter()
                    .map(|s| {
                        let tier = s.tier.map_or_else(|| "–".into(), |t| t.to_string());
                        vec![
                            s.name.clone(),
                            tier,
                            s.team.clone(),
                            s.incidents.to_string(),
                        ]
                    })
                    .collect(),
            },
            Table {
                id: "by-tier".into(),
                caption: "Incidents per tier".into(),
                headers: vec!["Tier", "Name", "Incidents", "Services with incidents"],
                rows: b
                    .tiers
                    .iter()
                    .map(|t| {
                        vec![
                            t.tier.to_string(),
                            t.name.clone(),
                            t.incidents.to_string(),
                            t.services.to_string(),
                        ]
                    })
                    .collect(),
            },
        ],
        Body::Oncall(b) => vec![Table {
            id: "people".into(),
            caption: format!("Pages per person (working hours: {})", b.working_hours),
            headers: vec![
                "Person",
                "Time zone",
                "Pages",
                "Outside working hours",
                "Incidents with a role",
            ],
            rows: b
                .people
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.time_zone.clone(),
                        p.pages.to_string(),
                        p.pages_out_of_hours.to_string(),
                        p.incidents_with_role.to_string(),
                    ]
                })
                .collect(),
        }],
        Body::Breaches(b) => vec![
            Table {
                id: "alerts".into(),
                caption: format!(
                    "Alerts past their response target: {} of {}",
                    b.alerts_breached, b.alerts
                ),
                headers: vec!["Service", "Alert severity", "Alerts", "Breached"],
                rows: b
                    .by_service_severity
                    .iter()
                    .map(|r| {
                        let sev = if r.severity.is_empty() {
                            "–"
                        } else {
                            &r.severity
                        };
                        vec![
                            r.service.clone(),
                            sev.into(),
                            r.alerts.to_string(),
                            r.breached.to_string(),
                        ]
                    })
                    .collect(),
            },
            Table {
                id: "incidents".into(),
                caption: late_caption(b.incidents_late.len(), b.incidents_with_target),
                headers: vec!["Incident", "Severity", "Target", "Acknowledged after"],
                rows: b
                    .incidents_late
                    .iter()
                    .rev()
                    .take(LATE_ROWS)
                    .map(|i| {
                        let tta = i
                            .time_to_acknowledge_ms
                            .map_or_else(|| "never".into(), |m| label(Some(m)));
                        vec![
                            format!("INC-{} {}", i.id, i.title),
                            i.severity.clone(),
                            label(Some(i.target_ms)),
                            tta,
                        ]
                    })
                    .collect(),
            },
        ],
        Body::Alerts(b) => vec![Table {
            id: "top".into(),
            caption: format!(
                "The {} largest alert groups ({} without a playbook)",
                b.top.len(),
                b.without_playbook
            ),
            headers: vec![
                "Service",
                "Rule",
                "Summary",
                "Alerts",
                "Events",
                "Playbook",
                "Automated",
            ],
            rows: b
                .top
                .iter()
                .map(|t| {
                    vec![
                        t.service.clone(),
                        if t.rule.is_empty() {
                            "–".into()
                        } else {
                            t.rule.clone()
                        },
                        t.summary.clone(),
                        t.alerts.to_string(),
                        t.events.to_string(),
                        t.playbook.clone().unwrap_or_else(|| "none".into()),
                        if t.automated { "yes" } else { "no" }.into(),
                    ]
                })
                .collect(),
        }],
    }
}

pub fn series(r: &Report) -> Vec<Series> {
    let s = |title: &str, unit, bars| Series {
        title: title.into(),
        unit,
        bars,
    };
    match &r.report {
        Body::Response(b) => vec![
            s(
                "Mean time to acknowledge by severity (minutes)",
                "minutes",
                b.by_severity
                    .iter()
                    .map(|g| (g.label.clone(), minutes(g.acknowledge.mean_ms)))
                    .collect(),
            ),
            s(
                "Mean time to resolve by month (minutes)",
                "minutes",
                b.by_month
                    .iter()
                    .map(|g| (g.label.clone(), minutes(g.resolve.mean_ms)))
                    .collect(),
            ),
        ],
        Body::Services(b) => vec![s(
            "Incidents per service",
            "incidents",
            b.services
                .iter()
                .map(|x| (x.name.clone(), x.incidents as f64))
                .collect(),
        )],
        Body::Oncall(b) => vec![s(
            "Pages outside working hours per person",
            "pages",
            b.people
                .iter()
                .map(|p| (p.name.clone(), p.pages_out_of_hours as f64))
                .collect(),
        )],
        Body::Breaches(b) => vec![s(
            "Breached alerts by service and severity",
            "alerts",
            b.by_service_severity
                .iter()
                .map(|r| (format!("{} {}", r.service, r.severity), r.breached as f64))
                .collect(),
        )],
        Body::Alerts(b) => vec![s(
            "Alerts per group",
            "alerts",
            b.top
                .iter()
                .map(|t| (format!("{}: {}", t.service, t.summary), t.alerts as f64))
                .collect(),
        )],
    }
}

/// The tables as aligned plain text, for the terminal.
pub fn text(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "{} — {} to {}\n",
        r.title,
        crate::clock::format_ms(r.period.from),
        crate::clock::format_ms(r.period.to)
    );
    for t in tables(r) {
        let _ = write!(out, "\n{}\n", t.caption);
        let mut widths: Vec<usize> = t.headers.iter().map(|h| h.chars().count()).collect();
        for row in &t.rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}", w = *w))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(t.headers.clone()));
        if t.rows.is_empty() {
            let _ = writeln!(out, "(none)");
        }
        for row in &t.rows {
            let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
        }
    }
    out
}

/// Late incidents a table shows, newest first: a busy quarter has hundreds, and a page (or a
/// terminal) of them all helps no one; the JSON report lists every one.
pub const LATE_ROWS: usize = 100;

fn late_caption(late: usize, with_target: usize) -> String {
    let head = format!("Incidents over their severity's response target: {late} of {with_target}");
    if late > LATE_ROWS {
        format!("{head} (the latest {LATE_ROWS}; the JSON report lists all)")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::alerts::{BreachesReport, LateIncident};
    use crate::reports::{Body, Period};

    fn breaches(late: i64) -> Report {
        let incidents_late = (1..=late)
            .map(|id| LateIncident {
                id,
                title: format!("t{id}"),
                severity: "sev1".into(),
                target_ms: 60_000,
                time_to_acknowledge_ms: None,
            })
            .collect();
        Report {
            name: "breaches".into(),
            title: "Response-target breaches".into(),
            period: Period { from: 0, to: 1 },
            service: String::new(),
            severity: String::new(),
            report: Body::Breaches(BreachesReport {
                alerts: 0,
                alerts_breached: 0,
                by_service_severity: vec![],
                incidents_with_target: 200,
                incidents_late,
            }),
        }
    }

    #[test]
    fn a_long_late_list_shows_the_latest_hundred_and_says_so() {
        let t = &tables(&breaches(150))[1];
        assert_eq!(t.rows.len(), LATE_ROWS);
        assert_eq!(t.rows[0][0], "INC-150 t150", "newest first");
        assert!(t.caption.contains("150 of 200") && t.caption.contains("the latest 100"));
        let t = &tables(&breaches(3))[1];
        assert_eq!(t.rows.len(), 3);
        assert!(!t.caption.contains("latest"), "{}", t.caption);
    }
}
