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
