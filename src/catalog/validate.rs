//! Pure validation of a whole [`Catalog`]: formats, duplicate ids, dangling references and
//! service dependency cycles. Config-as-code maps each [`Problem`] to a file, line and column;
//! the API returns its message with a 422 or 409.

mod alerting;
mod oncall;
mod severity;
mod slo;

use std::collections::{HashMap, HashSet};

use super::{Catalog, Kind};

/// One thing wrong with a catalog: the record (kind and position in its list), the field
/// (`owner_team`, `depends_on[2]`…) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    pub index: usize,
    pub field: String,
    pub message: String,
}

struct Checker<'a> {
    catalog: &'a Catalog,
    /// The ids of each kind, computed once: reference checks are the hot path at 5,000 services.
    known: HashMap<Kind, (HashSet<String>, Vec<String>)>,
    problems: Vec<Problem>,
}

/// Checks everything; an empty result means the catalog can be stored as it is.
pub fn validate(catalog: &Catalog) -> Vec<Problem> {
    let known = Kind::ALL
        .into_iter()
        .map(|k| {
            let ids = catalog.ids(k);
            (k, (ids.iter().cloned().collect(), ids))
        })
        .collect();
    let mut c = Checker {
        catalog,
        known,
        problems: Vec::new(),
    };
    c.tiers();
    c.teams();
    c.domains();
    c.people();
    c.functions();
    c.services();
    c.severities();
    c.schedules();
    c.policies();
    c.policy_pointers();
    c.playbooks();
    c.alert_rules();
    c.slos();
    c.nul_characters();
    c.problems
}

/// Ids are used in URLs, CLI arguments and YAML references, so they stay plain.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok_char = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.');
    if id.is_empty() || id.len() > 100 {
        Err("expected an id of 1 to 100 characters".into())
    } else if !id.starts_with(|ch: char| ch.is_ascii_alphanumeric()) || !id.chars().all(ok_char) {
        Err(format!(
            "invalid id {id:?}: expected letters, digits, '-', '_' or '.', starting with a letter or digit"
        ))
    } else {
        Ok(())
    }
}

impl Checker<'_> {
    fn push(&mut self, kind: Kind, index: usize, field: impl Into<String>, message: String) {
        self.problems.push(Problem {
            kind,
            index,
            field: field.into(),
            message,
        });
    }

    /// Flags a bad id format and every repeat of an id already seen in this kind.
    fn ids<'b>(&mut self, kind: Kind, ids: impl Iterator<Item = &'b str>, field: &str) {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            if kind != Kind::Tier
                && let Err(e) = check_id(id)
            {
                self.push(kind, i, field, e);
            }
            if !seen.insert(id) {
                self.push(kind, i, field, format!("duplicate {} {id:?}", kind.noun()));
            }
        }
    }

    fn name(&mut self, kind: Kind, index: usize, name: &str) {
        if name.trim().is_empty() {
            self.push(kind, index, "name", "expected a non-empty name".into());
        }
    }

    /// Flags every repeat in a list of references: each entry is a row keyed by (record,
    /// entry), so a repeat could not be stored.
    fn repeats(&mut self, kind: Kind, index: usize, field: &str, target: Kind, list: &[String]) {
        let mut seen = HashSet::new();
        for (j, id) in list.iter().enumerate() {
            if !seen.insert(id) {
                self.push(
                    kind,
                    index,
                    format!("{field}[{j}]"),
                    format!("{} {id:?} is listed twice", target.noun()),
                );
            }
        }
    }

    /// Flags a reference to a record of `target` kind that does not exist.
    fn reference(&mut self, kind: Kind, index: usize, field: String, target: Kind, id: &str) {
        let (set, ordered) = &self.known[&target];
        if !set.contains(id) {
            let hint = if ordered.is_empty() {
                format!("no {} is defined", target.noun())
            } else {
                format!("expected one of: {}", preview(ordered))
            };
            self.push(
                kind,
                index,
                field,
                format!("unknown {} {id:?}; {hint}", target.noun()),
            );
        }
    }

    fn tiers(&mut self) {
        let levels: Vec<String> = self
            .catalog
            .tiers
            .iter()
            .map(|t| t.level.to_string())
            .collect();
        self.ids(Kind::Tier, levels.iter().map(String::as_str), "level");
        for (i, t) in self.catalog.tiers.iter().enumerate() {
            self.name(Kind::Tier, i, &t.name);
        }
    }

    fn teams(&mut self) {
        let c = self.catalog;
        self.ids(Kind::Team, c.teams.iter().map(|t| t.id.as_str()), "id");
        for (i, t) in c.teams.iter().enumerate() {
            self.name(Kind::Team, i, &t.name);
        }
    }

    fn domains(&mut self) {
        let c = self.catalog;
        self.ids(Kind::Domain, c.domains.iter().map(|d| d.id.as_str()), "id");
        for (i, d) in c.domains.iter().enumerate() {
            self.name(Kind::Domain, i, &d.name);
        }
    }

    fn people(&mut self) {
        let c = self.catalog;
        self.ids(Kind::Person, c.people.iter().map(|p| p.id.as_str()), "id");
        let mut emails = HashSet::new();
        for (i, p) in c.people.iter().enumerate() {
            self.name(Kind::Person, i, &p.name);
            if !looks_like_email(&p.email) {
                self.push(
                    Kind::Person,
                    i,
                    "email",
                    format!("expected an email address, got {:?}", p.email),
                );
            } else if !emails.insert(p.email.to_lowercase()) {
                self.push(
                    Kind::Person,
                    i,
                    "email",
                    format!("email {:?} is used by another person", p.email),
                );
            }
            if jiff::tz::TimeZone::get(&p.time_zone).is_err() {
                self.push(
                    Kind::Person,
                    i,
                    "time_zone",
                    format!(
                        "unknown time zone {:?}; expected an IANA name such as Europe/London",
                        p.time_zone
                    ),
                );
            }
            for (j, team) in p.teams.iter().enumerate() {
                self.reference(Kind::Person, i, format!("teams[{j}]"), Kind::Team, team);
            }
            self.repeats(Kind::Person, i, "teams", Kind::Team, &p.teams);
        }
    }

    fn functions(&mut self) {
        let c = self.catalog;
        let k = Kind::BusinessFunction;
        self.ids(k, c.business_functions.iter().map(|f| f.id.as_str()), "id");
        for (i, f) in c.business_functions.iter().enumerate() {
            self.name(k, i, &f.name);
            self.reference(
                k,
                i,
                "primary_domain".into(),
                Kind::Domain,
                &f.primary_domain,
            );
            for (j, d) in f.depends_on_domains.iter().enumerate() {
                self.reference(k, i, format!("depends_on_domains[{j}]"), Kind::Domain, d);
            }
            self.repeats(
                k,
                i,
                "depends_on_domains",
                Kind::Domain,
                &f.depends_on_domains,
            );
            self.reference(k, i, "owner_team".into(), Kind::Team, &f.owner_team);
        }
    }

    fn services(&mut self) {
        let c = self.catalog;
        let k = Kind::Service;
        self.ids(k, c.services.iter().map(|s| s.id.as_str()), "id");
        for (i, s) in c.services.iter().enumerate() {
            self.name(k, i, &s.name);
            self.reference(k, i, "owner_team".into(), Kind::Team, &s.owner_team);
            self.reference(k, i, "domain".into(), Kind::Domain, &s.domain);
            self.reference(k, i, "tier".into(), Kind::Tier, &s.tier.to_string());
            for (j, dep) in s.depends_on.iter().enumerate() {
                if *dep == s.id {
                    self.push(
                        k,
                        i,
                        format!("depends_on[{j}]"),
                        format!("service {:?} depends on itself", s.id),
                    );
                } else {
                    self.reference(k, i, format!("depends_on[{j}]"), Kind::Service, dep);
                }
            }
            self.repeats(k, i, "depends_on", Kind::Service, &s.depends_on);
            for (j, link) in s.links.iter().enumerate() {
                if !(link.url.starts_with("https://") || link.url.starts_with("http://")) {
                    self.push(
                        k,
                        i,
                        format!("links[{j}].url"),
                        format!("expected an http(s) URL, got {:?}", link.url),
                    );
                }
            }
        }
        self.cycles();
    }

    /// PostgreSQL cannot store NUL in text, and no one means to write it: reject it anywhere.
    fn nul_characters(&mut self) {
        fn scan<T: serde::Serialize>(items: &[T]) -> Vec<usize> {
            let has_nul =
                |item: &T| serde_json::to_string(item).is_ok_and(|j| j.contains("\\u0000"));
            items
                .iter()
                .enumerate()
                .filter(|(_, i)| has_nul(i))
                .map(|(i, _)| i)
                .collect()
        }
        let c = self.catalog;
        let found = [
            (Kind::Severity, scan(&c.severities)),
            (Kind::Tier, scan(&c.tiers)),
            (Kind::Team, scan(&c.teams)),
            (Kind::Domain, scan(&c.domains)),
            (Kind::Person, scan(&c.people)),
            (Kind::Schedule, scan(&c.schedules)),
            (Kind::EscalationPolicy, scan(&c.escalation_policies)),
            (Kind::BusinessFunction, scan(&c.business_functions)),
            (Kind::Service, scan(&c.services)),
            (Kind::Playbook, scan(&c.playbooks)),
            (Kind::AlertRule, scan(&c.alert_rules)),
            (Kind::Slo, scan(&c.slos)),
        ];
        for (kind, indexes) in found {
            for i in indexes {
                self.push(kind, i, "", "text must not contain NUL characters".into());
            }
        }
    }

    /// Reports each dependency cycle once, at the edge that closes it.
    fn cycles(&mut self) {
        let services = &self.catalog.services;
        let index: HashMap<&str, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; services.len()];
        for root in 0..services.len() {
            if state[root] != 0 {
                continue;
            }
            // Iterative DFS: (service, next dependency to look at).
            let mut stack = vec![(root, 0usize)];
            state[root] = 1;
            while let Some((node, next)) = stack.pop() {
                let deps = &services[node].depends_on;
                if next >= deps.len() {
                    state[node] = 2;
                    continue;
                }
                stack.push((node, next + 1));
                let Some(&dep) = index.get(deps[next].as_str()) else {
                    continue;
                };
                match state[dep] {
                    0 => {
                        state[dep] = 1;
                        stack.push((dep, 0));
                    }
                    1 if dep != node => {
                        let start = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        let mut path: Vec<&str> = stack[start..]
                            .iter()
                            .map(|(n, _)| services[*n].id.as_str())
                            .collect();
                        path.push(services[dep].id.as_str());
                        self.push(
                            Kind::Service,
                            node,
                            format!("depends_on[{next}]"),
                            format!("dependency cycle: {}", path.join(" -> ")),
                        );
                    }
                    _ => {}
                }
            }
        }
    }
}

fn looks_like_email(s: &str) -> bool {
    matches!(s.split_once('@'), Some((user, host)) if !user.is_empty() && host.contains('.') && !s.contains(char::is_whitespace))
}

/// The first few known ids, so an error hints at what was meant without printing thousands.
fn preview(ids: &[String]) -> String {
    const MAX: usize = 8;
    let mut s = ids.iter().take(MAX).cloned().collect::<Vec<_>>().join(", ");
    if ids.len() > MAX {
        s.push_str(&format!(" … ({} more)", ids.len() - MAX));
    }
    s
}

#[cfg(test)]
mod tests;
