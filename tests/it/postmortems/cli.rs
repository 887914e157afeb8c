//! `tocsin postmortem …` as the real binary on a seeded SQLite file: an incident declared and
//! resolved from the command line, its postmortem drafted, written, reviewed and published;
//! refusals are one `error:` line with exit status 2 (wrong request) or 1 (refused by state).

use crate::serve::{Site, run_tocsin};

fn tocsin(db: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec![args[0], "--database-url", db];
    all.extend_from_slice(&args[1..]);
    let out = run_tocsin(&all, "");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tocsin_in(db: &str, args: &[&str], stdin: &str) -> String {
    let mut all = vec![args[0], "--database-url", db];
    all.extend_from_slice(&args[1..]);
    let out = run_tocsin(&all, stdin);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn ok(db: &str, args: &[&str]) -> String {
    let (code, out, err) = tocsin(db, args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

fn refused(db: &str, args: &[&str], code: i32, why: &str) {
    let (got, out, err) = tocsin(db, args);
    assert_eq!(got, code, "{args:?}: {out}{err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: ") && err.contains(why), "{err}");
}

#[test]
fn a_postmortem_from_the_command_line() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    fn pm<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["postmortem"];
        all.extend_from_slice(args);
        all
    }
    let declared = ok(
        db,
        &[
            "incident",
            "declare",
            "--title",
            "Checkout failing",
            "--severity",
            "sev1",
            "--service",
            "checkout-api",
            "--as",
            "foo-bar",
        ],
    );
    let inc = declared.split_whitespace().next().unwrap().to_string();
    refused(db, &pm(&["draft", &inc]), 1, "still investigating");
    ok(
        db,
        &[
            "incident",
            "note",
            &inc,
            "The pool was set to 2 by a config push",
            "--kind",
            "finding",
        ],
    );
    ok(
        db,
        &["incident", "status", &inc, "resolved", "--as", "foo-bar"],
    );

    let out = ok(db, &pm(&["draft", &inc, "--as", "jon-doe"]));
    assert!(
        out.contains("drafted") && out.contains("Action items"),
        "{out}"
    );
    refused(db, &pm(&["draft", &inc]), 1, "already has a postmortem");
    refused(db, &pm(&["submit", &inc]), 1, "required sections are empty");
    refused(
        db,
        &pm(&[
            "action", &inc, "--title", "x", "--type", "blame", "--owner", "adam",
        ]),
        2,
        "unknown type",
    );
    refused(
        db,
        &pm(&[
            "action", &inc, "--title", "x", "--type", "detect", "--owner", "adam", "--due", "soon",
        ]),
        2,
        "YYYY-MM-DD",
    );
    ok(
        db,
        &pm(&[
            "action",
            &inc,
            "--title",
            "Alert on pool saturation",
            "--type",
            "detect",
            "--owner",
            "tom-baker",
            "--due",
            "2030-01-15",
        ]),
    );
    ok(db, &pm(&["reviewer", &inc, "adam"]));
    refused(db, &pm(&["reviewer", &inc, "ghost"]), 2, "unknown person");

    let show = ok(db, &pm(&["show", &inc]));
    assert!(
        show.contains("status: Draft") && show.contains("reviewer: adam (waiting)"),
        "{show}"
    );
    assert!(
        show.contains("action items: 1") && !show.contains("required and empty"),
        "{show}"
    );
    // Sections are written from standard input; blaming words are pointed out.
    let out = tocsin_in(
        db,
        &pm(&["write", &inc, "lessons", "--as", "jon-doe"]),
        "### What went well\n- The rollback was quick.\n### What could be improved\n- Tom was careless.\n",
    );
    assert!(
        out.contains("saved") && out.contains("blameless check: “careless”"),
        "{out}"
    );
    refused(db, &pm(&["write", &inc, "nope"]), 2, "no section");
    let show = ok(db, &pm(&["show", &inc]));
    assert!(show.contains("[lessons] “careless”"), "{show}");
    let show = ok(db, &pm(&["show", &inc]));
    assert!(show.contains("[lessons] “careless”"), "{show}");
    ok(db, &pm(&["submit", &inc, "--as", "jon-doe"]));
    refused(
        db,
        &pm(&["approve", &inc, "--as", "tom-baker"]),
        1,
        "named reviewer",
    );
    ok(db, &pm(&["approve", &inc, "--as", "adam"]));
    let out = ok(db, &pm(&["publish", &inc, "--as", "adam"]));
    assert!(out.contains("published; the incident is closed"), "{out}");
    let list = ok(db, &pm(&["list", "pool"]));
    assert!(
        list.contains("published") && list.contains("Checkout failing"),
        "{list}"
    );
    assert!(ok(db, &pm(&["list", "zebra"])).is_empty());
    let md = ok(db, &pm(&["export", &inc, "--tz", "Europe/Berlin"]));
    assert!(
        md.contains("| Status | Published (") && md.contains("| Time (Europe/Berlin) |"),
        "{md}"
    );
    assert!(md.contains("Alert on pool saturation"), "{md}");
    refused(
        db,
        &pm(&["export", &inc, "--tz", "Mars/Base"]),
        2,
        "unknown time zone",
    );
    let shown = ok(db, &["incident", "show", &inc]);
    assert!(shown.contains("closed"), "{shown}");
}
