//! `tocsin incident …` and `tocsin handbook` section 1e as the real binary on a seeded SQLite
//! file: a whole incident from the command line, the document it leaves, one-line errors
//! with exit status 2 (a wrong request) or 1 (refused by the incident's state). Then
//! `tocsin serve` with its engine: a critical alert sent over a loopback socket becomes an
//! incident on its own (Sev 0 declares at once).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::serve::{Served, Site, run_ok, run_tocsin};

/// Runs `tocsin incident ARGS` against `db`; (exit code, stdout, stderr).
fn incident(db: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["incident", "--database-url", db];
    all.extend_from_slice(args);
    let out = run_tocsin(&all, "");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(db: &str, args: &[&str]) -> String {
    let (code, out, err) = incident(db, args);
    assert_eq!(code, 0, "incident {args:?}: {out}{err}");
    out
}

/// A refusal: exit status `code` and one `error:` line naming `why`.
fn refused(db: &str, args: &[&str], code: i32, why: &str) {
    let (got, out, err) = incident(db, args);
    assert_eq!(got, code, "incident {args:?}: {out}{err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(why),
        "{err}"
    );
}

#[test]
fn an_incident_from_the_command_line() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    let out = ok(
        db,
        &[
            "declare",
            "--title",
            "Checkout failing",
            "--severity",
            "sev0",
            "--service",
            "checkout-api",
            "--as",
            "foo-bar",
        ],
    );
    assert!(
        out.starts_with("INC-1 declared: Checkout failing (sev0)"),
        "{out}"
    );
    let list = ok(db, &["list"]);
    assert!(
        list.contains("INC-1") && list.contains("investigating"),
        "{list}"
    );
    ok(
        db,
        &["role", "INC-1", "cl", "jon-doe", "--note", "you have comms"],
    );
    ok(
        db,
        &[
            "note",
            "1",
            "The payments DB is out of disk",
            "--kind",
            "finding",
        ],
    );
    let out = ok(
        db,
        &[
            "update",
            "#1",
            "--impact",
            "No checkouts",
            "--actions",
            "Failing over",
            "--as",
            "jon-doe",
        ],
    );
    assert!(out.contains("next update due 20"), "{out}");
    ok(
        db,
        &["status", "1", "monitoring", "--note", "failover done"],
    );

    let show = ok(db, &["show", "1"]);
    for needle in [
        "INC-1: Checkout failing",
        "status:    monitoring",
        "Communications Lead: Jon Doe",
        "finding",
    ] {
        assert!(show.contains(needle), "{needle:?} missing from\n{show}");
    }
    let doc = ok(db, &["doc", "1", "--tz", "Europe/London"]);
    for needle in [
        "# INC-1: Checkout failing",
        "| Status | **monitoring** |",
        "| Communications Lead | Jon Doe |",
        "The payments DB is out of disk",
        "Failing over (update by Jon Doe)",
        "you have comms",
    ] {
        assert!(doc.contains(needle), "{needle:?} missing from\n{doc}");
    }

    refused(db, &["show", "99"], 1, "no such incident");
    refused(db, &["show", "INC-x"], 2, "not an incident");
    refused(db, &["status", "1", "fixed"], 2, "status must be");
    refused(db, &["status", "1", "monitoring"], 1, "already monitoring");
    refused(db, &["status", "1", "closed"], 1, "postmortem");
    refused(
        db,
        &["role", "1", "boss", "jon-doe"],
        2,
        "role must be ic, ol or cl",
    );
    refused(db, &["role", "1", "ic", "nobody"], 2, "unknown person");
    refused(
        db,
        &["note", "1", "x", "--kind", "declared"],
        2,
        "--kind must be",
    );
    refused(db, &["update", "1"], 2, "an update says");
    refused(
        db,
        &["doc", "1", "--tz", "Mars/Base"],
        2,
        "unknown time zone",
    );
    refused(
        db,
        &["declare", "--title", "x", "--service", "nope"],
        2,
        "unknown service",
    );
    refused(
        db,
        &["declare", "--title", " "],
        2,
        "title must not be empty",
    );

    ok(db, &["status", "1", "resolved"]);
    assert!(!ok(db, &["list"]).contains("INC-1"), "only open ones");
    assert!(ok(db, &["list", "--all"]).contains("resolved"));
}

#[test]
fn the_handbook_has_the_classification_table() {
    let site = Site::seeded();
    let md = run_ok(&["handbook", "--database-url", &site.database_url], "");
    let section = md
        .split("## 1e. Incident classification")
        .nth(1)
        .unwrap_or_else(|| panic!("no section 1e:\n{md}"));
    assert!(section.contains(
        "| Level | Urgency | Description | Example scenarios | Response target | \
         Incident declared | Stakeholder updates |"
    ));
    let sev0 = section
        .lines()
        .find(|l| l.starts_with("| Sev 0 |"))
        .expect("a Sev 0 row");
    for cell in [
        "business critical",
        "Unable to check out products already in the cart<br>Data corruption",
        "acknowledged within 5 minutes",
        "at once",
        "every 30 minutes",
    ] {
        assert!(sev0.contains(cell), "{cell:?} missing from {sev0}");
    }
    assert!(
        section.contains("after 15 minutes without progress"),
        "{section}"
    );
    let html = run_ok(
        &["handbook", "--html", "--database-url", &site.database_url],
        "",
    );
    assert!(html.contains("1e. Incident classification"), "{html}");
}

#[test]
fn the_server_engine_declares_a_sev0_on_its_own() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    let integration = [
        "integration",
        "--database-url",
        db,
        "create",
        "--service",
        "checkout-api",
        "--type",
        "generic",
    ];
    let key = run_ok(&integration, "").trim().to_string();
    let token = run_ok(
        &[
            "token",
            "--database-url",
            db,
            "create",
            "--name",
            "t",
            "--role",
            "viewer",
        ],
        "",
    )
    .trim()
    .to_string();
    let server = Served::start(db, &[]);
    let client = reqwest::blocking::Client::new();
    server.wait_ready(&client);
    let sent = client
        .post(server.url("/ingest/generic"))
        .bearer_auth(&key)
        .json(&json!({"summary": "Checkout down", "severity": "critical"}))
        .send()
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    // The engine ticks every second: give it a generous bound on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    let incidents = loop {
        let list: Value = client
            .get(server.url("/api/v1/incidents"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if list.as_array().is_some_and(|a| !a.is_empty()) {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "no incident; stderr:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(incidents[0]["title"], "Checkout down");
    assert_eq!(incidents[0]["source"], "auto");
    assert_eq!(incidents[0]["severity"], "sev0");
}
