//! Postmortems through their commands on both backends: a scripted incident drafted into every
//! section (snapshot), the review workflow with its permissions, publication closing the
//! incident, and due-date reminders on a fake clock.

mod actions_page;
mod api;
mod backlog;
mod browser;
mod cli;
mod demo;
mod reminders;
mod web;

use tocsin::alerts::{Action, Severity};
use tocsin::catalog::snapshot::Snapshot;
use tocsin::db::Db;
use tocsin::incidents::command::{self as ic, Actor, Ctx, Declaration, NewNote, NewUpdate};
use tocsin::incidents::{EntryKind, Role, Status, store as istore};
use tocsin::postmortems::command::{self, ActionInput};
use tocsin::postmortems::template::Template;
use tocsin::postmortems::{PmStatus, PostmortemError, render, store};

use crate::alerts::event;
use crate::support::{backends, seed_example, t0};

const MIN: i64 = 60_000;

pub fn t(minutes: i64) -> i64 {
    t0().as_millisecond() + minutes * MIN
}

pub async fn snapshot(db: &Db) -> Snapshot {
    Snapshot::new(tocsin::catalog::store::load(db).await.unwrap())
}

/// The people of the script, as actors.
pub struct Cast {
    pub jon: Actor,
    pub jane: Actor,
    pub adam: Actor,
    pub tom: Actor,
}

impl Cast {
    pub fn new(snap: &Snapshot) -> Self {
        Self {
            jon: Actor::person(snap, "jon-doe"),
            jane: Actor::person(snap, "jane-doe"),
            adam: Actor::person(snap, "adam"),
            tom: Actor::person(snap, "tom-baker"),
        }
    }
}

pub fn ctx<'a>(db: &'a Db, snap: &'a Snapshot, now: i64, actor: &'a Actor) -> Ctx<'a> {
    Ctx {
        db,
        snap,
        now,
        actor,
        base_url: "http://tocsin.test",
    }
}

/// A Sev 1 on checkout: an error alert at 09:00 (30-minute target), declared at 09:10 by Jon,
/// acknowledged late at 09:35, a finding and a decision starred, a question left open, an
/// update, identified at 09:40, resolved at 10:02. Returns the incident's id.
pub async fn scripted_incident(db: &Db, snap: &Snapshot, cast: &Cast) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let mut e = event(Action::Trigger, Some("k1"), "checkout errors above 5%");
    e.severity = Some(Severity::Error);
    let alert = tocsin::alerts::store::ingest(&mut tx, None, "checkout-api", &e, t(0))
        .await
        .unwrap()
        .alert_id
        .unwrap();
    tocsin::engine::store::set_response_due(&mut tx, &alert, t(0))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let d = Declaration {
        title: "Checkout failing".into(),
        severity: Some("sev1".into()),
        alerts: vec![alert.clone()],
        ..Declaration::default()
    };
    let id = ic::declare(&ctx(db, snap, t(10), &cast.jon), &d, "web")
        .await
        .unwrap()
        .id;
    ic::assign(
        &ctx(db, snap, t(12), &cast.jon),
        id,
        Role::Ops,
        "jane-doe",
        "",
        None,
    )
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    tocsin::alerts::store::acknowledge(&mut tx, &alert, "Jane Doe", t(35))
        .await
        .unwrap();
    tocsin::engine::store::breach_if_late(&mut tx, &alert, t(35))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let note = |kind: EntryKind, body: &str, starred: bool| NewNote {
        kind,
        body: body.into(),
        link_url: None,
        image_url: None,
        starred,
    };
    let jane = ctx(db, snap, t(30), &cast.jane);
    ic::add_entry(
        &jane,
        id,
        &note(
            EntryKind::Finding,
            "A config push set the connection pool to 2",
            true,
        ),
    )
    .await
    .unwrap();
    ic::add_entry(
        &jane,
        id,
        &note(EntryKind::Decision, "Roll back the config push", true),
    )
    .await
    .unwrap();
    ic::add_entry(
        &jane,
        id,
        &note(
            EntryKind::Question,
            "Why did the canary not catch it?",
            false,
        ),
    )
    .await
    .unwrap();
    let u = NewUpdate {
        impact: "About 40% of checkouts fail".into(),
        actions: "Rolling back the config push".into(),
        ..NewUpdate::default()
    };
    ic::post_update(&ctx(db, snap, t(32), &cast.jon), id, &u)
        .await
        .unwrap();
    ic::set_status(
        &ctx(db, snap, t(40), &cast.jane),
        id,
        Status::Identified,
        "",
    )
    .await
    .unwrap();
    ic::set_status(&ctx(db, snap, t(62), &cast.jon), id, Status::Resolved, "")
        .await
        .unwrap();
    id
}

/// Fills every required section the draft could not (the action item makes that one).
pub async fn complete(db: &Db, snap: &Snapshot, actor: &Actor, id: i64, now: i64) {
    let c = ctx(db, snap, now, actor);
    let pm = store::full(db, id).await.unwrap();
    for s in pm.sections.iter().filter(|s| s.required) {
        if tocsin::postmortems::workflow::is_blank(&s.body) {
            command::edit_section(&c, id, &s.key, "Written by the author.")
                .await
                .unwrap();
        }
    }
    let item = ActionInput {
        title: Some("Validate pool settings before a config push".into()),
        kind: Some("prevent".into()),
        owner: Some("tom-baker".into()),
        due_at: Some(now + 14 * 24 * 60 * MIN),
        ..ActionInput::default()
    };
    command::add_action(&c, id, &item).await.unwrap();
}

#[tokio::test]
async fn a_draft_fills_every_section_from_the_incident() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = snapshot(db).await;
        let cast = Cast::new(&snap);
        let id = scripted_incident(db, &snap, &cast).await;
        let c = ctx(db, &snap, t(70), &cast.jon);
        let pm = command::draft_incident(&c, id, &Template::default())
            .await
            .unwrap();
        assert_eq!(pm.postmortem.status, PmStatus::Draft);
        // Foo Bar, on call that week, was the first Incident Commander: the owner.
        assert_eq!(pm.postmortem.owner, "foo-bar");
        // Sev 1: 10 business days after Monday 10:02.
        assert_eq!(pm.postmortem.due_at, Some(t(62) + 14 * 24 * 60 * MIN));
        let full = istore::full(db, id).await.unwrap();
        let md = render::markdown(&pm, &full, &snap.catalog, "Europe/London", t(70));
        // Alert ids are random; the rest is fixed by the script.
        let stable = md
            .replace(&full.alerts[0], "ALERT")
            .replace(&format!("INC-{id}"), "INC-N");
        insta::assert_snapshot!("postmortem_draft", stable);
        // The timeline goes to the reader's zone: Toronto is five hours behind London.
        let toronto = render::markdown(&pm, &full, &snap.catalog, "America/Toronto", t(70));
        assert!(
            md.contains("| Mon 17 Jun 10:30 BST | A config push set the connection pool to 2 |")
        );
        assert!(
            toronto
                .contains("| Mon 17 Jun 05:30 EDT | A config push set the connection pool to 2 |")
        );
        assert_eq!(
            full.timeline.last().map(|e| e.kind),
            Some(EntryKind::Postmortem)
        );

        let again = command::draft_incident(&c, id, &Template::default()).await;
        assert!(
            matches!(again, Err(PostmortemError::Conflict(_))),
            "{again:?}"
        );
    }
}

#[tokio::test]
async fn only_a_resolved_incident_is_drafted() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = snapshot(db).await;
        let cast = Cast::new(&snap);
        let d = Declaration {
            title: "Search slow".into(),
            severity: Some("sev2".into()),
            services: vec!["catalog-api".into()],
            ..Declaration::default()
        };
        let c = ctx(db, &snap, t(0), &cast.jon);
        let i = ic::declare(&c, &d, "web").await.unwrap();
        let r = command::draft_incident(&c, i.id, &Template::default()).await;
        assert!(
            matches!(&r, Err(PostmortemError::Conflict(m)) if m.contains("still investigating")),
            "{r:?}"
        );
        let r = command::draft_incident(&c, 999, &Template::default()).await;
        assert!(matches!(r, Err(PostmortemError::Invalid(_))), "{r:?}");
        assert!(store::full(db, i.id).await.is_err(), "nothing written");
    }
}

#[tokio::test]
async fn review_workflow_and_who_may_do_what() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = snapshot(db).await;
        let cast = Cast::new(&snap);
        let id = scripted_incident(db, &snap, &cast).await;
        let jon = ctx(db, &snap, t(70), &cast.jon);
        command::draft_incident(&jon, id, &Template::default())
            .await
            .unwrap();

        // Submitting: required sections first, then a reviewer.
        let r = command::submit(&jon, id).await;
        let Err(PostmortemError::Conflict(m)) = r else {
            panic!("{r:?}")
        };
        assert!(
            m.contains("Action items") && m.contains("required sections are empty"),
            "{m}"
        );
        complete(db, &snap, &cast.jon, id, t(80)).await;
        let r = command::submit(&jon, id).await;
        assert!(
            matches!(&r, Err(PostmortemError::Conflict(m)) if m.contains("reviewer")),
            "{r:?}"
        );
        let r = command::add_reviewer(&jon, id, "foo-bar").await;
        assert!(
            matches!(r, Err(PostmortemError::Invalid(_))),
            "the owner reviews nothing"
        );
        let r = command::add_reviewer(&jon, id, "nobody").await;
        assert!(matches!(r, Err(PostmortemError::Invalid(_))));
        command::add_reviewer(&jon, id, "adam").await.unwrap();
        command::add_reviewer(&jon, id, "jane-doe").await.unwrap();

        // Approving a draft is refused.
        let adam = ctx(db, &snap, t(90), &cast.adam);
        assert!(matches!(
            command::approve(&adam, id).await,
            Err(PostmortemError::Forbidden(_))
        ));
        command::submit(&jon, id).await.unwrap();
        let pm = store::full(db, id).await.unwrap();
        assert_eq!(pm.postmortem.status, PmStatus::InReview);
        // Each reviewer was asked, by email (no contact methods in the example).
        let mut tx = db.begin_read().await.unwrap();
        let msgs = istore::messages::for_incident(&mut tx, id).await.unwrap();
        drop(tx);
        for who in ["adam", "jane-doe"] {
            let email = &snap.person(who).unwrap().email;
            assert!(
                msgs.iter()
                    .any(|m| &m.target == email && m.subject.contains("Please review")),
                "{who} asked"
            );
        }

        // Only named reviewers approve; the owner does not.
        let tom = ctx(db, &snap, t(90), &cast.tom);
        assert!(matches!(
            command::approve(&tom, id).await,
            Err(PostmortemError::Forbidden(_))
        ));
        command::approve(&adam, id).await.unwrap();
        assert!(matches!(
            command::approve(&adam, id).await,
            Err(PostmortemError::Forbidden(_))
        ));
        // Publishing waits for every approval.
        let r = command::publish(&adam, id, false).await;
        assert!(
            matches!(&r, Err(PostmortemError::Conflict(m)) if m.contains("jane-doe")),
            "{r:?}"
        );
        // A comment, then an edit: the words changed, so approvals start over.
        command::comment(&adam, id, "summary", "Say how many orders failed.")
            .await
            .unwrap();
        command::edit_section(
            &jon,
            id,
            "summary",
            "Checkout failed for 40% of orders for 52 minutes.",
        )
        .await
        .unwrap();
        let pm = store::full(db, id).await.unwrap();
        assert!(pm.reviewers.iter().all(|r| r.approved_at.is_none()));
        assert_eq!(pm.comments.len(), 1);
        assert_eq!(pm.comments[0].section, "summary");

        // Changes requested: back to draft, with the comment on its section.
        let jane = ctx(db, &snap, t(95), &cast.jane);
        command::request_changes(&jane, id, Some(("impact", "Add the orders lost.")))
            .await
            .unwrap();
        assert_eq!(
            store::full(db, id).await.unwrap().postmortem.status,
            PmStatus::Draft
        );
        command::submit(&jon, id).await.unwrap();
        command::approve(&adam, id).await.unwrap();
        command::approve(&jane, id).await.unwrap();

        // Someone neither owner nor reviewer may not publish; an admin may.
        let r = command::publish(&tom, id, false).await;
        assert!(matches!(r, Err(PostmortemError::Forbidden(_))), "{r:?}");
        let later = ctx(db, &snap, t(100), &cast.jane);
        command::publish(&later, id, false).await.unwrap();
        let pm = store::full(db, id).await.unwrap();
        assert_eq!(pm.postmortem.status, PmStatus::Published);
        assert_eq!(pm.postmortem.published_at, Some(t(100)));
        assert_eq!(pm.postmortem.remind_at, None);
        let i = istore::full(db, id).await.unwrap().incident;
        assert_eq!((i.status, i.closed_at), (Status::Closed, Some(t(100))));

        // Published is read-only; its action items still move.
        let r = command::edit_section(&later, id, "summary", "changed").await;
        assert!(matches!(r, Err(PostmortemError::Conflict(_))), "{r:?}");
        assert!(matches!(
            command::comment(&later, id, "summary", "late").await,
            Err(PostmortemError::Conflict(_))
        ));
        let aid = pm.actions[0].id;
        let done = ActionInput {
            status: Some("done".into()),
            ..ActionInput::default()
        };
        let a = command::update_action(&later, id, aid, &done)
            .await
            .unwrap();
        assert!(a.is_done());
        assert!(matches!(
            command::delete_action(&later, id, aid).await,
            Err(PostmortemError::Conflict(_))
        ));
        // And the incident cannot be reopened.
        let r = ic::set_status(&later, id, Status::Investigating, "").await;
        assert!(r.is_err());
    }
}

#[tokio::test]
async fn action_items_are_checked_against_the_catalog() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = snapshot(db).await;
        let cast = Cast::new(&snap);
        let id = scripted_incident(db, &snap, &cast).await;
        let c = ctx(db, &snap, t(70), &cast.jon);
        command::draft_incident(&c, id, &Template::default())
            .await
            .unwrap();
        let base = ActionInput {
            title: Some("Add a canary check".into()),
            kind: Some("detect".into()),
            owner: Some("priya-shah".into()),
            ..ActionInput::default()
        };
        let a = command::add_action(&c, id, &base).await.unwrap();
        assert_eq!(a.team, "payments", "the owner's first team");
        for (bad, field) in [
            (
                ActionInput {
                    kind: Some("blame".into()),
                    ..base.clone()
                },
                "type",
            ),
            (
                ActionInput {
                    owner: Some("ghost".into()),
                    ..base.clone()
                },
                "person",
            ),
            (
                ActionInput {
                    team: Some("ghosts".into()),
                    ..base.clone()
                },
                "team",
            ),
            (
                ActionInput {
                    title: Some(" ".into()),
                    ..base.clone()
                },
                "title",
            ),
            (
                ActionInput {
                    owner: None,
                    ..base.clone()
                },
                "owner",
            ),
        ] {
            let r = command::add_action(&c, id, &bad).await;
            assert!(
                matches!(&r, Err(PostmortemError::Invalid(m)) if m.contains(field)),
                "{field}: {r:?}"
            );
        }
        assert_eq!(store::full(db, id).await.unwrap().actions.len(), 1);
    }
}
