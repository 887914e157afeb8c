//! Validation of playbooks and alert rules: shapes serde cannot express (a step is text *or*
//! an action), URLs, methods, header names, template placeholders, durations, and references
//! to services and playbooks.

use std::collections::HashSet;

use crate::alerts::automation::template::{self, Context, Escape};
use crate::catalog::Kind;
use crate::catalog::alerting::{AUTO_RESOLVE_RANGE_MS, Action, parse_duration};

use super::Checker;

/// An absolute http(s) URL with a host; for a template, checked with every placeholder filled.
fn check_url(url: &str) -> Result<(), String> {
    let filled = template::render(url, &sample(), Escape::Url)?;
    match reqwest::Url::parse(&filled) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(format!("expected an http(s) URL, got {url:?}")),
    }
}

/// Placeholder values for checking templates: every field non-empty.
fn sample() -> Context {
    Context {
        alert_id: "x".into(),
        summary: "x".into(),
        severity: "x".into(),
        source: "x".into(),
        dedup_key: "x".into(),
        service_id: "x".into(),
        service_name: "x".into(),
        ..Context::default()
    }
}

fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Checker<'_> {
    pub(super) fn playbooks(&mut self) {
        let c = self.catalog;
        let k = Kind::Playbook;
        self.ids(k, c.playbooks.iter().map(|p| p.id.as_str()), "id");
        for (i, p) in c.playbooks.iter().enumerate() {
            if p.title.trim().is_empty() {
                self.push(k, i, "title", "expected a non-empty title".into());
            }
            match (&p.url, p.steps.is_empty()) {
                (Some(_), false) => {
                    self.push(k, i, "url", "expected either url or steps, not both".into())
                }
                (None, true) => self.push(
                    k,
                    i,
                    "id",
                    "expected a url (a runbook elsewhere) or at least one step".into(),
                ),
                (Some(url), true) => {
                    if let Err(e) = check_url(url).and(if url.contains("{{") {
                        Err("a runbook url takes no placeholders".into())
                    } else {
                        Ok(())
                    }) {
                        self.push(k, i, "url", e);
                    }
                }
                (None, false) => {}
            }
            let mut names = HashSet::new();
            for (j, step) in p.steps.iter().enumerate() {
                let field = format!("steps[{j}]");
                match (&step.text, &step.action) {
                    (Some(text), None) if text.trim().is_empty() => {
                        self.push(k, i, format!("{field}.text"), "expected some text".into());
                    }
                    (Some(_), None) => {}
                    (None, Some(a)) => {
                        if !names.insert(a.name.trim().to_lowercase()) {
                            self.push(
                                k,
                                i,
                                format!("{field}.action.name"),
                                format!("action {:?} is defined twice in this playbook", a.name),
                            );
                        }
                        self.action(i, &format!("{field}.action"), a);
                    }
                    _ => self.push(
                        k,
                        i,
                        field,
                        "expected either text or action in a step (one of them, not both)".into(),
                    ),
                }
            }
        }
    }

    fn action(&mut self, i: usize, field: &str, a: &Action) {
        let k = Kind::Playbook;
        if a.name.trim().is_empty() {
            self.push(k, i, format!("{field}.name"), "expected a name".into());
        }
        if !Action::METHODS.contains(&a.method.as_str()) {
            self.push(
                k,
                i,
                format!("{field}.method"),
                format!(
                    "unknown method {:?}; expected one of {}",
                    a.method,
                    Action::METHODS.join(", ")
                ),
            );
        }
        if let Err(e) = check_url(&a.url) {
            self.push(k, i, format!("{field}.url"), e);
        }
        for (name, value) in &a.headers {
            let at = format!("{field}.headers.{name}");
            if !header_name_ok(name) {
                self.push(k, i, at, format!("invalid header name {name:?}"));
            } else if let Err(e) = template::check(value) {
                self.push(k, i, at, e);
            } else if value.contains(['\r', '\n']) {
                self.push(k, i, at, "a header value must be one line".into());
            }
        }
        if let Some(body) = &a.body {
            if let Err(e) = template::check(body) {
                self.push(k, i, format!("{field}.body"), e);
            } else if a.json_body() {
                // The body must be JSON once filled in, whatever the values are.
                let filled = template::render(body, &sample(), Escape::Json).unwrap_or_default();
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&filled) {
                    self.push(
                        k,
                        i,
                        format!("{field}.body"),
                        format!("the JSON body is not valid JSON: {e}"),
                    );
                }
            }
        }
    }

    pub(super) fn alert_rules(&mut self) {
        let c = self.catalog;
        let k = Kind::AlertRule;
        self.ids(k, c.alert_rules.iter().map(|r| r.id.as_str()), "id");
        for (i, r) in c.alert_rules.iter().enumerate() {
            let (m, set) = (&r.when, &r.set);
            for name in m.labels.keys() {
                if name.trim().is_empty() {
                    self.push(k, i, "match.labels", "expected a label name".into());
                }
            }
            if m.summary_contains.as_ref().is_some_and(|s| s.is_empty()) {
                self.push(k, i, "match.summary_contains", "expected some text".into());
            }
            if let Some(s) = &m.service {
                self.reference(k, i, "match.service".into(), Kind::Service, s);
            }
            if set.is_empty() {
                self.push(
                    k,
                    i,
                    "set",
                    "expected set to change something: severity, service, playbook or auto_resolve_after"
                        .into(),
                );
            }
            if let Some(s) = &set.service {
                self.reference(k, i, "set.service".into(), Kind::Service, s);
            }
            if let Some(p) = &set.playbook {
                self.reference(k, i, "set.playbook".into(), Kind::Playbook, p);
            }
            if let Some(d) = &set.auto_resolve_after {
                let (min, max) = AUTO_RESOLVE_RANGE_MS;
                match parse_duration(d) {
                    Err(e) => self.push(k, i, "set.auto_resolve_after", e),
                    Ok(ms) if !(min..=max).contains(&ms) => self.push(
                        k,
                        i,
                        "set.auto_resolve_after",
                        format!("expected between 1m and 30d, got {d:?}"),
                    ),
                    Ok(_) => {}
                }
            }
        }
    }
}
