//! `tocsin incident show`: an incident at a glance for a terminal (the document is `doc`):
//! its state, who holds each role, and the latest timeline entries. Times in UTC.

use std::fmt::Write;

use crate::catalog::Catalog;
use crate::clock::format_ms;
use crate::incidents::{Full, Role};
use crate::oncall::current::person_name;

/// Timeline entries shown, newest last.
const LATEST: usize = 15;

pub fn render(f: &Full, c: &Catalog) -> String {
    let i = &f.incident;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", i.reference(), i.title);
    let sev = c
        .severity(&i.severity)
        .map_or_else(|| i.severity.clone(), |s| s.name.clone());
    let _ = writeln!(out, "status:    {}", i.status.as_str());
    let _ = writeln!(out, "severity:  {sev}");
    let _ = writeln!(
        out,
        "declared:  {} by {} (via {})",
        format_ms(i.declared_at),
        i.declared_by,
        i.source
    );
    if let Some(due) = i.update_due_at {
        let _ = writeln!(out, "update due {} ({} lapses)", format_ms(due), i.lapses);
    }
    if !f.services.is_empty() {
        let _ = writeln!(out, "services:  {}", f.services.join(", "));
    }
    if !f.alerts.is_empty() {
        let _ = writeln!(out, "alerts:    {}", f.alerts.join(", "));
    }
    for role in Role::ALL {
        let who = f
            .holder(role)
            .map_or_else(|| "(vacant)".to_string(), |h| person_name(c, &h.person_id));
        let _ = writeln!(out, "{:<20} {who}", format!("{}:", role.title()));
    }
    out.push_str("\ntimeline:\n");
    let skip = f.timeline.len().saturating_sub(LATEST);
    for e in &f.timeline[skip..] {
        let line = e.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let _ = writeln!(
            out,
            "  {}  {:<15} {:<12} {line}",
            format_ms(e.at),
            e.kind.as_str(),
            e.actor
        );
    }
    out
}
