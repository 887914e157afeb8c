//! The draft's learning sections: candidate action items, lessons learned and the follow-up
//! questions, each from the response metrics and the incident's alerts and questions.

use std::fmt::Write;

use crate::incidents::EntryKind;
use crate::incidents::metrics::{self, duration_label};

use super::{Input, breaches, detection};

/// Candidates for action items, for the author to turn into items or delete.
pub(super) fn candidates(input: &Input) -> String {
    let mut items = Vec::new();
    for e in &input.full.timeline {
        if e.kind == EntryKind::Question {
            items.push(format!(
                "Answer: {}",
                e.body.lines().next().unwrap_or("").trim()
            ));
        }
    }
    for (a, what) in input.unautomated() {
        items.push(format!(
            "Alert “{}” had {what}: write or automate its playbook.",
            a.summary
        ));
    }
    if items.is_empty() {
        return String::new();
    }
    let mut md = String::from("Candidates from the incident (turn each into an action item):\n\n");
    for i in items {
        let _ = writeln!(md, "- {i}");
    }
    md
}

pub(super) fn lessons(input: &Input) -> String {
    let i = &input.full.incident;
    let m = metrics::of(i);
    let mut well = Vec::new();
    let mut improve = Vec::new();
    match (m.time_to_acknowledge_ms, input.target_ms()) {
        (Some(t), Some(target)) if t <= target => well.push(format!(
            "Acknowledged after {}, within the {} target.",
            duration_label(t),
            duration_label(target)
        )),
        _ => {}
    }
    if i.source == "auto" {
        well.push("Tocsin declared the incident on its own, by the severity's policy.".into());
    }
    if !input.alerts.is_empty() && input.unautomated().is_empty() {
        well.push("Every alert had a playbook with automation.".into());
    }
    improve.extend(breaches(input));
    if input.alerts.is_empty() {
        improve.push("Monitoring did not detect it; a person did.".into());
    }
    let reminders = input
        .full
        .timeline
        .iter()
        .filter(|e| e.kind == EntryKind::Reminder)
        .count();
    if reminders > 0 {
        improve.push(format!(
            "Stakeholder updates were late {reminders} time{}.",
            if reminders == 1 { "" } else { "s" }
        ));
    }
    let mut md = String::from("### What went well\n\n");
    for w in well {
        let _ = writeln!(md, "- {w}");
    }
    md.push_str("\n### What could be improved\n\n");
    for w in improve {
        let _ = writeln!(md, "- {w}");
    }
    md.push_str("\n### Where we got lucky\n");
    md
}

pub(super) fn follow_up(input: &Input) -> String {
    let mut md = String::from("- **Does the system have good monitoring?** ");
    md.push_str(&detection(input));
    md.push_str("- **Do we need more or different metrics?**\n");
    md.push_str("- **What do the SLIs, SLOs and SLAs say?**");
    if input.budget.is_empty() {
        md.push('\n');
    } else {
        md.push_str(" See the error budget under Impact.\n");
    }
    md.push_str("- **What should be automated?**");
    let todo = input.unautomated();
    if todo.is_empty() {
        md.push('\n');
    } else {
        md.push_str(" These alerts of the incident had no playbook or automation:\n");
        for (a, what) in todo {
            let _ = writeln!(
                md,
                "  - “{}” on {}: {what}",
                a.summary,
                input.service(&a.service)
            );
        }
    }
    md
}
