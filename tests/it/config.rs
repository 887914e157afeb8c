//! Config as code: validation errors, plans, round trips.
//!
//! The error cases snapshot the rendered `ConfigError`s (file:line:column, message, the source
//! line and a caret), because what a person reads when a file is wrong *is* the feature: a
//! wrong line or a caret in the wrong column is a regression even when the message is right.
//! Plan and apply run on both backends (see `support::backends`).

use std::collections::BTreeSet;

use tocsin::audit;
use tocsin::catalog::{Catalog, Kind, store};
use tocsin::config::apply::{ApplyError, apply};
use tocsin::config::plan::{Op, diff};
use tocsin::config::{self, ConfigError, Source, export, load, parse};

use crate::support::{backends, seed_example, t0};

/// Records the error cases reference: two tiers, two teams, two domains, one person.
const BASE: &str = "\
tiers:
  - {level: 0, name: Tier 0}
  - {level: 1, name: Tier 1}
teams:
  - {id: payments, name: Payments Team}
  - {id: platform, name: Platform Team}
domains:
  - {id: payment, name: Payment}
  - {id: platform, name: Platform}
people:
  - {id: ann, name: Ann, email: ann@shop.example, time_zone: Europe/London, teams: [payments]}
";

fn source(path: &str, text: &str) -> Source {
    Source {
        path: path.into(),
        text: text.into(),
    }
}

/// Loads `base.yaml` plus `files` against an empty database; the errors, or a panic when the
/// files are (unexpectedly) valid.
fn errors_of(files: &[(&str, &str)]) -> Vec<ConfigError> {
    let mut sources = vec![source("base.yaml", BASE)];
    sources.extend(files.iter().map(|(p, t)| source(p, t)));
    match load(sources, &Catalog::default()) {
        Ok(_) => panic!("expected errors for {files:?}"),
        Err(e) => e,
    }
}

/// The errors as a person sees them on the terminal, one blank line apart.
fn rendered(files: &[(&str, &str)]) -> String {
    errors_of(files)
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A valid service in the base's terms, with `extra` YAML lines appended to its mapping.
fn service(id: &str, extra: &str) -> String {
    format!(
        "  - id: {id}\n    name: {id}\n    type: rest-api\n    stateful: false\n    \
         owner_team: payments\n    tier: 0\n    domain: payment\n{extra}"
    )
}

#[test]
fn the_base_and_the_example_are_valid() {
    // Every error case below starts from BASE, so BASE itself must be clean.
    load(vec![source("base.yaml", BASE)], &Catalog::default()).expect("base is valid");
    let loaded = load(tocsin::cli::example_sources(), &Catalog::default()).expect("example");
    assert_eq!(loaded.catalog.services.len(), 16);
    assert_eq!(loaded.managed.len(), Kind::ALL.len());
}

#[test]
fn unknown_key() {
    // `owner` is a plausible typo of `owner_team`; it must be named, at its own line.
    let text = format!("services:\n{}", service("api", "    owner: payments\n"));
    let errors = errors_of(&[("services.yaml", &text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].path.as_str(), errors[0].line),
        ("services.yaml", 9)
    );
    insta::assert_snapshot!(rendered(&[("services.yaml", &text)]));
}

#[test]
fn wrong_type_bool() {
    let text = "services:\n  - id: api\n    name: API\n    type: rest-api\n    stateful: maybe\n    \
                owner_team: payments\n    tier: 0\n    domain: payment\n";
    let errors = errors_of(&[("services.yaml", text)]);
    assert_eq!((errors[0].line, errors[0].column), (5, 15), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", text)]));
}

#[test]
fn wrong_type_integer() {
    let text = "services:\n  - id: api\n    name: API\n    type: rest-api\n    stateful: false\n    \
                owner_team: payments\n    tier: high\n    domain: payment\n";
    let errors = errors_of(&[("services.yaml", text)]);
    assert_eq!((errors[0].line, errors[0].column), (7, 11), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", text)]));
}

#[test]
fn unknown_service_type() {
    let text = "services:\n  - id: api\n    name: API\n    type: rest\n    stateful: false\n    \
                owner_team: payments\n    tier: 0\n    domain: payment\n";
    let errors = errors_of(&[("services.yaml", text)]);
    assert_eq!(errors[0].line, 4, "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", text)]));
}

#[test]
fn unknown_criticality() {
    let text = "business_functions:\n  - id: pay\n    name: Pay by card\n    \
                primary_domain: payment\n    owner_team: payments\n    criticality: huge\n";
    let errors = errors_of(&[("functions.yaml", text)]);
    assert_eq!(errors[0].line, 6, "{errors:?}");
    insta::assert_snapshot!(rendered(&[("functions.yaml", text)]));
}

#[test]
fn missing_required_field() {
    // No `domain`: the error names the field and points into the record that lacks it.
    let text = "services:\n  - id: api\n    name: API\n    type: rest-api\n    stateful: false\n    \
                owner_team: payments\n    tier: 0\n";
    let errors = errors_of(&[("services.yaml", text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("domain"), "{errors:?}");
    assert!((2..=7).contains(&errors[0].line), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", text)]));
}

#[test]
fn yaml_syntax_error() {
    let text = "services:\n  - id: api\n    depends_on: [a, b\n    name: API\n";
    let errors = errors_of(&[("services.yaml", text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].line >= 3, "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", text)]));
}

#[test]
fn dangling_service_references() {
    // All four references of one service are wrong: all four are reported, each at its value.
    let text = "services:\n  - id: api\n    name: API\n    type: rest-api\n    stateful: false\n    \
                owner_team: nobody\n    tier: 7\n    domain: nowhere\n    depends_on: [ghost]\n";
    let errors = errors_of(&[("services.yaml", text)]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [6, 8, 7, 9], "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", text)]));
}

#[test]
fn dangling_function_references() {
    let text = "business_functions:\n  - id: pay\n    name: Pay by card\n    \
                primary_domain: money\n    depends_on_domains: [payment, identity]\n    \
                owner_team: bankers\n    criticality: critical\n";
    let errors = errors_of(&[("functions.yaml", text)]);
    let at: Vec<(u64, u64)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, [(4, 21), (5, 35), (6, 17)], "{errors:?}");
    insta::assert_snapshot!(rendered(&[("functions.yaml", text)]));
}

#[test]
fn dangling_person_team() {
    // BASE's people and this file's are merged in order, so Bob is the second person.
    let text = "people:\n  - id: bob\n    name: Bob\n    email: bob@shop.example\n    \
                time_zone: Europe/Paris\n    teams: [platform, sre]\n";
    let errors = errors_of(&[("people.yaml", text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column), (6, 23), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("people.yaml", text)]));
}

#[test]
fn duplicate_id_in_one_file() {
    let text = format!("services:\n{}{}", service("api", ""), service("api", ""));
    let errors = errors_of(&[("services.yaml", &text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    // The second occurrence, not the first: the first one is where the id belongs.
    assert_eq!((errors[0].line, errors[0].column), (9, 9), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", &text)]));
}

#[test]
fn duplicate_id_across_files() {
    let a = format!("services:\n{}", service("api", ""));
    let b = format!("# more services\nservices:\n{}", service("api", ""));
    let errors = errors_of(&[("a.yaml", &a), ("b.yaml", &b)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].path.as_str(), errors[0].line, errors[0].column),
        ("b.yaml", 3, 9),
        "{errors:?}"
    );
    insta::assert_snapshot!(rendered(&[("a.yaml", &a), ("b.yaml", &b)]));
}

#[test]
fn self_dependency() {
    let text = format!(
        "services:\n{}",
        service("api", "    depends_on: [db, api]\n")
    );
    let text = format!("{text}{}", service("db", ""));
    let errors = errors_of(&[("services.yaml", &text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column), (9, 22), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", &text)]));
}

#[test]
fn dependency_cycle_of_three() {
    let text = format!(
        "services:\n{}{}{}",
        service("a", "    depends_on: [b]\n"),
        service("b", "    depends_on: [c]\n"),
        service("c", "    depends_on: [a]\n"),
    );
    let errors = errors_of(&[("services.yaml", &text)]);
    // One cycle, reported once, at the edge that closes it.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("a -> b -> c -> a"), "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", &text)]));
}

#[test]
fn people_mistakes() {
    // Bad time zone, bad email, and an email already used by BASE's Ann (in another case).
    let text = "people:\n  - {id: bob, name: Bob, email: bob@shop.example, time_zone: Mars/Olympus}\n  \
                - {id: cat, name: Cat, email: cat-at-shop, time_zone: UTC}\n  \
                - {id: dan, name: Dan, email: ANN@shop.example, time_zone: UTC}\n";
    let errors = errors_of(&[("people.yaml", text)]);
    let at: Vec<(u64, u64)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, [(2, 62), (3, 33), (4, 33)], "{errors:?}");
    insta::assert_snapshot!(rendered(&[("people.yaml", text)]));
}

#[test]
fn link_that_is_not_http() {
    let text = format!(
        "services:\n{}",
        service(
            "api",
            "    links:\n      - {title: Dashboard, url: \"https://grafana.example/d/api\"}\n      \
             - {title: Runbook, url: \"javascript:alert(1)\"}\n"
        )
    );
    let errors = errors_of(&[("services.yaml", &text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 11, "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", &text)]));
}

#[test]
fn bad_id_characters() {
    // A space, and a leading '-', which YAML happily reads as part of a plain string.
    let text = "teams:\n  - {id: sre, name: SRE}\n  - {id: \"sre team\", name: SRE 2}\n  \
                - {id: -ops, name: Ops}\n";
    let errors = errors_of(&[("teams.yaml", text)]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4], "{errors:?}");
    insta::assert_snapshot!(rendered(&[("teams.yaml", text)]));
}

#[test]
fn duplicate_list_entries() {
    // Each list becomes rows keyed by (record, entry): a repeat cannot be stored, so it must be
    // a located config error rather than a database conflict at apply time.
    let text = format!(
        "services:\n{}{}",
        service("api", "    depends_on: [db, db]\n"),
        service("db", "")
    );
    let people = "people:\n  - {id: zed, name: Zed, email: zed@shop.example, time_zone: UTC, \
                  teams: [payments, payments]}\n";
    let functions = "business_functions:\n  - {id: pay, name: Pay, primary_domain: payment, \
                     depends_on_domains: [platform, platform], owner_team: payments, \
                     criticality: low}\n";
    let files = [
        ("services.yaml", text.as_str()),
        ("people.yaml", people),
        ("functions.yaml", functions),
    ];
    let errors = errors_of(&files);
    assert_eq!(errors.len(), 3, "{errors:?}");
    insta::assert_snapshot!(rendered(&files));
}

#[test]
fn several_errors_are_all_reported() {
    // Parse errors: one per file, every file. Validation errors: every one in the catalog.
    let parse_errors = errors_of(&[
        ("one.yaml", "services: [\n"),
        ("two.yaml", "teams:\n  - {id: x, name: X, colour: red}\n"),
    ]);
    let paths: Vec<&str> = parse_errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["one.yaml", "two.yaml"]);

    let text = format!(
        "services:\n{}{}",
        service("bad id", "    depends_on: [ghost]\n"),
        service(
            "api",
            "    links:\n      - {title: x, url: ftp://files.example}\n"
        ),
    );
    let errors = errors_of(&[("services.yaml", &text)]);
    assert_eq!(errors.len(), 3, "{errors:?}");
    insta::assert_snapshot!(rendered(&[("services.yaml", &text)]));
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    let sources = vec![
        source("base.yaml", BASE),
        source("empty.yaml", ""),
        source("blank.yaml", "\n   \n"),
        source("comments.yaml", "# nothing here yet\n  # still nothing\n"),
    ];
    let loaded = load(sources, &Catalog::default()).expect("valid");
    assert_eq!(loaded.catalog.teams.len(), 2);
    // Empty files manage nothing: they must not turn into "delete everything".
    let only_empty = parse(vec![source("empty.yaml", "")]).expect("valid");
    assert!(only_empty.managed.is_empty());
}

#[test]
fn an_empty_list_manages_its_kind() {
    // `services: []` says "there are no services", which is how a file deletes them all.
    let loaded = parse(vec![source("s.yaml", "services: []\n")]).expect("valid");
    assert_eq!(loaded.managed, BTreeSet::from([Kind::Service]));
}

#[test]
fn error_display_without_location() {
    let e = ConfigError {
        path: "x.yaml".into(),
        line: 0,
        column: 0,
        message: "cannot read file".into(),
        snippet: String::new(),
    };
    assert_eq!(e.to_string(), "x.yaml: error: cannot read file");
}

// ---- plan and apply, on both backends ----

fn example() -> Catalog {
    load(tocsin::cli::example_sources(), &Catalog::default())
        .expect("example is valid")
        .catalog
}

/// The example's files: people (with teams), on-call, the catalog proper, alerting,
/// severities, then SLOs.
fn example_files() -> [Source; 6] {
    let files: [Source; 6] = tocsin::cli::example_sources()
        .try_into()
        .expect("six example files");
    assert!(files[0].path.ends_with("people.yaml"));
    assert!(files[1].path.ends_with("oncall.yaml"));
    files
}

fn at() -> i64 {
    t0().as_millisecond()
}

#[tokio::test]
async fn apply_the_example_then_again() {
    for t in backends().await {
        let b = t.backend;
        let plan = apply(&t.db, at(), "test", &example(), false).await.unwrap();
        let creates = |k: Kind| {
            plan.changes
                .iter()
                .filter(|c| c.kind == k && c.op == Op::Create)
                .count()
        };
        assert_eq!(
            plan.changes.len(),
            3 + 4 + 8 + 7 + 14 + 2 + 2 + 5 + 16 + 3 + 4 + 6,
            "{b}"
        );
        assert_eq!(
            Kind::ALL.map(creates),
            [3, 4, 8, 7, 14, 2, 2, 5, 16, 3, 4, 6],
            "{b}: severities, tiers, teams, domains, people, schedules, policies, functions, services, \
             playbooks, alert rules, SLOs"
        );
        insta::assert_snapshot!("example_plan", plan.to_string());

        let again = apply(&t.db, at(), "test", &example(), false).await.unwrap();
        assert!(again.is_empty(), "{b}: {again}");
        assert_eq!(
            again.to_string(),
            "Plan: 0 to create, 0 to update, 0 to delete.",
            "{b}"
        );
    }
}

#[tokio::test]
async fn export_round_trips() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let stored = store::load(&t.db).await.unwrap();
        let yaml = export(&stored).unwrap();

        // export -> parse gives back exactly what was stored.
        let parsed = parse(vec![source("export.yaml", &yaml)]).unwrap();
        assert_eq!(parsed.catalog, stored, "{b}");
        assert_eq!(parsed.managed.len(), Kind::ALL.len(), "{b}");

        // export -> apply changes nothing.
        let loaded = load(vec![source("export.yaml", &yaml)], &stored).unwrap();
        let plan = apply(&t.db, at(), "test", &loaded.catalog, false)
            .await
            .unwrap();
        assert!(plan.is_empty(), "{b}: {plan}");
    }
}

#[tokio::test]
async fn export_round_trips_awkward_text() {
    // Text that YAML would read as something else unless export quotes it.
    let awkward = [
        "yes",
        "no",
        "null",
        "~",
        "123",
        "0x1F",
        "1e3",
        "true",
        "- item",
        "key: value",
        "# not a comment",
        " leading space",
        "trailing space ",
        "two\nlines",
        "tab\there",
        "quote \" and ' both",
        "[not, a, list]",
        "{not: a map}",
        "*alias",
        "&anchor",
        "!tag",
        "%directive",
        "@at",
        "`tick",
        "ünïcödé ✓",
        "",
    ];
    for t in backends().await {
        let b = t.backend;
        let mut c = example();
        for (i, text) in awkward.iter().enumerate() {
            let (services, domains) = (c.services.len(), c.domains.len());
            c.services[i % services].description = (*text).to_string();
            c.domains[i % domains].name = format!("Domain {text}");
        }
        c.teams[0].description = awkward.join(" | ");
        apply(&t.db, at(), "test", &c, false).await.unwrap();
        let stored = store::load(&t.db).await.unwrap();
        let yaml = export(&stored).unwrap();
        let parsed = parse(vec![source("export.yaml", &yaml)])
            .unwrap_or_else(|e| panic!("{b}: {e:?}\n{yaml}"));
        assert_eq!(parsed.catalog, stored, "{b}");
    }
}

#[tokio::test]
async fn one_field_change_is_an_update_of_that_field() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let mut c = example();
        let s = c
            .services
            .iter_mut()
            .find(|s| s.id == "shipping-api")
            .unwrap();
        s.tier = 1;
        let plan = apply(&t.db, at(), "test", &c, true).await.unwrap();
        assert_eq!(
            plan.to_string(),
            "  ~ update service shipping-api (tier)\nPlan: 0 to create, 1 to update, 0 to delete.",
            "{b}"
        );
        apply(&t.db, at(), "test", &c, false).await.unwrap();
        let stored = store::load(&t.db).await.unwrap();
        assert_eq!(stored.service("shipping-api").unwrap().tier, 1, "{b}");
    }
}

#[tokio::test]
async fn removing_a_record_from_the_files_deletes_it() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let current = store::load(&t.db).await.unwrap();
        // shipping-api is a leaf (nothing depends on it), so it can go on its own.
        let [people, oncall, catalog, _, _, _] = example_files();
        let catalog_yaml = catalog
            .text
            .lines()
            .filter(|l| !l.contains("id: shipping-api"))
            .collect::<Vec<_>>()
            .join("\n");
        let sources = vec![people, oncall, source(&catalog.path, &catalog_yaml)];
        let loaded = load(sources, &current).unwrap();
        let plan = apply(&t.db, at(), "test", &loaded.catalog, false)
            .await
            .unwrap();
        assert_eq!(
            plan.to_string(),
            "  - delete service shipping-api\nPlan: 0 to create, 0 to update, 1 to delete.",
            "{b}"
        );
        let stored = store::load(&t.db).await.unwrap();
        assert!(stored.service("shipping-api").is_none(), "{b}");
        assert_eq!(stored.services.len(), 15, "{b}");
    }
}

#[tokio::test]
async fn kinds_absent_from_the_files_are_left_alone() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let current = store::load(&t.db).await.unwrap();
        // Only the people file: teams and people are managed, the catalog kinds are not.
        let [people, _, _, _, _, _] = example_files();
        let loaded = load(vec![people], &current).unwrap();
        assert_eq!(
            loaded.managed,
            BTreeSet::from([Kind::Team, Kind::Person]),
            "{b}"
        );
        let plan = apply(&t.db, at(), "test", &loaded.catalog, false)
            .await
            .unwrap();
        assert!(plan.is_empty(), "{b}: {plan}");
        assert_eq!(store::load(&t.db).await.unwrap(), current, "{b}");

        // A file that manages only tiers still sees services' references to the stored teams.
        let tiers = "tiers:\n  - {level: 0, name: Tier 0}\n  - {level: 1, name: Tier 1}\n  \
                     - {level: 2, name: Tier 2}\n  - {level: 3, name: Tier 3, description: Renamed}\n";
        let loaded = load(vec![source("tiers.yaml", tiers)], &current).unwrap();
        let plan = apply(&t.db, at(), "test", &loaded.catalog, true)
            .await
            .unwrap();
        let ops: Vec<String> = plan.changes.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ops, ["0", "1", "2", "3"], "{b}: {plan}");
        assert!(
            plan.changes.iter().all(|c| c.kind == Kind::Tier),
            "{b}: {plan}"
        );
    }
}

#[tokio::test]
async fn a_file_cannot_remove_what_unmanaged_records_still_use() {
    // teams.yaml manages teams only; dropping `payments` would strand the stored services and
    // business function it owns. The files alone look fine; the whole catalog does not.
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let current = store::load(&t.db).await.unwrap();
        let teams: String = current
            .teams
            .iter()
            .filter(|team| team.id != "payments")
            .map(|team| format!("  - {{id: {}, name: {}}}\n", team.id, team.name))
            .collect();
        let loaded = load(
            vec![source("teams.yaml", &format!("teams:\n{teams}"))],
            &current,
        );
        // Reported when the files are read, naming the stored records that would break.
        let Err(errors) = loaded else {
            panic!("{b}: dropping a team stored services use must not load");
        };
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|e| e.starts_with("(database): error: stored service")
                    && e.contains("unknown team \"payments\"")),
            "{b}: {text:?}"
        );
        // And apply refuses the same catalog if a caller skips `load`'s checks.
        let files = parse(vec![source("teams.yaml", &format!("teams:\n{teams}"))]).unwrap();
        let catalog = tocsin::config::plan::overlay(&current, &files.catalog, &files.managed);
        let err = apply(&t.db, at(), "test", &catalog, false)
            .await
            .unwrap_err();
        assert!(matches!(err, ApplyError::Invalid(_)), "{b}: {err:?}");
        assert_eq!(store::load(&t.db).await.unwrap(), current, "{b}");
    }
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    for t in backends().await {
        let b = t.backend;
        let plan = apply(&t.db, at(), "test", &example(), true).await.unwrap();
        assert_eq!(plan.changes.len(), 74, "{b}");
        assert_eq!(store::load(&t.db).await.unwrap(), Catalog::default(), "{b}");
        assert!(
            audit::store::list(&t.db, 10, None)
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
    }
}

#[tokio::test]
async fn every_applied_change_writes_an_audit_row() {
    for t in backends().await {
        let b = t.backend;
        let first = apply(&t.db, at(), "alice", &example(), false)
            .await
            .unwrap();
        let mut c = example();
        c.services.retain(|s| s.id != "shipping-api");
        c.services[0].name = "Renamed".into();
        c.services[0].stateful = true;
        let second = apply(&t.db, at() + 1, "bob", &c, false).await.unwrap();
        assert_eq!(second.changes.len(), 2, "{b}: {second}");

        let rows = audit::store::list(&t.db, 1000, None).await.unwrap();
        assert_eq!(rows.len(), first.changes.len() + 2, "{b}");
        // Newest first: the second apply's two changes, in plan order reversed.
        let newest: Vec<(&str, &str, &str, &str)> = rows[..2]
            .iter()
            .map(|e| {
                (
                    e.actor.as_str(),
                    e.action.as_str(),
                    e.target.as_str(),
                    e.detail.as_str(),
                )
            })
            .collect();
        let renamed = format!("service {}", c.services[0].id);
        assert_eq!(
            newest,
            [
                ("bob", "catalog.delete", "service shipping-api", ""),
                ("bob", "catalog.update", renamed.as_str(), "name, stateful"),
            ],
            "{b}"
        );
        assert!(
            rows[2..]
                .iter()
                .all(|e| e.actor == "alice" && e.action == "catalog.create" && e.at == at())
        );
        let targets: BTreeSet<&str> = rows[2..].iter().map(|e| e.target.as_str()).collect();
        assert!(targets.contains("business function checkout"), "{b}");
        assert!(targets.contains("tier 0"), "{b}");
    }
}

#[tokio::test]
async fn an_invalid_catalog_is_rejected_and_writes_nothing() {
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let before = store::load(&t.db).await.unwrap();
        let audit_before = audit::store::list(&t.db, 1000, None).await.unwrap().len();
        let mut c = example();
        c.services[0].owner_team = "nobody".into();
        c.services[1].name = "Valid change that must not be written".into();
        let err = apply(&t.db, at(), "test", &c, false).await.unwrap_err();
        let ApplyError::Invalid(problems) = &err else {
            panic!("{b}: expected Invalid, got {err:?}");
        };
        assert_eq!(problems.len(), 1, "{b}: {problems:?}");
        assert_eq!(problems[0].field, "owner_team", "{b}");
        assert!(
            err.to_string().contains("unknown team \"nobody\""),
            "{b}: {err}"
        );
        assert_eq!(store::load(&t.db).await.unwrap(), before, "{b}");
        let audit_after = audit::store::list(&t.db, 1000, None).await.unwrap().len();
        assert_eq!(audit_after, audit_before, "{b}");
    }
}

#[test]
fn diff_of_equal_catalogs_is_empty() {
    // The pure half of "apply twice": the same records in another order are no change.
    let c = example();
    let mut shuffled = c.clone();
    shuffled.services.reverse();
    shuffled.people.reverse();
    assert!(diff(&c, &shuffled).is_empty());
    // …but the order inside a record's list is meaningful (it is stored and shown).
    let s = shuffled
        .services
        .iter_mut()
        .find(|s| s.id == "checkout-api")
        .unwrap();
    s.depends_on.reverse();
    let plan = diff(&c, &shuffled);
    assert_eq!(plan.changes.len(), 1, "{plan}");
    assert_eq!(
        plan.changes[0].op,
        Op::Update {
            fields: vec!["depends_on".into()]
        }
    );
}

#[test]
fn config_module_is_reachable() {
    // `config::Source::read` reports an unreadable file at line 0 of that file.
    let e = config::Source::read("/nonexistent/tocsin.yaml").unwrap_err();
    assert_eq!(e.path, "/nonexistent/tocsin.yaml");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/tocsin.yaml: error: cannot read file")
    );
}

/// Playbooks in the base's terms (services.yaml gives them a service to route to).
const ALERTING_SERVICE: &str = "services:\n  - id: api\n    name: API\n    type: rest-api\n    \
    stateful: false\n    owner_team: payments\n    tier: 0\n    domain: payment\n";

#[test]
fn playbook_mistakes() {
    // Each mistake reported at its own value: both text and action, an unknown method, a URL
    // that is not http(s), a misspelt placeholder, a JSON body that is not JSON, neither url
    // nor steps, a runbook URL with a placeholder.
    let text = "\
playbooks:
  - id: checkout
    title: Checkout errors
    steps:
      - text: Look at the dashboard.
        action: {name: a, method: POST, url: 'http://ops/a'}
      - action:
          name: restart
          method: FETCH
          url: ftp://ops/restart
          headers: {Content-Type: application/json, Bad Name: x}
          body: '{\"text\": \"{{alert.sumary}}\"}'
      - action:
          name: notify
          method: POST
          url: 'http://ops/{{labels.pod}}'
          headers: {Content-Type: application/json}
          body: '{\"text\": {{alert.summary}}}'
  - id: empty
    title: Nothing yet
  - id: link
    title: Link
    url: 'https://wiki/{{alert.id}}'
";
    let errors = errors_of(&[("services.yaml", ALERTING_SERVICE), ("alerting.yaml", text)]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [5, 9, 10, 11, 12, 18, 19, 23], "{errors:?}");
    insta::assert_snapshot!(rendered(&[
        ("services.yaml", ALERTING_SERVICE),
        ("alerting.yaml", text)
    ]));
}

#[test]
fn alert_rule_mistakes() {
    // Dangling service and playbook, a bad and an out-of-range duration, a rule that sets
    // nothing, a duplicate id.
    let text = "\
playbooks:
  - {id: pb, title: PB, url: 'https://wiki.example/pb'}
alert_rules:
  - id: r1
    match: {labels: {alertname: 'Checkout*'}, service: apii}
    set: {service: checkout, playbook: pbb, auto_resolve_after: soon}
  - id: r2
    match: {severity: warning}
    set: {auto_resolve_after: 10s}
  - id: r1
    set: {}
";
    let errors = errors_of(&[("services.yaml", ALERTING_SERVICE), ("alerting.yaml", text)]);
    let at: Vec<(u64, u64)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        at,
        [
            (10, 9),
            (5, 56),
            (6, 20),
            (6, 40),
            (6, 65),
            (9, 31),
            (11, 10)
        ],
        "{errors:?}"
    );
    insta::assert_snapshot!(rendered(&[
        ("services.yaml", ALERTING_SERVICE),
        ("alerting.yaml", text)
    ]));
}

#[test]
fn alert_rule_unknown_keys_and_values() {
    // `set.playbok` is a typo serde refuses at parse time, with its line.
    let text = "alert_rules:\n  - id: r\n    set: {playbok: x}\n";
    let errors = errors_of(&[("alerting.yaml", text)]);
    assert_eq!((errors.len(), errors[0].line), (1, 3), "{errors:?}");
    let severity = "alert_rules:\n  - id: r\n    set:\n      severity: urgent\n";
    let errors = errors_of(&[("alerting.yaml", severity)]);
    assert_eq!(errors[0].line, 4, "{errors:?}");
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        rendered(&[("alerting.yaml", text)]),
        rendered(&[("alerting.yaml", severity)])
    ));
}

#[test]
fn severity_level_mistakes() {
    // A target of zero, an alert severity claimed by two levels, an unknown declare policy.
    let text = "\
severities:
  - id: sev0
    name: Sev 0
    response_target_minutes: 0
    alert_severities: [critical]
  - id: sev1
    name: Sev 1
    alert_severities: [error, critical]
    declare: {after_minutes: 15}
  - id: sev2
    name: Sev 2
    declare: whenever
";
    let errors = errors_of(&[("severities.yaml", text)]);
    let seen: Vec<(u64, u64, String)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.message.clone()))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "a parse error stops before the checks: {seen:?}"
    );
    assert_eq!(
        seen,
        [(
            12,
            14,
            "unknown variant `whenever`, expected one of manually, immediately, after_minutes"
                .to_string()
        )]
    );

    let text = text.replace("    declare: whenever\n", "");
    let errors = errors_of(&[("severities.yaml", &text)]);
    let seen: Vec<(u64, u64, String)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.message.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                4,
                30,
                "expected 1 to 1440 minutes (in severities[0].response_target_minutes)".to_string()
            ),
            (
                8,
                31,
                "alert severity critical is already covered by severity level sev0 \
                 (in severities[1].alert_severities[1])"
                    .to_string()
            ),
        ],
        "{errors:?}"
    );
}
