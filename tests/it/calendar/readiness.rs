//! The readiness audit: the example organisation's expected findings (pure, and on the
//! `/readiness` page), and `tocsin audit` on a crafted configuration with a coverage gap, an
//! overloaded rotation and a Tier 0 service nobody answers for (exit status 1, table and JSON).

use serde_json::Value;
use tocsin::auth::Role;
use tocsin::catalog::Catalog;
use tocsin::oncall::readiness::{self, Options, Severity};

use super::apps;
use super::client::{PASSWORD, fetch, sign_in};
use crate::serve::run_tocsin;
use crate::support::t0;

/// (severity, check, subject) of each finding, in report order.
fn keys(r: &readiness::Report) -> Vec<(Severity, &str, &str)> {
    r.findings
        .iter()
        .map(|f| (f.severity, f.check, f.subject.as_str()))
        .collect()
}

#[test]
fn the_example_has_no_errors_and_three_explained_findings() {
    let catalog = tocsin::config::load(tocsin::cli::example_sources(), &Catalog::default())
        .expect("example")
        .catalog;
    let options = Options::weeks(t0().as_millisecond(), 4, readiness::DEFAULT_MAX_SHARE);
    let report = readiness::audit(&catalog, &[], &options);
    assert_eq!(
        keys(&report),
        [
            // Jane Doe takes an SRE week in seven *and* alternate payments business days:
            // 26.9% of the six weeks the load is measured over.
            (Severity::Warning, "load", "person jane-doe"),
            // ...and the two meet in her SRE week (1–8 July: her payments days 2 and 4 July).
            (Severity::Warning, "overlap", "person jane-doe"),
            // Payments is business hours only, by design; the payments policy pairs it with
            // the 24/7 SRE schedule, so no escalation level ever reaches nobody.
            (Severity::Info, "gap", "schedule payments-business-hours"),
        ],
        "{:#?}",
        report.findings
    );
    let msg: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(msg[0].contains("26.9% of the 6 weeks"), "{}", msg[0]);
    assert!(
        msg[1].contains("Payments business hours and SRE primary") && msg[1].contains("17 h"),
        "{}",
        msg[1]
    );
    assert!(
        msg[2].contains("first Mon 17 Jun 2024 17:00 CEST → Tue 18 Jun 2024 09:00 CEST"),
        "{}",
        msg[2]
    );
    assert_eq!(report.count(Severity::Error), 0);
    // The SRE rotation of seven alone is healthy even measured over its whole cycle.
    let seven = readiness::audit(&catalog, &[], &Options::weeks(options.from, 7, 0.15));
    assert!(
        !keys(&seven)
            .iter()
            .any(|k| k.1 == "load" && k.2 != "person jane-doe")
    );
}

#[tokio::test]
async fn the_readiness_page_lists_the_findings() {
    let (app, _db) = apps(&[(Role::Viewer, None)]).await.remove(0);
    let c = sign_in(&app, "viewer", PASSWORD).await;
    let page = fetch(&app, "GET", "/readiness", &c, None).await;
    page.assert_ok_html("readiness");
    assert!(
        page.body
            .contains("0 errors, 2 warnings, 3 findings in all"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Jane Doe is on call 26.9%"));
    let week = fetch(&app, "GET", "/readiness?weeks=1", &c, None).await;
    assert!(week.body.contains("next 1 weeks"));
    for bad in ["?weeks=0", "?weeks=x"] {
        let r = fetch(&app, "GET", &format!("/readiness{bad}"), &c, None).await;
        assert_eq!(r.status, axum::http::StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.body.contains("expected a number from 1 to 52"), "{bad}");
    }
}

/// A team with a two-person weekly rotation (each on call half the time), a secondary
/// schedule whose only layer starts a week into the window (a gap), a policy whose first level
/// is that schedule and whose last level is one person with no repeat, and a Tier 0 service
/// owned by a team without a policy.
const CRAFTED: &str = r#"
tiers:
  - {level: 0, name: Tier 0}
domains:
  - {id: shop, name: Shop}
teams:
  - {id: ops, name: Ops, escalation_policy: ops}
  - {id: web, name: Web}
people:
  - {id: ann, name: Ann, email: ann@example.com, time_zone: Europe/London, teams: [ops]}
  - {id: bob, name: Bob, email: bob@example.com, time_zone: Europe/London, teams: [ops]}
  - {id: cat, name: Cat, email: cat@example.com, time_zone: UTC, teams: [ops]}
schedules:
  - id: ops-primary
    name: Ops primary
    team: ops
    time_zone: Europe/London
    layers:
      - {name: Weekly, people: [ann, bob], shift: {count: 1, unit: weeks}, start: "2024-06-10T09:00"}
  - id: ops-secondary
    name: Ops secondary
    team: ops
    time_zone: UTC
    layers:
      - {name: Cat, people: [cat], shift: {count: 1, unit: weeks}, start: "2024-06-24T00:00"}
escalation_policies:
  - id: ops
    name: Ops
    levels:
      - {targets: [{schedule: ops-secondary}], escalate_after_minutes: 5}
      - {targets: [{person: ann}], escalate_after_minutes: 10}
services:
  - {id: web-shop, name: Web shop, type: web-app, stateful: false, owner_team: web, tier: 0, domain: shop}
  - {id: ops-api, name: Ops API, type: rest-api, stateful: false, owner_team: ops, tier: 0, domain: shop}
"#;

#[test]
fn tocsin_audit_fails_on_a_gap_an_unanswered_level_and_a_tier_0_service_without_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("org.yaml");
    std::fs::write(&file, CRAFTED).expect("write");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let file = file.to_string_lossy();
    let applied = run_tocsin(&["apply", &file, "--database-url", &url], "");
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let args = [
        "audit",
        "--from",
        "2024-06-17T09:00Z",
        "--database-url",
        &url,
    ];
    let out = run_tocsin(&args, "");
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(
        table.starts_with("SEVERITY  CHECK       SUBJECT"),
        "{table}"
    );
    assert!(
        table.contains("3 errors, 4 warnings, 0 info over 4 weeks from 2024-06-17T09:00:00Z"),
        "{table}"
    );

    let out = run_tocsin(&[&args[..], &["--json"]].concat(), "");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["severity"].as_str().unwrap_or(""),
                f["check"].as_str().unwrap_or(""),
                f["subject"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            // Nobody on the secondary schedule before Cat's first week...
            "error escalation policy ops",
            "error gap schedule ops-secondary",
            // ...the web team has no policy; ops-api is answered through the ops team.
            "error tier0 service web-shop",
            // Ann and Bob: a week in two. Cat: every week from the 24th.
            "warning escalation policy ops",
            "warning load person ann",
            "warning load person bob",
            "warning load person cat",
        ],
        "{report:#}"
    );
    let messages = report["findings"].to_string();
    assert!(messages.contains("Ops secondary: nobody on call Mon 17 Jun 2024 09:00 UTC → Mon 24 Jun 2024 00:00 UTC (159 h)"), "{messages}");
    assert!(
        messages.contains("level 0 reaches nobody for 159 h"),
        "{messages}"
    );
    assert!(messages.contains("reaches only Ann"), "{messages}");
    assert!(messages.contains("Ann is on call 50.0%"), "{messages}");

    // A bad flag is a usage error, status 2, not a finding.
    let bad = run_tocsin(&["audit", "--weeks", "0", "--database-url", &url], "");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn tocsin_feed_creates_lists_and_revokes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let files: Vec<String> = ["catalog", "people", "oncall"]
        .iter()
        .map(|f| format!("{}/examples/ecommerce/{f}.yaml", env!("CARGO_MANIFEST_DIR")))
        .collect();
    let mut apply = vec!["apply"];
    apply.extend(files.iter().map(String::as_str));
    apply.extend(["--database-url", &url]);
    assert!(run_tocsin(&apply, "").status.success());

    let made = run_tocsin(
        &[
            "feed",
            "create",
            "--schedule",
            "sre-primary",
            "--base-url",
            "https://oncall.example/",
            "--database-url",
            &url,
        ],
        "",
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let printed = String::from_utf8_lossy(&made.stdout);
    assert!(
        printed.starts_with("https://oncall.example/ical/schedules/sre-primary.ics?token=tcf_"),
        "{printed}"
    );
    let missing = run_tocsin(
        &[
            "feed",
            "create",
            "--person",
            "nobody",
            "--database-url",
            &url,
        ],
        "",
    );
    assert_eq!(missing.status.code(), Some(1));
    let neither = run_tocsin(&["feed", "create", "--database-url", &url], "");
    assert!(!neither.status.success());

    let list = run_tocsin(&["feed", "list", "--database-url", &url], "");
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        list.contains("schedule sre-primary") && list.contains("active"),
        "{list}"
    );
    assert!(!list.contains("tcf_"), "never the secret");
    let id = list.split_whitespace().next().expect("id").to_string();
    assert!(
        run_tocsin(&["feed", "revoke", &id, "--database-url", &url], "")
            .status
            .success()
    );
    assert_eq!(
        run_tocsin(&["feed", "revoke", &id, "--database-url", &url], "")
            .status
            .code(),
        Some(1)
    );
    let list = run_tocsin(&["feed", "list", "--database-url", &url], "");
    assert!(String::from_utf8_lossy(&list.stdout).contains("revoked"));
}
