//! Store functions on both backends: the catalog's load/upsert/delete per kind (child rows
//! keep their order), the impact queries on a hand-built graph, the audit log, and the mapping
//! of constraint violations to `StoreError::Conflict`.
//!
//! Every test loops over `support::backends()`, so the same SQL is exercised on SQLite and,
//! when `TOCSIN_TEST_POSTGRES_URL` is set, on PostgreSQL; assertions name the backend.

use tocsin::audit;
use tocsin::catalog::impact::ServiceRef;
use tocsin::catalog::{
    BusinessFunction, Catalog, Criticality, Domain, Kind, Link, Service, ServiceType, Tier, store,
};
use tocsin::db::{Backend, Db, StoreError};
use tocsin::people::{Person, Team};

use crate::support::{backends, seed_example};

#[tokio::test]
async fn example_round_trips_through_the_store() {
    for t in backends().await {
        seed_example(&t.db).await;
        let c = store::load(&t.db).await.unwrap();
        assert_eq!(c.services.len(), 16, "{}", t.backend);
        let impact = store::impact_of_service(&t.db, "inventory-db")
            .await
            .unwrap();
        let ids: Vec<_> = impact
            .business_functions
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["checkout", "product-search", "shipping"],
            "{}",
            t.backend
        );
    }
}

// ---- builders: the smallest valid records, so each test states only what it is about ----

fn tier(level: u8) -> Tier {
    Tier {
        level,
        name: format!("Tier {level}"),
        description: String::new(),
    }
}

fn team(id: &str) -> Team {
    Team {
        escalation_policy: None,
        id: id.into(),
        name: format!("Team {id}"),
        description: String::new(),
    }
}

fn domain(id: &str) -> Domain {
    Domain {
        id: id.into(),
        name: format!("Domain {id}"),
        description: String::new(),
    }
}

fn person(id: &str, teams: &[&str]) -> Person {
    Person {
        title: String::new(),
        id: id.into(),
        name: format!("Person {id}"),
        email: format!("{id}@example.com"),
        time_zone: "Europe/London".into(),
        teams: teams.iter().map(|t| (*t).into()).collect(),
    }
}

fn function(id: &str, primary: &str, depends: &[&str]) -> BusinessFunction {
    BusinessFunction {
        id: id.into(),
        name: format!("Function {id}"),
        description: String::new(),
        primary_domain: primary.into(),
        depends_on_domains: depends.iter().map(|d| (*d).into()).collect(),
        owner_team: "t".into(),
        criticality: Criticality::High,
    }
}

fn service(id: &str, domain: &str, depends_on: &[&str]) -> Service {
    Service {
        escalation_policy: None,
        id: id.into(),
        name: format!("Service {id}"),
        description: String::new(),
        kind: ServiceType::RestApi,
        stateful: false,
        owner_team: "t".into(),
        tier: 1,
        domain: domain.into(),
        depends_on: depends_on.iter().map(|d| (*d).into()).collect(),
        links: Vec::new(),
    }
}

/// Writes every record of `c` with `store::upsert` in one transaction.
async fn write_all(db: &Db, c: &Catalog) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for kind in Kind::ALL {
        for id in c.ids(kind) {
            store::upsert(&mut tx, c, kind, &id, false).await?;
        }
    }
    tx.commit().await
}

async fn delete_one(db: &Db, kind: Kind, id: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    store::delete(&mut tx, kind, id).await?;
    tx.commit().await
}

/// A small catalog whose lists are deliberately *not* in sorted order, so a load that sorts
/// child rows by value instead of by position would be caught.
fn small() -> Catalog {
    let mut api = service("api", "d1", &["zeta", "db", "cache"]);
    api.kind = ServiceType::GrpcApi;
    api.stateful = true;
    api.description = "The API".into();
    api.links = vec![
        Link {
            title: "Runbook".into(),
            url: "https://wiki.example/api".into(),
        },
        Link {
            title: "Alpha dashboard".into(),
            url: "https://grafana.example/api".into(),
        },
    ];
    let mut db = service("db", "d2", &[]);
    db.kind = ServiceType::Database;
    db.tier = 0;
    let mut f = function("f", "d2", &["d3", "d1"]);
    f.criticality = Criticality::Critical;
    f.description = "Does things".into();
    Catalog {
        schedules: vec![],
        escalation_policies: vec![],
        playbooks: vec![],
        severities: vec![],
        alert_rules: vec![],
        slos: vec![],
        tiers: vec![tier(0), tier(1)],
        teams: vec![team("t"), team("a-team")],
        domains: vec![domain("d1"), domain("d2"), domain("d3")],
        people: vec![person("p", &["t", "a-team"])],
        business_functions: vec![f],
        services: vec![
            api,
            db,
            service("zeta", "d1", &[]),
            service("cache", "d1", &[]),
        ],
    }
}

/// `c` with every list sorted the way `store::load` returns it (by id; tiers by level).
fn sorted(mut c: Catalog) -> Catalog {
    c.tiers.sort_by_key(|t| t.level);
    c.teams.sort_by(|a, b| a.id.cmp(&b.id));
    c.domains.sort_by(|a, b| a.id.cmp(&b.id));
    c.people.sort_by(|a, b| a.id.cmp(&b.id));
    c.business_functions.sort_by(|a, b| a.id.cmp(&b.id));
    c.services.sort_by(|a, b| a.id.cmp(&b.id));
    c
}

#[tokio::test]
async fn load_of_an_empty_database_is_an_empty_catalog() {
    for t in backends().await {
        assert_eq!(
            store::load(&t.db).await.unwrap(),
            Catalog::default(),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn upsert_then_load_keeps_every_field_and_child_order() {
    for t in backends().await {
        let b = t.backend;
        let c = small();
        write_all(&t.db, &c).await.unwrap();
        let stored = store::load(&t.db).await.unwrap();
        assert_eq!(stored, sorted(c), "{b}");
        let api = stored.service("api").unwrap();
        assert_eq!(api.depends_on, ["zeta", "db", "cache"], "{b}");
        assert_eq!(api.links[0].title, "Runbook", "{b}");
        assert_eq!(stored.people[0].teams, ["t", "a-team"], "{b}");
        assert_eq!(
            stored.business_functions[0].depends_on_domains,
            ["d3", "d1"],
            "{b}"
        );
    }
}

#[tokio::test]
async fn upsert_replaces_each_kind() {
    for t in backends().await {
        let b = t.backend;
        write_all(&t.db, &small()).await.unwrap();

        // Change every field of one record per kind, and reorder/shrink/grow the child lists.
        let mut c = small();
        c.tiers[0].name = "Zero".into();
        c.tiers[0].description = "Stops".into();
        c.teams[0].name = "Renamed".into();
        c.teams[0].description = "Now described".into();
        c.domains[0].name = "Renamed".into();
        c.domains[0].description = "Now described".into();
        let p = &mut c.people[0];
        p.name = "Renamed".into();
        p.email = "renamed@example.com".into();
        p.time_zone = "America/Toronto".into();
        p.teams = vec!["a-team".into()];
        let f = &mut c.business_functions[0];
        f.name = "Renamed".into();
        f.description = String::new();
        f.primary_domain = "d1".into();
        f.depends_on_domains = vec!["d2".into(), "d3".into()];
        f.owner_team = "a-team".into();
        f.criticality = Criticality::Low;
        let s = &mut c.services[0];
        s.name = "Renamed".into();
        s.description = String::new();
        s.kind = ServiceType::Worker;
        s.stateful = false;
        s.owner_team = "a-team".into();
        s.tier = 0;
        s.domain = "d2".into();
        s.depends_on = vec!["cache".into(), "zeta".into()];
        s.links.reverse();
        s.links.pop();
        write_all(&t.db, &c).await.unwrap();
        assert_eq!(store::load(&t.db).await.unwrap(), sorted(c.clone()), "{b}");

        // Emptying the child lists removes every child row.
        c.people[0].teams.clear();
        c.business_functions[0].depends_on_domains.clear();
        c.services[0].depends_on.clear();
        c.services[0].links.clear();
        write_all(&t.db, &c).await.unwrap();
        assert_eq!(store::load(&t.db).await.unwrap(), sorted(c), "{b}");
    }
}

#[tokio::test]
async fn delete_each_kind_takes_its_child_rows() {
    for t in backends().await {
        let b = t.backend;
        let mut c = small();
        write_all(&t.db, &c).await.unwrap();

        // Delete in reverse dependency order, checking the rest is untouched each time.
        let steps = [
            (Kind::Service, "api"),
            (Kind::BusinessFunction, "f"),
            (Kind::Person, "p"),
        ];
        for (kind, id) in steps {
            delete_one(&t.db, kind, id).await.unwrap();
            match kind {
                Kind::Service => c.services.retain(|s| s.id != id),
                Kind::BusinessFunction => c.business_functions.retain(|f| f.id != id),
                _ => c.people.retain(|p| p.id != id),
            }
            assert_eq!(store::load(&t.db).await.unwrap(), sorted(c.clone()), "{b}");
        }
        // The deleted records' children are gone too: re-creating them without children must
        // not resurrect old rows.
        let mut again = small();
        again.services[0].depends_on.clear();
        again.services[0].links.clear();
        again.people[0].teams.clear();
        again.business_functions[0].depends_on_domains.clear();
        write_all(&t.db, &again).await.unwrap();
        assert_eq!(store::load(&t.db).await.unwrap(), sorted(again), "{b}");

        // Now nothing refers to the leaves: delete everything, kind by kind.
        let all = small();
        let mut tx = t.db.begin().await.unwrap();
        for kind in Kind::ALL.into_iter().rev() {
            for id in all.ids(kind) {
                store::delete(&mut tx, kind, &id).await.unwrap();
            }
        }
        tx.commit().await.unwrap();
        assert_eq!(store::load(&t.db).await.unwrap(), Catalog::default(), "{b}");
    }
}

#[tokio::test]
async fn deleting_a_service_removes_edges_pointing_at_it() {
    for t in backends().await {
        let b = t.backend;
        let mut c = small();
        write_all(&t.db, &c).await.unwrap();
        // `api` depends on `zeta`; when zeta goes, so does the edge (apply updates `api` in the
        // same transaction; the cascade keeps the table consistent either way).
        delete_one(&t.db, Kind::Service, "zeta").await.unwrap();
        let stored = store::load(&t.db).await.unwrap();
        assert_eq!(
            stored.service("api").unwrap().depends_on,
            ["db", "cache"],
            "{b}"
        );
        c.services.retain(|s| s.id != "zeta");
        c.services[0].depends_on.retain(|d| d != "zeta");
        assert_eq!(stored, sorted(c), "{b}");
    }
}

#[tokio::test]
async fn deleting_a_missing_record_is_not_an_error() {
    // Apply deletes what it loaded a moment ago; a concurrent delete must not fail it.
    for t in backends().await {
        for kind in Kind::ALL {
            let id = if kind == Kind::Tier { "9" } else { "ghost" };
            delete_one(&t.db, kind, id)
                .await
                .unwrap_or_else(|e| panic!("{}: {kind:?}: {e}", t.backend));
        }
    }
}

#[tokio::test]
async fn upsert_of_an_id_the_catalog_lacks_is_not_found() {
    for t in backends().await {
        let c = small();
        let mut tx = t.db.begin().await.unwrap();
        for kind in Kind::ALL {
            let err = store::upsert(&mut tx, &c, kind, "missing", false)
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::NotFound),
                "{}: {kind:?}: {err:?}",
                t.backend
            );
        }
        // A tier id that is not a number cannot name a tier.
        let err = store::delete(&mut tx, Kind::Tier, "zero")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{}", t.backend);
    }
}

#[tokio::test]
async fn an_uncommitted_transaction_writes_nothing() {
    for t in backends().await {
        let c = small();
        let mut tx = t.db.begin().await.unwrap();
        store::upsert(&mut tx, &c, Kind::Team, "t", false)
            .await
            .unwrap();
        drop(tx);
        assert_eq!(
            store::load(&t.db).await.unwrap(),
            Catalog::default(),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_dangling_reference_fails_the_commit_as_a_conflict() {
    // References are deferred so apply can write in any order; the database still refuses a
    // commit that leaves one dangling, and the caller sees a Conflict, not a 500.
    for t in backends().await {
        let b = t.backend;
        let mut c = small();
        c.services[1].owner_team = "nobody".into();
        let err = write_all(&t.db, &c).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        assert_eq!(store::load(&t.db).await.unwrap(), Catalog::default(), "{b}");

        // The same for a team deleted while a service still names it.
        write_all(&t.db, &small()).await.unwrap();
        let err = delete_one(&t.db, Kind::Team, "a-team").await;
        // a-team is only referenced by a person's membership, which cascades: allowed.
        err.unwrap_or_else(|e| panic!("{b}: {e}"));
        let err = delete_one(&t.db, Kind::Team, "t").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        let stored = store::load(&t.db).await.unwrap();
        assert!(stored.team("t").is_some(), "{b}");
        assert_eq!(stored.people[0].teams, ["t"], "{b}");
    }
}

#[tokio::test]
async fn a_repeated_child_entry_is_a_conflict() {
    // Why validation rejects `depends_on: [db, db]` (and repeated teams or domains): the child
    // tables are keyed by (record, entry), so the store cannot hold a repeat.
    for t in backends().await {
        let b = t.backend;
        let mut c = small();
        c.services[0].depends_on = vec!["db".into(), "db".into()];
        let err = write_all(&t.db, &c).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
        let mut c = small();
        c.people[0].teams = vec!["t".into(), "t".into()];
        let err = write_all(&t.db, &c).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{b}: {err:?}");
    }
}

// ---- impact analysis on a hand-built graph ----

/// A diamond with one long side:
///
/// ```text
///   top ──> left ───────> bottom
///    └────> right ─> mid ──┘
/// ```
///
/// Domains: top=web, left=alpha, right and mid=beta, bottom=data, lonely=other.
fn graph() -> Catalog {
    let mut c = Catalog {
        schedules: vec![],
        escalation_policies: vec![],
        playbooks: vec![],
        severities: vec![],
        alert_rules: vec![],
        slos: vec![],
        tiers: vec![tier(0), tier(1)],
        teams: vec![team("t")],
        domains: ["web", "alpha", "beta", "data", "other", "empty"]
            .map(domain)
            .to_vec(),
        people: vec![],
        business_functions: vec![
            function("f-web", "web", &[]),
            function("f-beta-dep", "other", &["beta"]),
            function("f-data", "data", &["alpha"]),
            function("f-none", "other", &[]),
            function("f-empty", "empty", &[]),
        ],
        services: vec![
            service("top", "web", &["left", "right"]),
            service("left", "alpha", &["bottom"]),
            service("right", "beta", &["mid"]),
            service("mid", "beta", &["bottom"]),
            service("bottom", "data", &[]),
            service("lonely", "other", &[]),
        ],
    };
    c.services[4].tier = 0;
    c
}

fn refs(r: &[ServiceRef]) -> Vec<(&str, i64)> {
    r.iter().map(|s| (s.id.as_str(), s.depth)).collect()
}

#[tokio::test]
async fn impact_of_service_walks_dependents_by_shortest_hops() {
    for t in backends().await {
        let b = t.backend;
        write_all(&t.db, &graph()).await.unwrap();

        let impact = store::impact_of_service(&t.db, "bottom").await.unwrap();
        assert_eq!(impact.service, "bottom", "{b}");
        // top is 2 hops away via left and 3 via right/mid: the shorter one counts, once.
        assert_eq!(
            refs(&impact.services),
            [
                ("bottom", 0),
                ("left", 1),
                ("mid", 1),
                ("right", 2),
                ("top", 2)
            ],
            "{b}"
        );
        assert_eq!(impact.services[0].tier, 0, "{b}");
        assert_eq!(impact.services[0].name, "Service bottom", "{b}");
        let functions: Vec<(&str, bool)> = impact
            .business_functions
            .iter()
            .map(|f| (f.id.as_str(), f.via_primary_domain))
            .collect();
        // f-data: primary domain hit; f-beta-dep: only a depended-on domain; f-web: primary
        // (top is in web); f-none and f-empty: untouched.
        assert_eq!(
            functions,
            [("f-beta-dep", false), ("f-data", true), ("f-web", true)],
            "{b}"
        );
        assert_eq!(impact.business_functions[0].criticality, "high", "{b}");
        assert_eq!(
            impact.business_functions[0].name, "Function f-beta-dep",
            "{b}"
        );

        // A service nothing depends on hits only itself and its own domain's functions.
        let impact = store::impact_of_service(&t.db, "top").await.unwrap();
        assert_eq!(refs(&impact.services), [("top", 0)], "{b}");
        let ids: Vec<&str> = impact
            .business_functions
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(ids, ["f-web"], "{b}");

        // f-none's primary domain `other` holds `lonely`.
        let impact = store::impact_of_service(&t.db, "lonely").await.unwrap();
        let ids: Vec<(&str, bool)> = impact
            .business_functions
            .iter()
            .map(|f| (f.id.as_str(), f.via_primary_domain))
            .collect();
        assert_eq!(ids, [("f-beta-dep", true), ("f-none", true)], "{b}");

        let err = store::impact_of_service(&t.db, "ghost").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
    }
}

#[tokio::test]
async fn dependencies_of_function_walks_down_from_its_domains() {
    for t in backends().await {
        let b = t.backend;
        write_all(&t.db, &graph()).await.unwrap();

        let deps = store::dependencies_of_function(&t.db, "f-web")
            .await
            .unwrap();
        // bottom is 2 hops via left, 3 via right/mid.
        assert_eq!(
            refs(&deps),
            [
                ("top", 0),
                ("left", 1),
                ("right", 1),
                ("bottom", 2),
                ("mid", 2)
            ],
            "{b}"
        );
        // Primary domain and depended-on domains both start the walk, at depth 0.
        let deps = store::dependencies_of_function(&t.db, "f-beta-dep")
            .await
            .unwrap();
        assert_eq!(
            refs(&deps),
            [("lonely", 0), ("mid", 0), ("right", 0), ("bottom", 1)],
            "{b}"
        );
        // A function whose domain has no services relies on nothing (and exists).
        let deps = store::dependencies_of_function(&t.db, "f-empty")
            .await
            .unwrap();
        assert!(deps.is_empty(), "{b}: {deps:?}");

        let err = store::dependencies_of_function(&t.db, "ghost")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{b}: {err:?}");
    }
}

#[tokio::test]
async fn impact_on_the_example() {
    // A failure of the platform everything runs on reaches every function; checkout is hit
    // through its primary domain.
    for t in backends().await {
        let b = t.backend;
        seed_example(&t.db).await;
        let impact = store::impact_of_service(&t.db, "K8S-as-a-Service")
            .await
            .unwrap();
        assert_eq!(impact.business_functions.len(), 5, "{b}");
        assert_eq!(
            impact.services.len(),
            10,
            "{b}: {:?}",
            refs(&impact.services)
        );
        let deps = store::dependencies_of_function(&t.db, "card-payment")
            .await
            .unwrap();
        let ids: Vec<&str> = deps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "identity-api",
                "identity-db",
                "payment-gateway",
                "payments-db",
                "K8S-as-a-Service"
            ],
            "{b}"
        );
    }
}

// ---- audit log ----

#[tokio::test]
async fn audit_records_and_lists_newest_first_with_paging() {
    for t in backends().await {
        let b = t.backend;
        assert!(
            audit::store::list(&t.db, 10, None)
                .await
                .unwrap()
                .is_empty()
        );

        // One committed in a transaction, one rolled back, three on their own.
        let mut tx = t.db.begin().await.unwrap();
        audit::store::record(&mut tx, 1_000, "alice", "catalog.create", "team t", "")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.db.begin().await.unwrap();
        audit::store::record(&mut tx, 2_000, "mallory", "catalog.delete", "team t", "")
            .await
            .unwrap();
        drop(tx);
        for i in 0..3 {
            audit::store::record_now(&t.db, 3_000 + i, "bob", "login", "bob", &format!("#{i}"))
                .await
                .unwrap();
        }

        let all = audit::store::list(&t.db, 100, None).await.unwrap();
        let seen: Vec<(i64, &str, &str)> = all
            .iter()
            .map(|e| (e.at, e.actor.as_str(), e.detail.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (3_002, "bob", "#2"),
                (3_001, "bob", "#1"),
                (3_000, "bob", "#0"),
                (1_000, "alice", ""),
            ],
            "{b}"
        );
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "{b}");
        assert_eq!(all[3].action, "catalog.create", "{b}");
        assert_eq!(all[3].target, "team t", "{b}");

        // Pages of two, each starting below the last id seen.
        let page1 = audit::store::list(&t.db, 2, None).await.unwrap();
        assert_eq!(page1, all[..2], "{b}");
        let page2 = audit::store::list(&t.db, 2, Some(page1[1].id))
            .await
            .unwrap();
        assert_eq!(page2, all[2..], "{b}");
        let page3 = audit::store::list(&t.db, 2, Some(page2[1].id))
            .await
            .unwrap();
        assert!(page3.is_empty(), "{b}");
    }
}

// ---- the database handle ----

#[test]
fn backend_from_url() {
    assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
    assert_eq!(
        Backend::from_url("sqlite::memory:").unwrap(),
        Backend::Sqlite
    );
    assert_eq!(
        Backend::from_url("postgres://h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        Backend::from_url("postgresql://h/db").unwrap(),
        Backend::Postgres
    );
    // A typo must be a clear configuration error, never a guess at a backend.
    for url in ["mysql://h/db", "x.db", "", "SQLITE://x.db"] {
        let err = Backend::from_url(url).unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{url:?}: {err:?}");
    }
}

#[tokio::test]
async fn ping_migrate_again_and_backend() {
    for t in backends().await {
        t.db.ping().await.unwrap();
        // `serve` migrates at every start: a second run on a migrated database is a no-op.
        t.db.migrate().await.unwrap();
        let expected = match t.backend {
            "sqlite" => Backend::Sqlite,
            _ => Backend::Postgres,
        };
        assert_eq!(t.db.backend(), expected);
    }
}
