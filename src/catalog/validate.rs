//! Pure validation of a whole [`Catalog`]: formats, duplicate ids, dangling references and
//! service dependency cycles. Config-as-code maps each [`Problem`] to a file, line and column;
//! the API returns its message with a 422 or 409.

mod oncall;

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
    c.schedules();
    c.policies();
    c.policy_pointers();
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
            (Kind::Tier, scan(&c.tiers)),
            (Kind::Team, scan(&c.teams)),
            (Kind::Domain, scan(&c.domains)),
            (Kind::Person, scan(&c.people)),
            (Kind::Schedule, scan(&c.schedules)),
            (Kind::EscalationPolicy, scan(&c.escalation_policies)),
            (Kind::BusinessFunction, scan(&c.business_functions)),
            (Kind::Service, scan(&c.services)),
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
mod tests {
    //! Validation rules one at a time, on catalogs built in code (the located, rendered form is
    //! tested through YAML in `tests/it/config.rs`).

    use super::*;
    use crate::catalog::{BusinessFunction, Criticality, Domain, Service, ServiceType, Tier};
    use crate::people::{Person, Team};

    fn service(id: &str, depends_on: &[&str]) -> Service {
        Service {
            escalation_policy: None,
            id: id.into(),
            name: id.into(),
            description: String::new(),
            kind: ServiceType::RestApi,
            stateful: false,
            owner_team: "t".into(),
            tier: 0,
            domain: "d".into(),
            depends_on: depends_on.iter().map(|d| (*d).into()).collect(),
            links: Vec::new(),
        }
    }

    /// One tier, team and domain, and `services`.
    fn with_services(services: Vec<Service>) -> Catalog {
        Catalog {
            tiers: vec![Tier {
                level: 0,
                name: "Tier 0".into(),
                description: String::new(),
            }],
            teams: vec![Team {
                escalation_policy: None,
                id: "t".into(),
                name: "T".into(),
                description: String::new(),
            }],
            domains: vec![Domain {
                id: "d".into(),
                name: "D".into(),
                description: String::new(),
            }],
            services,
            ..Catalog::default()
        }
    }

    fn cycles(problems: &[Problem]) -> Vec<&str> {
        problems
            .iter()
            .filter(|p| p.message.starts_with("dependency cycle"))
            .map(|p| p.message.as_str())
            .collect()
    }

    #[test]
    fn an_empty_catalog_is_clean() {
        assert_eq!(validate(&Catalog::default()), []);
    }

    #[test]
    fn check_id_accepts_plain_ids() {
        for id in [
            "a",
            "A",
            "0",
            "cart-service",
            "K8S-as-a-Service",
            "v1.2_x",
            &"x".repeat(100),
        ] {
            assert_eq!(check_id(id), Ok(()), "{id:?}");
        }
    }

    #[test]
    fn check_id_rejects_the_rest() {
        let long = "x".repeat(101);
        for id in [
            "", &long, "-a", "_a", ".a", "a b", "a/b", "a:b", "é", "a\n", "a?", "../etc",
        ] {
            assert!(check_id(id).is_err(), "{id:?}");
        }
        assert!(check_id("").unwrap_err().contains("1 to 100"));
        assert!(check_id("a b").unwrap_err().contains("\"a b\""));
    }

    #[test]
    fn a_cycle_is_reported_once() {
        // Entering the cycle from every member and from outside must still give one report.
        let c = with_services(vec![
            service("x", &["b"]),
            service("a", &["b"]),
            service("b", &["c"]),
            service("c", &["a"]),
            service("y", &["c", "a"]),
        ]);
        let problems = validate(&c);
        assert_eq!(cycles(&problems), ["dependency cycle: b -> c -> a -> b"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // Reported on the edge that closes it: a's depends_on[0].
        assert_eq!(
            (problems[0].index, problems[0].field.as_str()),
            (1, "depends_on[0]")
        );
    }

    #[test]
    fn two_cycles_are_two_reports() {
        let c = with_services(vec![
            service("a", &["b"]),
            service("b", &["a"]),
            service("c", &["d"]),
            service("d", &["e"]),
            service("e", &["c"]),
        ]);
        assert_eq!(
            cycles(&validate(&c)),
            [
                "dependency cycle: a -> b -> a",
                "dependency cycle: c -> d -> e -> c"
            ]
        );
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let c = with_services(vec![
            service("top", &["l", "r"]),
            service("l", &["bottom"]),
            service("r", &["bottom"]),
            service("bottom", &[]),
        ]);
        assert_eq!(validate(&c), []);
    }

    #[test]
    fn a_self_dependency_is_not_also_a_cycle() {
        let problems = validate(&with_services(vec![service("a", &["a"])]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].message, "service \"a\" depends on itself");
    }

    #[test]
    fn repeated_list_entries_are_problems() {
        // They would violate the child tables' primary keys at apply time.
        let mut c = with_services(vec![service("a", &["b", "b"]), service("b", &[])]);
        c.people.push(Person {
            title: String::new(),
            id: "p".into(),
            name: "P".into(),
            email: "p@example.com".into(),
            time_zone: "UTC".into(),
            teams: vec!["t".into(), "t".into()],
        });
        c.business_functions.push(BusinessFunction {
            id: "f".into(),
            name: "F".into(),
            description: String::new(),
            primary_domain: "d".into(),
            depends_on_domains: vec!["d".into(), "d".into()],
            owner_team: "t".into(),
            criticality: Criticality::Low,
        });
        let problems = validate(&c);
        let fields: Vec<(Kind, &str)> = problems
            .iter()
            .map(|p| (p.kind, p.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (Kind::Person, "teams[1]"),
                (Kind::BusinessFunction, "depends_on_domains[1]"),
                (Kind::Service, "depends_on[1]"),
            ]
        );
    }

    #[test]
    fn emails_compare_case_insensitively() {
        let person = |id: &str, email: &str| Person {
            title: String::new(),
            id: id.into(),
            name: id.into(),
            email: email.into(),
            time_zone: "UTC".into(),
            teams: vec![],
        };
        let c = Catalog {
            people: vec![
                person("a", "Ann@Example.com"),
                person("b", "ann@example.com"),
            ],
            ..Catalog::default()
        };
        let problems = validate(&c);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].index, problems[0].field.as_str()),
            (1, "email")
        );
    }

    #[test]
    fn a_large_generated_catalog_is_clean() {
        // 500 teams, 50 domains, 5,000 services each depending on up to three earlier ones:
        // acyclic, every reference resolves. Checks the checker at scale finds nothing false.
        let teams: Vec<Team> = (0..500)
            .map(|i| Team {
                escalation_policy: None,
                id: format!("team-{i}"),
                name: format!("Team {i}"),
                description: String::new(),
            })
            .collect();
        let domains: Vec<Domain> = (0..50)
            .map(|i| Domain {
                id: format!("domain-{i}"),
                name: format!("Domain {i}"),
                description: String::new(),
            })
            .collect();
        let services: Vec<Service> = (0..5_000usize)
            .map(|i| {
                let mut s = service(&format!("svc-{i}"), &[]);
                s.owner_team = format!("team-{}", i % 500);
                s.domain = format!("domain-{}", i % 50);
                s.tier = u8::try_from(i % 4).unwrap_or(0);
                s.depends_on = [i / 2, i.saturating_sub(1), i / 3]
                    .into_iter()
                    .filter(|&d| d < i)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|d| format!("svc-{d}"))
                    .collect();
                s
            })
            .collect();
        let c = Catalog {
            tiers: (0..4)
                .map(|level| Tier {
                    level,
                    name: format!("Tier {level}"),
                    description: String::new(),
                })
                .collect(),
            teams,
            domains,
            services,
            ..Catalog::default()
        };
        assert!(c.services.iter().map(|s| s.depends_on.len()).sum::<usize>() > 9_000);
        assert_eq!(validate(&c), []);
    }
}
