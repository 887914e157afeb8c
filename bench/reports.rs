//! Learning-report benchmarks on SQLite (issue #6 target: each report page under 200 ms of
//! server time). Seeds, with set-based SQL, a year of history over the example
//! organisation: 10,000 incidents (one or two services each, a commander each), 1,000,000
//! alerts (200 summaries per service, a third matched by a rule, one in seven breached) and
//! 300,000 page rows; then times every report page, its JSON, and the SLO pages, in process
//! through the real router (p50/p99 of N requests). The default period (90 days) covers about
//! a quarter of the history. No ANALYZE: a deployment's database has no planner statistics
//! unless someone runs it, so the figures are for the plans SQLite picks without them.
//!
//! Run: `cargo bench --bench reports` (`-- --incidents 10000 --alerts 1000000 --requests 30`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tocsin::auth::Role;
use tocsin::clock::{FakeClock, SharedClock};
use tocsin::db::Db;
use tocsin::http::{AppState, HttpSettings};
use tower::ServiceExt;

/// 2026-11-23T12:00:00Z: the bench's "now"; the history is the year before it.
const NOW: i64 = 1_795_435_200_000;
const YEAR: i64 = 365 * 86_400_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn exec(db: &Db, sql: String) {
    let Db::Sqlite(pool, _) = db else {
        panic!("the report bench runs on SQLite");
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("seed");
}

/// The history, generated in SQL from numbered rows (a recursive CTE), in one transaction;
/// then statistics and a checkpoint, as a database that grew over a year would be (not a
/// 450 MB write-ahead log that every read must look through).
async fn seed(db: &Db, incidents: usize, alerts: usize, pages: usize) {
    let services = "'checkout-api', 'payment-gateway', 'web-storefront', 'catalog-api', \
        'cart-service', 'shipping-api', 'identity-api', 'inventory-api'";
    let people = "'jon-doe', 'foo-bar', 'jane-doe', 'ali-khan', 'mei-lin', 'sam-rivera'";
    let sql = format!(
        "begin;
create temp table svc (k integer primary key, id text);
insert into svc (k, id) select row_number() over () - 1, column1 from (values {svcs});
create temp table ppl (k integer primary key, id text);
insert into ppl (k, id) select row_number() over () - 1, column1 from (values {ppls});
with recursive n(i) as (select 1 union all select i + 1 from n where i < {incidents})
insert into incidents (id, title, status, severity_id, source, declared_at, declared_by,
    started_at, acknowledged_at, mitigated_at, resolved_at, updated_at)
select i, 'Incident ' || i, case when i % 50 = 0 then 'investigating' else 'resolved' end,
    'sev' || (i % 3), 'api', s + 60000 * (i % 17), 'bench', s, s + 60000 * (1 + i % 13),
    s + 60000 * (20 + i % 40), case when i % 50 = 0 then null else s + 60000 * (30 + i % 300) end, s
from (select i, {NOW} - i * ({YEAR} / {incidents}) as s from n);
insert into incident_services (incident_id, service_id)
    select id, (select id from svc where k = incidents.id % 8) from incidents;
insert into incident_services (incident_id, service_id)
    select id, (select id from svc where k = (incidents.id + 3) % 8) from incidents where id % 4 = 0;
insert into incident_roles (incident_id, role, person_id, from_at, assigned_by)
    select id, 'commander', (select id from ppl where k = incidents.id % 6), started_at, 'bench'
    from incidents;
with recursive n(i) as (select 1 union all select i + 1 from n where i < {alerts})
insert into alerts (id, service_id, dedup_key, status, severity, summary, created_at,
    last_event_at, event_count, breached_at, rule_id, playbook_id)
select 'a' || i, (select id from svc where k = i % 8), 'k' || i, 'resolved',
    case i % 4 when 0 then 'critical' when 1 then 'error' when 2 then 'warning' else 'info' end,
    'Alert kind ' || (i % 200), c, c, 1 + i % 5,
    case when i % 7 = 0 then c + 300000 end,
    case when i % 3 = 0 then 'checkout-5xx' end,
    case when i % 3 = 0 then 'checkout-errors' end
from (select i, {NOW} - i * ({YEAR} / {alerts}) as c from n);
with recursive n(i) as (select 1 union all select i + 1 from n where i < {pages})
insert into outbox (idempotency_key, alert_id, person_id, level, round, kind, created_at,
    next_attempt_at, status, service_id, channel)
select 'p' || i, 'a' || (i / 2), (select id from ppl where k = i % 6), 0, 0, 'page', c, c,
    'sent', (select id from svc where k = (i / 2) % 8), case when i % 2 = 0 then 'email' else 'slack' end
from (select i, {NOW} - i * ({YEAR} / {pages}) as c from n);
commit;
pragma wal_checkpoint(truncate);",
        svcs = values(services),
        ppls = values(people),
    );
    exec(db, sql).await;
}

/// "'a', 'b'" → "('a'), ('b')" for a VALUES list.
fn values(list: &str) -> String {
    list.split(", ")
        .map(|v| format!("({v})"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::main]
async fn main() {
    let (incidents, alerts) = (arg("--incidents", 10_000), arg("--alerts", 1_000_000));
    let requests = arg("--requests", 30);
    if requests == 0 {
        println!("--requests 0: seeding only");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // `TOCSIN_BENCH_DB=PATH` keeps the seeded database there, to look at query plans.
    let path = std::env::var("TOCSIN_BENCH_DB")
        .unwrap_or_else(|_| dir.path().join("reports.db").display().to_string());
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{path}");
    let db = tocsin::app::open_db(&url).await.expect("db");
    let example = tocsin::config::load(tocsin::cli::example_sources(), &Default::default())
        .expect("example")
        .catalog;
    tocsin::config::apply::apply(&db, 0, "bench", &example, false)
        .await
        .expect("apply");
    let started = Instant::now();
    seed(&db, incidents, alerts, alerts * 3 / 10).await;
    println!(
        "seeded {incidents} incidents, {alerts} alerts, {} page rows in {:.1} s",
        alerts * 3 / 10,
        started.elapsed().as_secs_f64()
    );
    // The alert reports' SQL alone, through sqlx, to tell query time from the rest.
    let period = tocsin::reports::Period {
        from: NOW - 90 * 86_400_000,
        to: NOW,
    };
    for (what, n) in [("breaches SQL", 0), ("top alerts SQL", 1)] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            if n == 0 {
                tocsin::reports::store::breaches(&db, period, "")
                    .await
                    .expect("breaches");
            } else {
                tocsin::reports::store::top_alerts(&db, period, "", 20)
                    .await
                    .expect("top");
            }
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{what}, last 90 days: median of 5 {:.1} ms", times[2]);
    }
    let (_, token) = tocsin::auth::accounts::create_token(&db, "bench", Role::Viewer, "bench", 0)
        .await
        .expect("token");
    let clock = FakeClock::at(jiff::Timestamp::from_millisecond(NOW).expect("now"));
    let clock: SharedClock = Arc::new(clock);
    let router = tocsin::http::router(AppState::new(db, clock, HttpSettings::default(), None));
    let mut paths: Vec<(String, String)> = Vec::new();
    for name in ["response", "services", "oncall", "breaches", "alerts"] {
        paths.push((
            format!("/reports/{name} page, last 90 days"),
            format!("/reports/{name}"),
        ));
    }
    for name in ["oncall", "breaches"] {
        paths.push((
            format!("/api/v1/reports/{name} JSON, last 90 days"),
            format!("/api/v1/reports/{name}"),
        ));
    }
    for name in ["response", "alerts"] {
        paths.push((
            format!("/reports/{name} page, whole year"),
            format!("/reports/{name}?from=2025-11-23"),
        ));
        paths.push((
            format!("/api/v1/reports/{name} JSON, last 90 days"),
            format!("/api/v1/reports/{name}"),
        ));
    }
    paths.push(("/slos (6 SLOs)".into(), "/slos".into()));
    paths.push((
        "/slos/checkout-api-availability".into(),
        "/slos/checkout-api-availability".into(),
    ));
    println!("| request | p50 ms | p99 ms | bytes |");
    println!("|---|---|---|---|");
    for (label, path) in paths.into_iter().filter(|_| requests > 0) {
        let mut samples = Vec::new();
        let mut bytes = 0;
        // One warm-up request (the catalog snapshot, SQLite's page cache), then the samples.
        for i in 0..=requests {
            let req = Request::get(&path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request");
            let start = Instant::now();
            let response = router.clone().oneshot(req).await.expect("infallible");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let took = start.elapsed();
            assert_eq!(
                status,
                StatusCode::OK,
                "{path}: {}",
                String::from_utf8_lossy(&body)
            );
            bytes = body.len();
            if i > 0 {
                samples.push(took);
            }
        }
        samples.sort();
        println!(
            "| {label} | {:.1} | {:.1} | {bytes} |",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
}
