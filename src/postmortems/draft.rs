//! The draft, pure: what Tocsin writes into each section from the incident (its document,
//! timeline, roles, alerts) so the author corrects instead of starting from nothing. Only
//! facts go in; what needs judgment (the trigger, where we got lucky) is left as a heading.
//! Section bodies hold no clock times, only durations: times are shown in each reader's zone
//! by the renderer (the timeline section is generated on every read).

use std::fmt::Write;

use crate::catalog::Catalog;
use crate::incidents::metrics::{self, duration_label};
use crate::incidents::{EntryKind, Full, Role};
use crate::oncall::current::person_name;

use super::Fill;

mod learning;

use learning::{candidates, follow_up, lessons};

/// What the draft needs to know about one alert of the incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertFact {
    pub id: String,
    pub summary: String,
    pub service: String,
    pub severity: Option<String>,
    /// Integration source (alertmanager, grafana…).
    pub source: String,
    pub started_at: i64,
    pub acknowledged_at: Option<i64>,
    pub response_due_at: Option<i64>,
    pub breached_at: Option<i64>,
    pub playbook: Option<String>,
}

/// Everything the draft reads.
pub struct Input<'a> {
    pub full: &'a Full,
    pub catalog: &'a Catalog,
    pub alerts: &'a [AlertFact],
    /// A Markdown paragraph on error budget burned (from the SLOs), empty when unknown.
    pub budget: &'a str,
    /// When the draft is made: the end of an incident not resolved yet.
    pub now: i64,
}

impl Input<'_> {
    fn person(&self, id: &str) -> String {
        person_name(self.catalog, id)
    }

    fn service(&self, id: &str) -> String {
        self.catalog
            .service(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    }

    fn end(&self) -> i64 {
        self.full.incident.resolved_at.unwrap_or(self.now)
    }

    fn duration(&self) -> String {
        duration_label(self.end() - self.full.incident.started_at)
    }

    fn severity(&self) -> String {
        let id = &self.full.incident.severity;
        self.catalog
            .severity(id)
            .map_or_else(|| id.clone(), |s| s.name.clone())
    }

    /// The severity's response target, in milliseconds.
    fn target_ms(&self) -> Option<i64> {
        let s = self.catalog.severity(&self.full.incident.severity)?;
        Some(i64::from(s.response_target_minutes?) * 60_000)
    }

    /// Alerts without a playbook, or whose playbook has no automated action.
    fn unautomated(&self) -> Vec<(&AlertFact, &'static str)> {
        self.alerts
            .iter()
            .filter_map(
                |a| match a.playbook.as_deref().and_then(|p| self.catalog.playbook(p)) {
                    None => Some((a, "no playbook")),
                    Some(p) if !p.steps.iter().any(|s| s.action.is_some()) => {
                        Some((a, "a playbook but no automation"))
                    }
                    Some(_) => None,
                },
            )
            .collect()
    }
}

/// The body Tocsin drafts for a section that `fill`s with this.
pub fn fill(f: Fill, input: &Input) -> String {
    match f {
        Fill::People => people(input),
        Fill::Summary => summary(input),
        Fill::Problem => problem(input),
        Fill::Impact => impact(input),
        Fill::ActionItems => candidates(input),
        Fill::Lessons => lessons(input),
        Fill::FollowUp => follow_up(input),
        Fill::Timeline | Fill::None => String::new(),
    }
}

fn people(input: &Input) -> String {
    let full = input.full;
    let mut md = String::new();
    for role in Role::ALL {
        let stints: Vec<String> = full
            .roles
            .iter()
            .filter(|s| s.role == role)
            .map(|s| input.person(&s.person_id))
            .collect();
        if !stints.is_empty() {
            let _ = writeln!(md, "- **{}:** {}", role.title(), stints.join(", then "));
        }
    }
    let _ = writeln!(md, "- **Declared by:** {}", full.incident.declared_by);
    let (teams, people): (Vec<_>, Vec<_>) =
        full.participants.iter().partition(|p| p.kind == "team");
    if !people.is_empty() {
        let names: Vec<String> = people.iter().map(|p| input.person(&p.id)).collect();
        let _ = writeln!(md, "- **Investigators:** {}", names.join(", "));
    }
    if !teams.is_empty() {
        let names: Vec<String> = teams
            .iter()
            .map(|t| {
                input
                    .catalog
                    .team(&t.id)
                    .map_or_else(|| t.id.clone(), |x| x.name.clone())
            })
            .collect();
        let _ = writeln!(md, "- **Teams pulled in:** {}", names.join(", "));
    }
    md
}

fn summary(input: &Input) -> String {
    let i = &input.full.incident;
    let what = if input.full.functions.is_empty() {
        let services: Vec<String> = input
            .full
            .services
            .iter()
            .map(|s| input.service(s))
            .collect();
        if services.is_empty() {
            "the service".to_string()
        } else {
            services.join(", ")
        }
    } else {
        let names: Vec<&str> = input
            .full
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        names.join(", ")
    };
    format!(
        "{} for {} ({}), impairing {what}.\n",
        i.title.trim_end_matches('.'),
        input.duration(),
        input.severity()
    )
}

fn problem(input: &Input) -> String {
    let full = input.full;
    let mut md = String::from("**Technical issue.** ");
    let latest = full.updates.iter().rev().find(|u| !u.impact.is_empty());
    if !full.incident.summary.is_empty() {
        let _ = writeln!(md, "{}", full.incident.summary.trim());
    } else if let Some(u) = latest {
        let _ = writeln!(md, "{}", u.impact.trim());
    } else {
        let _ = writeln!(md, "{}", full.incident.title);
    }
    md.push_str("\n**Root cause and contributing factors.**\n\n");
    let findings: Vec<_> = full
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::Finding)
        .collect();
    for e in &findings {
        let _ = writeln!(md, "- {}", e.body.lines().next().unwrap_or("").trim());
    }
    if findings.is_empty() {
        md.push_str("<!-- What made this possible? Several factors, not one culprit. -->\n");
    }
    md.push_str("\n**Trigger.** <!-- The change or event that set it off. -->\n\n");
    md.push_str("**Detection.** ");
    md.push_str(&detection(input));
    md
}

fn detection(input: &Input) -> String {
    let i = &input.full.incident;
    let m = metrics::of(i);
    let first = input
        .alerts
        .iter()
        .min_by_key(|a| (a.started_at, a.id.clone()));
    let mut md = match first {
        Some(a) => format!(
            "Monitoring detected it: alert “{}” on {} (from {}).",
            a.summary,
            input.service(&a.service),
            if a.source.is_empty() {
                "an integration"
            } else {
                &a.source
            }
        ),
        None => format!(
            "A person reported it: {} declared it without an alert, so monitoring did not see it.",
            i.declared_by
        ),
    };
    if let Some(t) = m.time_to_acknowledge_ms {
        let _ = write!(md, " Acknowledged after {}.", duration_label(t));
    }
    let _ = writeln!(
        md,
        " Declared an incident after {} ({}).",
        duration_label(m.time_to_declare_ms),
        if i.source == "auto" {
            "automatically, by its severity's policy".to_string()
        } else {
            format!("via {}", i.source)
        }
    );
    md
}

/// Response-target breaches: alerts acknowledged late (or never), and the incident itself.
fn breaches(input: &Input) -> Vec<String> {
    let mut out = Vec::new();
    for a in input.alerts {
        let Some(due) = a.response_due_at else {
            continue;
        };
        let target = duration_label(due - a.started_at);
        match a.acknowledged_at {
            Some(ack) if ack > due => out.push(format!(
                "Alert “{}” was acknowledged after {}, past its {target} target.",
                a.summary,
                duration_label(ack - a.started_at)
            )),
            None if a.breached_at.is_some() => out.push(format!(
                "Alert “{}” was never acknowledged within its {target} target.",
                a.summary
            )),
            _ => {}
        }
    }
    let tta = metrics::of(&input.full.incident).time_to_acknowledge_ms;
    if let (Some(target), Some(t)) = (input.target_ms(), tta)
        && t > target
    {
        out.push(format!(
            "The incident was acknowledged after {}, past the {} target of {}.",
            duration_label(t),
            input.severity(),
            duration_label(target)
        ));
    }
    out
}

fn impact(input: &Input) -> String {
    let full = input.full;
    let mut md = String::new();
    let _ = writeln!(md, "- **Duration:** {}", input.duration());
    let urgency = input
        .catalog
        .severity(&full.incident.severity)
        .filter(|s| !s.urgency.is_empty())
        .map(|s| format!(" ({})", s.urgency))
        .unwrap_or_default();
    let _ = writeln!(md, "- **Severity:** {}{urgency}", input.severity());
    if !full.functions.is_empty() {
        let names: Vec<String> = full
            .functions
            .iter()
            .map(|f| format!("{} ({})", f.name, f.criticality))
            .collect();
        let _ = writeln!(md, "- **Business functions:** {}", names.join(", "));
    }
    if !full.services.is_empty() {
        let names: Vec<String> = full
            .services
            .iter()
            .map(|s| match input.catalog.service(s) {
                Some(x) => format!("{} (tier {})", x.name, x.tier),
                None => s.clone(),
            })
            .collect();
        let _ = writeln!(md, "- **Services:** {}", names.join(", "));
    }
    let breaches = breaches(input);
    if breaches.is_empty() {
        md.push_str("- **Response targets:** all met.\n");
    } else {
        md.push_str("- **Response-target breaches:**\n");
        for b in breaches {
            let _ = writeln!(md, "  - {b}");
        }
    }
    if let Some(u) = full.updates.iter().rev().find(|u| !u.impact.is_empty()) {
        let _ = writeln!(md, "\nAs last told to stakeholders: {}", u.impact.trim());
    }
    if !input.budget.is_empty() {
        let _ = writeln!(md, "\n{}", input.budget.trim_end());
    }
    md
}
