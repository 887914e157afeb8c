//! Catalog benchmarks: `apply` of a generated catalog (5,000 services, 500 teams) to a fresh
//! SQLite file, then the impact query and the function-dependencies query on it.
//! Run: `cargo bench --bench catalog` (add `-- --postgres URL` to run on PostgreSQL too).

use std::time::{Duration, Instant};

use tocsin::catalog::snapshot::SnapshotCache;
use tocsin::catalog::{BusinessFunction, Catalog, Criticality, Domain, Service, ServiceType, Tier};
use tocsin::db::Db;
use tocsin::people::{Person, Team};

const SERVICES: usize = 5_000;
const TEAMS: usize = 500;
const DOMAINS: usize = 50;
const PEOPLE: usize = 2_000;
const FUNCTIONS: usize = 200;

/// A deterministic catalog: each service depends on up to three earlier services (a DAG with
/// shared dependencies, like real platforms: low ids are the widely used ones).
fn generate() -> Catalog {
    let mut seed: u64 = 42;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap_or(0) % n.max(1)
    };
    let tiers = (0..4u8)
        .map(|l| Tier {
            level: l,
            name: format!("Tier {l}"),
            description: format!("Tier {l} meaning"),
        })
        .collect();
    let teams = (0..TEAMS)
        .map(|i| Team {
            escalation_policy: None,
            id: format!("team-{i}"),
            name: format!("Team {i}"),
            description: String::new(),
        })
        .collect();
    let domains = (0..DOMAINS)
        .map(|i| Domain {
            id: format!("domain-{i}"),
            name: format!("Domain {i}"),
            description: String::new(),
        })
        .collect();
    let people = (0..PEOPLE)
        .map(|i| Person {
            title: String::new(),
            id: format!("person-{i}"),
            name: format!("Person {i}"),
            email: format!("person{i}@example.com"),
            time_zone: "Europe/London".into(),
            teams: vec![format!("team-{}", i % TEAMS)],
        })
        .collect();
    let business_functions = (0..FUNCTIONS)
        .map(|i| BusinessFunction {
            id: format!("function-{i}"),
            name: format!("Function {i}"),
            description: String::new(),
            primary_domain: format!("domain-{}", i % DOMAINS),
            depends_on_domains: vec![format!("domain-{}", (i * 7 + 1) % DOMAINS)],
            owner_team: format!("team-{}", i % TEAMS),
            criticality: Criticality::High,
        })
        .collect();
    let services = (0..SERVICES)
        .map(|i| {
            let mut depends_on: Vec<String> = Vec::new();
            if i > 0 {
                for _ in 0..3 {
                    let d = format!("svc-{}", next(i));
                    if !depends_on.contains(&d) {
                        depends_on.push(d);
                    }
                }
            }
            Service {
                escalation_policy: None,
                id: format!("svc-{i}"),
                name: format!("Service {i}"),
                description: String::new(),
                kind: ServiceType::RestApi,
                stateful: i % 5 == 0,
                owner_team: format!("team-{}", i % TEAMS),
                tier: u8::try_from(i % 4).unwrap_or(0),
                domain: format!("domain-{}", i % DOMAINS),
                depends_on,
                links: vec![],
            }
        })
        .collect();
    Catalog {
        schedules: vec![],
        escalation_policies: vec![],
        playbooks: vec![],
        severities: vec![],
        alert_rules: vec![],
        slos: vec![],
        tiers,
        teams,
        domains,
        people,
        business_functions,
        services,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn time_queries(db: &Db, label: &str, n: usize, mut f: impl AsyncFnMut(usize)) {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        f(i).await;
        samples.push(start.elapsed());
    }
    samples.sort();
    println!(
        "{label:<44} n={n:<5} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms  ({:?})",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
        db.backend()
    );
}

async fn run(db: &Db, catalog: &Catalog) {
    let start = Instant::now();
    let plan = tocsin::config::apply::apply(db, 0, "bench", catalog, false)
        .await
        .expect("apply");
    println!(
        "apply {} records ({} services, {} teams)  {:>8.1} ms  ({:?})",
        plan.changes.len(),
        SERVICES,
        TEAMS,
        start.elapsed().as_secs_f64() * 1e3,
        db.backend()
    );
    let start = Instant::now();
    let again = tocsin::config::apply::apply(db, 0, "bench", catalog, true)
        .await
        .expect("plan");
    assert!(again.is_empty());
    println!(
        "re-plan with no changes                        {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    // What the server does per request: check the version, use the cached snapshot.
    let cache = SnapshotCache::default();
    let start = Instant::now();
    cache.get(db).await.expect("snapshot");
    println!(
        "snapshot rebuild (first request after a write) {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    // Low ids are depended on by many services: the worst case for "what does this break".
    time_queries(db, "impact of svc-0 (most depended on)", 200, async |_| {
        let snap = cache.get(db).await.expect("snapshot");
        assert!(snap.impact("svc-0").expect("impact").services.len() > 1000);
    })
    .await;
    time_queries(db, "impact of a random service", 500, async |i| {
        let snap = cache.get(db).await.expect("snapshot");
        snap.impact(&format!("svc-{}", (i * 37) % SERVICES))
            .expect("impact");
    })
    .await;
    time_queries(db, "dependencies of a business function", 200, async |i| {
        let snap = cache.get(db).await.expect("snapshot");
        snap.relied_on_by(&format!("function-{}", i % FUNCTIONS))
            .expect("deps");
    })
    .await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let catalog = generate();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = tocsin::app::open_db(&url).await.expect("sqlite");
    run(&db, &catalog).await;
    if let Some(i) = args.iter().position(|a| a == "--postgres") {
        let url = args.get(i + 1).expect("--postgres URL");
        let db = tocsin::app::open_db(url).await.expect("postgres");
        // Start from an empty catalog so the numbers compare with SQLite's.
        tocsin::config::apply::apply(&db, 0, "bench", &Catalog::default(), false)
            .await
            .expect("reset");
        run(&db, &catalog).await;
    }
}
