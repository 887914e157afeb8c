//! Handbook section 1e, incident classification: one row per severity level, most severe
//! first (catalog order), with what people need to classify an incident and what the level
//! sets in motion: response target, when an incident is declared, how often stakeholders
//! hear from the team. Pure, from the catalog.

use std::fmt::Write;

use crate::catalog::Catalog;
use crate::severity::minutes_label;

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Appends section 1e to `md`.
pub fn section(md: &mut String, c: &Catalog) {
    md.push_str("\n## 1e. Incident classification\n\n");
    if c.severities.is_empty() {
        md.push_str("No severity levels are defined yet.\n");
        return;
    }
    md.push_str(
        "| Level | Urgency | Description | Example scenarios | Response target | \
         Incident declared | Stakeholder updates |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|\n");
    for s in &c.severities {
        let examples = s
            .examples
            .iter()
            .map(|e| cell(e))
            .collect::<Vec<_>>()
            .join("<br>");
        let target = s.response_target_minutes.map_or_else(
            || "none".to_string(),
            |m| format!("acknowledged within {}", minutes_label(m)),
        );
        let updates = s.update_every_minutes.map_or_else(
            || "no fixed cadence".to_string(),
            |m| format!("every {}", minutes_label(m)),
        );
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&s.name),
            cell(&s.urgency),
            cell(&s.description),
            examples,
            target,
            s.declare.describe(),
            updates
        );
    }
    let covered: Vec<String> = c
        .severities
        .iter()
        .filter(|s| !s.alert_severities.is_empty())
        .map(|s| {
            let a: Vec<&str> = s
                .alert_severities
                .iter()
                .map(|a| crate::alerts::store::severity_str(*a))
                .collect();
            format!("{} alerts are {}", a.join(" and "), cell(&s.name))
        })
        .collect();
    if !covered.is_empty() {
        let _ = writeln!(md, "\nIncoming alerts: {}.", covered.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_level_in_catalog_order() {
        let c = crate::config::load(crate::cli::example_sources(), &Catalog::default())
            .map(|l| l.catalog)
            .unwrap_or_else(|_| panic!("the example is valid"));
        let mut md = String::new();
        section(&mut md, &c);
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| Sev")).collect();
        assert_eq!(rows.len(), 3, "{md}");
        assert!(rows[0].starts_with("| Sev 0 | business critical |"), "{md}");
        assert!(rows[0].contains("Unable to check out products already in the cart<br>"));
        assert!(rows[0].contains("| acknowledged within 5 minutes | at once | every 30 minutes |"));
        assert!(
            rows[1].contains("| after 15 minutes without progress | every 1 hour |"),
            "{md}"
        );
        assert!(rows[2].contains("| when a person decides |"), "{md}");
        assert!(md.contains("critical alerts are Sev 0"), "{md}");

        let mut empty = String::new();
        section(&mut empty, &Catalog::default());
        assert!(empty.contains("No severity levels are defined yet."));
    }
}
