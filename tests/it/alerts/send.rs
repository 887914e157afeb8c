//! `tocsin alert send` against a real `tocsin serve` on a loopback port (SQLite), as a script
//! would use it: trigger with details, repeat with the key from the environment, resolve, and
//! the refusals (a wrong key, a body the server rejects, bad arguments) with their exit codes.
//! Also `tocsin contact` against the same kind of database file.

use std::process::Output;

use serde_json::Value;

use crate::serve::{Served, Site, browser_like_client, run_ok, run_tocsin, tocsin_command};

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn alert_send_posts_to_a_real_server_and_reports_its_answer() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    let create = [
        "integration",
        "--database-url",
        db,
        "create",
        "--service",
        "checkout-api",
        "--type",
        "generic",
    ];
    let key = run_ok(&create, "").trim().to_string();
    let token = run_ok(
        &[
            "token",
            "--database-url",
            db,
            "create",
            "--name",
            "reader",
            "--role",
            "viewer",
        ],
        "",
    );
    let token = token.trim().to_string();
    let server = Served::start(db, &[]);
    let client = browser_like_client();
    server.wait_ready(&client);
    let base = server.base.clone();

    let out = run_ok(
        &[
            "alert",
            "send",
            "--url",
            &base,
            "--key",
            &key,
            "--summary",
            "Disk 95% full",
            "--severity",
            "warning",
            "--dedup-key",
            "db-1/disk",
            "--source",
            "db-1",
            "--detail",
            "used=95%",
            "--detail",
            "mount=/var",
        ],
        "",
    );
    assert!(out.contains(" created (dedup key db-1/disk)"), "{out}");
    let id = out.split_whitespace().nth(1).expect("alert id").to_string();
    let get = |path: &str| -> Value {
        client
            .get(server.url(path))
            .bearer_auth(&token)
            .send()
            .expect("GET")
            .json()
            .expect("JSON")
    };
    let alert = get(&format!("/api/v1/alerts/{id}"));
    assert_eq!(alert["summary"], "Disk 95% full", "{alert}");
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["source"], "db-1");
    assert_eq!(alert["service"], "checkout-api");
    assert_eq!(alert["details"]["used"], "95%");
    assert_eq!(alert["details"]["mount"], "/var");

    // The key from the environment; a repeat of the same key updates the same alert.
    let repeat = tocsin_command(&[
        "alert",
        "send",
        "--url",
        &base,
        "--summary",
        "Disk 96% full",
        "--dedup-key",
        "db-1/disk",
    ])
    .env("TOCSIN_INTEGRATION_KEY", &key)
    .output()
    .expect("run");
    let (stdout, stderr) = text(&repeat);
    assert!(repeat.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("alert {id} updated (dedup key db-1/disk)")
    );
    let resolve = run_ok(
        &[
            "alert",
            "send",
            "--url",
            &format!("{base}/"),
            "--key",
            &key,
            "--action",
            "resolve",
            "--dedup-key",
            "db-1/disk",
        ],
        "",
    );
    assert!(resolve.contains(&id), "{resolve}");
    let alert = get(&format!("/api/v1/alerts/{id}"));
    assert_eq!(alert["status"], "resolved", "{alert}");
    assert_eq!(alert["event_count"], 2, "{alert}");

    // Refusals: the server's reason and exit 1; our own argument checks exit 2.
    let wrong = run_tocsin(
        &[
            "alert",
            "send",
            "--url",
            &base,
            "--key",
            "tcn_wrong",
            "--summary",
            "x",
        ],
        "",
    );
    let (stdout, stderr) = text(&wrong);
    assert_eq!(wrong.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("401") && stderr.contains("authentication required"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tcn_wrong"),
        "the key is never printed: {stderr}"
    );
    let refused = run_tocsin(&["alert", "send", "--url", &base, "--key", &key], "");
    let (_, stderr) = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("400") && stderr.contains("summary: required for a trigger"),
        "{stderr}"
    );
    for (args, why) in [
        (vec!["--summary", "x"], "no key"),
        (
            vec!["--key", "k", "--summary", "x", "--detail", "novalue"],
            "detail without =",
        ),
        (
            vec!["--key", "k", "--summary", "x", "--severity", "fatal"],
            "unknown severity",
        ),
    ] {
        let mut all = vec!["alert", "send", "--url", &base];
        all.extend(args);
        let o = run_tocsin(&all, "");
        assert_eq!(o.status.code(), Some(2), "{why}: {:?}", text(&o));
    }
    let no_server = run_tocsin(
        &[
            "alert",
            "send",
            "--url",
            "http://127.0.0.1:9",
            "--key",
            "k",
            "--summary",
            "x",
        ],
        "",
    );
    let (_, stderr) = text(&no_server);
    assert_eq!(no_server.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot send"), "{stderr}");
}

#[test]
fn the_contact_commands_add_list_and_remove() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    let contact = |args: &[&str]| {
        let mut all = vec!["contact", "--database-url", db];
        all.extend_from_slice(args);
        run_tocsin(&all, "")
    };
    let ok = |args: &[&str]| {
        let o = contact(args);
        let (stdout, stderr) = text(&o);
        assert!(o.status.success(), "contact {args:?}: {stdout}{stderr}");
        stdout
    };
    let slack = ok(&[
        "add",
        "jon-doe",
        "--kind",
        "slack",
        "--target",
        "https://hooks.slack.com/services/T/B/X",
    ]);
    let slack_id = slack.split_whitespace().next().unwrap().to_string();
    let hook = ok(&[
        "add",
        "jon-doe",
        "--kind",
        "webhook",
        "--target",
        "https://hooks.example/jon",
    ]);
    assert!(
        hook.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("tcn_whsec_")),
        "{hook}"
    );
    let hook_id = hook.split_whitespace().next().unwrap().to_string();
    ok(&[
        "rule", "add", "jon-doe", "--method", &slack_id, "--after", "0",
    ]);
    let rule = ok(&[
        "rule", "add", "jon-doe", "--method", &hook_id, "--after", "2m",
    ]);
    let rule_id = rule.split_whitespace().next().unwrap().to_string();
    let listed = ok(&["list", "jon-doe"]);
    assert!(
        listed.contains("when paged: Slack at once, webhook after 2 minutes."),
        "{listed}"
    );
    assert!(
        !listed.contains("tcn_whsec_"),
        "secrets are never listed: {listed}"
    );

    for (args, code) in [
        (
            vec![
                "add",
                "nobody",
                "--kind",
                "email",
                "--target",
                "a@b.example",
            ],
            1,
        ),
        (
            vec!["add", "jon-doe", "--kind", "sms", "--target", "+44"],
            2,
        ),
        (
            vec!["add", "jon-doe", "--kind", "email", "--target", "nope"],
            2,
        ),
        (
            vec![
                "rule", "add", "jon-doe", "--method", &slack_id, "--after", "soon",
            ],
            2,
        ),
        (
            vec![
                "rule", "add", "jon-doe", "--method", &slack_id, "--after", "0",
            ],
            1,
        ),
        (
            vec![
                "rule", "add", "foo-bar", "--method", &slack_id, "--after", "1",
            ],
            1,
        ),
        (vec!["remove", "no-such-id"], 1),
    ] {
        let o = contact(&args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "contact {args:?}: {:?}",
            text(&o)
        );
    }

    ok(&["rule", "remove", &rule_id]);
    ok(&["remove", &hook_id]);
    let listed = ok(&["list", "jon-doe"]);
    assert!(listed.contains("when paged: Slack at once."), "{listed}");
    assert!(!listed.contains(&hook_id), "{listed}");
}
