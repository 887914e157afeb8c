//! The `/incident` language: references in either place, flags, updates split into impact
//! and actions, refusals that say what to type, and the chat-user-to-person rule.

use super::*;

fn ok(text: &str) -> Parsed {
    parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn references_come_first_or_after_the_command() {
    let a = ok("INC-12 status monitoring fix deployed");
    let b = ok("status #12 monitoring fix deployed");
    assert_eq!(a, b);
    assert_eq!(a.incident, Some(12));
    assert_eq!(
        a.command,
        Command::Status {
            to: Status::Monitoring,
            note: "fix deployed".into()
        }
    );
    // A bare number is an argument, not a reference.
    assert_eq!(ok("sev 1").incident, None);
    assert_eq!(ok("sev 1").command, Command::Severity("1".into()));
    assert_eq!(ok("note fine").incident, None);
}

#[test]
fn declare_takes_flags_anywhere() {
    let p = ok("declare Checkout --sev sev0 is down --service checkout-api --service=cart");
    assert_eq!(p.incident, None);
    assert_eq!(
        p.command,
        Command::Declare {
            title: "Checkout is down".into(),
            severity: Some("sev0".into()),
            services: vec!["checkout-api".into(), "cart".into()],
        }
    );
    // A title that looks like a reference stays a title.
    let p = ok("declare #1 priority: checkout");
    assert!(
        matches!(p.command, Command::Declare { ref title, .. } if title == "#1 priority: checkout")
    );
    assert!(parse("declare --sev sev0").unwrap_err().contains("usage"));
    assert!(
        parse("declare x --sev")
            .unwrap_err()
            .contains("--sev needs")
    );
}

#[test]
fn roles_notes_and_the_rest() {
    assert_eq!(
        ok("ic @Jon.Doe").command,
        Command::Role {
            role: Role::Commander,
            person: "Jon.Doe".into()
        }
    );
    assert_eq!(
        ok("cl me").command,
        Command::Role {
            role: Role::Comms,
            person: "me".into()
        }
    );
    assert_eq!(
        ok("note line one\nline *two*").command,
        Command::Note("line one\nline *two*".into())
    );
    assert_eq!(ok("resolve").command, Command::Resolve(String::new()));
    assert_eq!(ok("").command, Command::Help);
    assert_eq!(ok("DOC").command, Command::Doc);
    let link = ok("link INC-4");
    assert_eq!((link.incident, link.command), (Some(4), Command::Link));
}

#[test]
fn refusals_say_what_to_type() {
    for (text, needle) in [
        ("status fixed", "investigating, identified"),
        ("sev", "usage"),
        ("ic", "usage"),
        ("note   ", "usage"),
        ("update", "usage"),
        ("link", "link INC-12"),
        ("frobnicate now", "unknown command `frobnicate`"),
    ] {
        let e = parse(text).unwrap_err();
        assert!(e.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn updates_split_into_impact_and_actions() {
    assert_eq!(
        split_update("Checkout fails for 20% of users. Actions: failing over the DB"),
        (
            "Checkout fails for 20% of users.".into(),
            "failing over the DB".into()
        )
    );
    assert_eq!(
        split_update("doing: rolling back | impact: search is slow"),
        ("search is slow".into(), "rolling back".into())
    );
    assert_eq!(
        split_update("Impact: none yet"),
        ("none yet".into(), String::new())
    );
    // A label inside a word is text.
    assert_eq!(
        split_update("redoing: nothing"),
        ("redoing: nothing".into(), String::new())
    );
}

#[test]
fn chat_users_are_people_by_id_or_email_local_part() {
    let catalog = Catalog {
        people: vec![crate::people::Person {
            id: "jon-doe".into(),
            name: "Jon Doe".into(),
            email: "jon.doe@shop.example".into(),
            time_zone: "UTC".into(),
            title: String::new(),
            teams: vec![],
        }],
        ..Catalog::default()
    };
    assert_eq!(
        person_named(&catalog, "jon-doe").as_deref(),
        Some("jon-doe")
    );
    assert_eq!(
        person_named(&catalog, "Jon.Doe").as_deref(),
        Some("jon-doe")
    );
    assert_eq!(
        person_named(&catalog, "@jon.doe").as_deref(),
        Some("jon-doe")
    );
    assert_eq!(person_named(&catalog, "jon"), None);
    assert_eq!(person_named(&catalog, ""), None);
}
