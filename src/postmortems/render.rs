//! The postmortem as one Markdown document, pure: the facts table (dates in the reader's
//! zone), then each section in the template's order. The action items section is the table of
//! items (with their backlog links and state) followed by its notes; the timeline section is
//! the incident's starred entries (the key events when none are starred) in the reader's
//! zone, generated on every read so it never goes stale. Used for the page, the Markdown
//! export, the print view and the CLI.

use std::fmt::Write;

use crate::catalog::Catalog;
use crate::incidents::metrics::duration_label;
use crate::incidents::{Entry, EntryKind, Full};
use crate::oncall::current::{local_time, person_name};

use super::{ActionItem, Fill, PmFull};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The entries the timeline section shows: starred ones, else the milestones.
pub fn key_events(f: &Full) -> Vec<&Entry> {
    let starred: Vec<&Entry> = f.timeline.iter().filter(|e| e.starred).collect();
    if !starred.is_empty() {
        return starred;
    }
    f.timeline
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EntryKind::Declared
                    | EntryKind::Status
                    | EntryKind::Severity
                    | EntryKind::Decision
                    | EntryKind::Finding
                    | EntryKind::Team
            )
        })
        .collect()
}

/// The timeline table in zone `tz`.
pub fn timeline(f: &Full, tz: &str) -> String {
    let events = key_events(f);
    if events.is_empty() {
        return "*No key events: star entries on the incident's timeline.*\n".into();
    }
    let mut md = format!("| Time ({tz}) | Event | By |\n|---|---|---|\n");
    for e in events {
        let line = e.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            local_time(e.at, tz),
            cell(line.trim()),
            cell(&e.actor)
        );
    }
    md
}

/// The action items table; `now` marks overdue ones.
pub fn action_table(items: &[ActionItem], c: &Catalog, tz: &str, now: i64) -> String {
    if items.is_empty() {
        return "*No action items yet.*\n".into();
    }
    let mut md = String::from("| Action | Type | Owner | Due | Backlog | State |\n");
    md.push_str("|---|---|---|---|---|---|\n");
    for a in items {
        let due = a.due_at.map_or_else(|| "—".into(), |d| local_time(d, tz));
        let backlog = match (&a.backlog_key, &a.backlog_url) {
            (Some(k), Some(u)) => format!("[{}]({u})", cell(k)),
            (Some(k), None) => cell(k),
            _ => "—".into(),
        };
        let state = if a.is_done() {
            "done"
        } else if a.is_overdue(now) {
            "**overdue**"
        } else {
            "open"
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {due} | {backlog} | {state} |",
            cell(&a.title),
            a.kind.as_str(),
            cell(&person_name(c, &a.owner))
        );
    }
    md
}

/// The whole postmortem in zone `tz`.
pub fn markdown(pm: &PmFull, f: &Full, c: &Catalog, tz: &str, now: i64) -> String {
    let p = &pm.postmortem;
    let i = &f.incident;
    let mut md = format!("# Postmortem: {}: {}\n\n", i.reference(), p.title);
    md.push_str("| | |\n|---|---|\n");
    let status = match p.published_at {
        Some(at) => format!("{} ({})", p.status.label(), local_time(at, tz)),
        None => p.status.label().to_string(),
    };
    let _ = writeln!(md, "| Status | {status} |");
    let sev = c
        .severity(&i.severity)
        .map_or_else(|| i.severity.clone(), |s| s.name.clone());
    let _ = writeln!(md, "| Incident | {}, {} |", i.reference(), cell(&sev));
    let _ = writeln!(md, "| Date | {} |", local_time(i.started_at, tz));
    let end = i.resolved_at.unwrap_or(now);
    let _ = writeln!(
        md,
        "| Duration | {}{} |",
        duration_label(end - i.started_at),
        if i.resolved_at.is_none() {
            " so far"
        } else {
            ""
        }
    );
    let owner = if p.owner.is_empty() {
        "*none*".to_string()
    } else {
        cell(&person_name(c, &p.owner))
    };
    let _ = writeln!(md, "| Owner | {owner} |");
    if !pm.reviewers.is_empty() {
        let names: Vec<String> = pm
            .reviewers
            .iter()
            .map(|r| {
                let name = cell(&person_name(c, &r.person_id));
                if r.approved_at.is_some() {
                    format!("{name} (approved)")
                } else {
                    name
                }
            })
            .collect();
        let _ = writeln!(md, "| Reviewers | {} |", names.join(", "));
    }
    if let Some(d) = p.due_at {
        let _ = writeln!(md, "| Due | {} |", local_time(d, tz));
    }
    md.push('\n');
    for s in &pm.sections {
        let _ = writeln!(md, "## {}\n", s.title);
        match s.fill {
            Fill::ActionItems => {
                md.push_str(&action_table(&pm.actions, c, tz, now));
                md.push('\n');
            }
            Fill::Timeline => {
                md.push_str(&timeline(f, tz));
                md.push('\n');
            }
            _ => {}
        }
        let body = s.body.trim();
        if !body.is_empty() {
            let _ = writeln!(md, "{body}\n");
        } else if !matches!(s.fill, Fill::ActionItems | Fill::Timeline) {
            md.push_str("*Not written yet.*\n\n");
        }
    }
    md
}
