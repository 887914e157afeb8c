//! `tocsin report` as an operator runs it: the real binary against a database set up with
//! `tocsin apply` of the example files (SLOs included) and the scripted September.

use crate::serve::{Site, run_ok, run_tocsin};

/// A seeded site with the scripted history written into it.
pub fn site_with_history() -> Site {
    let site = Site::seeded();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let db = tocsin::app::open_db(&site.database_url)
            .await
            .expect("open");
        super::seed::history(&db).await;
        db.close().await;
    });
    site
}

#[test]
fn the_report_command_prints_text_and_json() {
    let site = site_with_history();
    let db = site.database_url.as_str();
    let period = ["--from", "2026-09-01", "--to", "2026-09-30"];
    let mut args = vec!["report", "response", "--database-url", db];
    args.extend(period);
    let text = run_ok(&args, "");
    assert!(
        text.starts_with("Response times — 2026-09-01T00:00:00Z to 2026-10-01T00:00:00Z"),
        "{text}"
    );
    // Group, incidents, MTTA 19 min, median 9 min, declare 11 min (11 min 40 s), median 10.
    let overall = text
        .lines()
        .find(|l| l.starts_with("All incidents  "))
        .expect("overall row");
    let cells: Vec<&str> = overall
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "All incidents",
            "3",
            "19 min",
            "9 min",
            "11 min",
            "10 min",
            "1 h 30 min",
            "1 h 30 min"
        ],
        "{text}"
    );

    let mut args = vec!["report", "oncall", "--format", "json", "--database-url", db];
    args.extend(period);
    let json: serde_json::Value = serde_json::from_str(&run_ok(&args, "")).expect("json");
    assert_eq!(json["report"]["people"][0]["person"], "jane-doe");
    assert_eq!(json["report"]["people"][0]["pages_out_of_hours"], 1);

    let mut args = vec!["report", "--database-url", db];
    args.extend(period);
    let all = run_ok(&args, "");
    for title in [
        "Response times",
        "Incidents by service and tier",
        "On-call load",
        "Response-target breaches",
        "Top alerts",
    ] {
        assert!(all.contains(title), "{title} in:\n{all}");
    }

    for bad in [
        vec!["report", "nope", "--database-url", db],
        vec!["report", "response", "--from", "soon", "--database-url", db],
        vec![
            "report",
            "response",
            "--service",
            "nope",
            "--database-url",
            db,
        ],
    ] {
        let out = run_tocsin(&bad, "");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{bad:?}"
        );
    }
}
