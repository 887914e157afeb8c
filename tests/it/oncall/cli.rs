//! `tocsin oncall` and `tocsin override add | list | remove`, run as the real binary on a
//! seeded SQLite file.

use crate::serve::{Site, run_ok, run_tocsin};

/// A local `YYYY-MM-DDTHH:MM` in London, `days` from the real now: the CLI reads the system
/// clock, and overrides must not be entirely in the past.
fn london_in(days: i64, hour: i8) -> String {
    let tz = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let date = jiff::Timestamp::now().to_zoned(tz).date();
    let day = date.checked_add(jiff::Span::new().days(days)).unwrap();
    format!("{}T{hour:02}:00", day)
}

#[test]
fn the_cli_shows_who_is_on_call_and_manages_overrides() {
    let site = Site::seeded();
    let db = site.database_url.as_str();
    let out = run_ok(
        &[
            "oncall",
            "--database-url",
            db,
            "--at",
            "2024-06-18T12:00+01:00",
        ],
        "",
    );
    assert!(
        out.contains("SRE primary") && out.contains("Foo Bar"),
        "{out}"
    );
    assert!(
        out.contains("Mon 24 Jun 09:00 BST"),
        "until, in London time: {out}"
    );
    let out = run_ok(
        &[
            "oncall",
            "--database-url",
            db,
            "--schedule",
            "sre-primary",
            "--at",
            "2024-06-25T12:00",
        ],
        "",
    );
    assert!(out.contains("Jon Doe") && !out.contains("Foo Bar"), "{out}");
    let out = run_ok(
        &[
            "oncall",
            "--database-url",
            db,
            "--service",
            "checkout-api",
            "--at",
            "2024-06-18T12:00",
        ],
        "",
    );
    for want in [
        "Level 0",
        "Foo Bar",
        "On call: SRE primary",
        "Level 1",
        "Adam",
        "Manager",
        "Jacob",
        "Sr Manager",
    ] {
        assert!(out.contains(want), "{want:?} in {out}");
    }

    let (from, to) = (london_in(2, 9), london_in(2, 17));
    let out = run_ok(
        &[
            "override",
            "--database-url",
            db,
            "add",
            "--schedule",
            "sre-primary",
            "--person",
            "noor-haddad",
            "--from",
            &from,
            "--to",
            &to,
            "--reason",
            "swap",
        ],
        "",
    );
    assert!(out.starts_with("created override "), "{out}");
    let id = out["created override ".len()..]
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let at = london_in(2, 12);
    let now = run_ok(
        &[
            "oncall",
            "--database-url",
            db,
            "--schedule",
            "sre-primary",
            "--at",
            &at,
        ],
        "",
    );
    assert!(now.contains("Noor Haddad"), "{now}");
    let list = run_ok(
        &[
            "override",
            "--database-url",
            db,
            "list",
            "--schedule",
            "sre-primary",
        ],
        "",
    );
    assert!(
        list.contains(&id) && list.contains("Noor Haddad") && list.contains("(swap)"),
        "{list}"
    );

    let bad = run_tocsin(
        &[
            "override",
            "--database-url",
            db,
            "add",
            "--schedule",
            "sre-primary",
            "--person",
            "noor-haddad",
            "--from",
            &to,
            "--to",
            &from,
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("must be after the start"));
    let bad = run_tocsin(&["oncall", "--database-url", db, "--at", "whenever"], "");
    assert_eq!(bad.status.code(), Some(1));

    let out = run_ok(&["override", "--database-url", db, "remove", &id], "");
    assert!(out.contains(&format!("removed override {id}")), "{out}");
    let list = run_ok(&["override", "--database-url", db, "list"], "");
    assert!(list.contains("no current or upcoming overrides"), "{list}");
    let again = run_tocsin(&["override", "--database-url", db, "remove", &id], "");
    assert_eq!(again.status.code(), Some(1));
}
