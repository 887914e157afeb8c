//! Due-date reminders on a fake clock, run by the engine's deadline tick: the owner a day
//! before and on the due date, daily after; reviewers while it waits for review; none once
//! published. Each reminder is on the incident's timeline and in the owner's inbox once.

use tocsin::db::Db;
use tocsin::incidents::deadlines::tick;
use tocsin::incidents::{EntryKind, store as istore};
use tocsin::postmortems::command;
use tocsin::postmortems::template::Template;

use super::{Cast, complete, ctx, scripted_incident, snapshot, t};
use crate::support::{backends, seed_example};

const DAY: i64 = 24 * 60 * 60_000;

/// Reminder messages of incident `id` to `email`.
async fn reminders_to(db: &Db, id: i64, email: &str) -> usize {
    let mut tx = db.begin_read().await.unwrap();
    istore::messages::for_incident(&mut tx, id)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.target == email && m.subject.contains("Reminder: the postmortem"))
        .count()
}

#[tokio::test]
async fn owners_then_reviewers_are_reminded_until_it_is_published() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = snapshot(db).await;
        let cast = Cast::new(&snap);
        let id = scripted_incident(db, &snap, &cast).await;
        let jon = ctx(db, &snap, t(70), &cast.jon);
        let pm = command::draft_incident(&jon, id, &Template::default())
            .await
            .unwrap();
        let due = pm.postmortem.due_at.unwrap();
        let owner = snap.person("foo-bar").unwrap().email.clone();
        let adam = snap.person("adam").unwrap().email.clone();

        let run = async |now: i64| {
            tick(db, &snap, now, "http://tocsin.test")
                .await
                .unwrap()
                .postmortems_reminded
        };
        assert!(run(t(71)).await.is_empty());
        assert!(
            run(due - DAY - 1).await.is_empty(),
            "not before the day before"
        );
        assert_eq!(run(due - DAY).await, vec![id]);
        assert!(run(due - DAY + 60_000).await.is_empty(), "once");
        assert_eq!(reminders_to(db, id, &owner).await, 1);
        assert_eq!(run(due).await, vec![id], "on the day");
        assert_eq!(reminders_to(db, id, &owner).await, 2);
        let full = istore::full(db, id).await.unwrap();
        let last = full.timeline.last().unwrap();
        assert_eq!(last.kind, EntryKind::Postmortem);
        assert!(last.body.contains("was due"), "{}", last.body);

        // In review: the reviewers who have not approved are reminded, not the owner.
        complete(db, &snap, &cast.jon, id, due + 60_000).await;
        let c = ctx(db, &snap, due + 60_000, &cast.jon);
        command::add_reviewer(&c, id, "adam").await.unwrap();
        command::submit(&c, id).await.unwrap();
        assert!(run(due + DAY - 1).await.is_empty());
        assert_eq!(run(due + DAY).await, vec![id], "daily while overdue");
        assert_eq!(reminders_to(db, id, &adam).await, 1);
        assert_eq!(reminders_to(db, id, &owner).await, 2);

        let a = ctx(db, &snap, due + DAY + 1, &cast.adam);
        command::approve(&a, id).await.unwrap();
        command::publish(&a, id, false).await.unwrap();
        assert!(run(due + 5 * DAY).await.is_empty(), "published: no more");
    }
}
