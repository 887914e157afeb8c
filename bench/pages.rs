//! Page render benchmarks, in process through the real router (server time, no network):
//! the schedule calendar of a 20-person team (two-week grid and month view) and the home page.
//! Run: `cargo bench --bench pages`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tocsin::auth::Role;
use tocsin::clock::{FakeClock, SharedClock};
use tocsin::http::{AppState, HttpSettings};
use tocsin::oncall::{Layer, Restriction, Schedule, ShiftLength, ShiftUnit, Weekday};
use tocsin::people::Person;
use tower::ServiceExt;

/// The example organisation plus a 20-person team with a three-layer schedule: a weekly
/// rotation, a daily business-hours layer and a weekend layer.
fn catalog() -> tocsin::catalog::Catalog {
    let mut c = tocsin::config::load(tocsin::cli::example_sources(), &Default::default())
        .expect("example")
        .catalog;
    let ids: Vec<String> = (0..20).map(|i| format!("big-{i:02}")).collect();
    for id in &ids {
        c.people.push(Person {
            id: id.clone(),
            name: format!("Engineer {id}"),
            email: format!("{id}@shop.example"),
            time_zone: "Europe/London".into(),
            title: "SRE".into(),
            teams: vec!["sre".into()],
        });
    }
    let layer = |name: &str, people: &[String], unit, restrictions| Layer {
        name: name.into(),
        people: people.to_vec(),
        shift: ShiftLength { count: 1, unit },
        start: "2024-01-01T09:00".into(),
        restrictions,
    };
    let weekdays = vec![Restriction {
        days: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        from: "09:00".into(),
        to: "17:00".into(),
    }];
    let weekend = vec![Restriction {
        days: vec![Weekday::Sat, Weekday::Sun],
        from: "08:00".into(),
        to: "20:00".into(),
    }];
    c.schedules.push(Schedule {
        id: "big".into(),
        name: "Twenty people".into(),
        team: "sre".into(),
        time_zone: "Europe/London".into(),
        layers: vec![
            layer("weekly", &ids, ShiftUnit::Weeks, vec![]),
            layer("business hours", &ids[..10], ShiftUnit::Days, weekdays),
            layer("weekends", &ids[10..], ShiftUnit::Days, weekend),
        ],
    });
    c
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = tocsin::app::open_db(&format!(
        "sqlite://{}",
        dir.path().join("pages.db").display()
    ))
    .await
    .expect("db");
    tocsin::config::apply::apply(&db, 0, "bench", &catalog(), false)
        .await
        .expect("apply");
    let (_, token) = tocsin::auth::accounts::create_token(&db, "bench", Role::Admin, "bench", 0)
        .await
        .expect("token");
    let clock: SharedClock = Arc::new(FakeClock::at("2024-06-19T12:00:00Z".parse().expect("time")));
    let router = tocsin::http::router(AppState::new(db, clock, HttpSettings::default(), None));
    for (label, path) in [
        ("schedule page, 20 people, two-week grid", "/schedules/big"),
        (
            "schedule page, 20 people, month view",
            "/schedules/big?view=month&month=2024-06",
        ),
        ("escalation matrix of a team", "/teams/sre/escalation"),
        ("home page (on call now)", "/"),
    ] {
        let mut samples = Vec::new();
        for i in 0..220 {
            let req = Request::get(path)
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
            let elapsed = start.elapsed();
            assert_eq!(
                status,
                StatusCode::OK,
                "{path}: {}",
                String::from_utf8_lossy(&body)
            );
            if i >= 20 {
                samples.push(elapsed); // The first requests warm the snapshot cache.
            }
        }
        samples.sort();
        println!(
            "{label:<42} p50={:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            percentile(&samples, 1.0)
        );
    }
}
