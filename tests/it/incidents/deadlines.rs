//! The whole incident flow on a fake clock, driven by the deadline tick the engine runs:
//! a critical alert declares a Sev 0 at once; an error alert declares a Sev 1 after 15
//! minutes only if it is still not resolved; roles are handed out; the update cadence lapses
//! (the Comms Lead is reminded, on the second lapse the IC too) and an update resets it; the
//! IC's on-call week ends (Foo Bar hands over to Jon Doe on Monday 24 June 09:00 London) and
//! they are asked to hand over; resolve. The timeline and the document are snapshotted at
//! each step, on both backends against the same snapshots.

mod group;
mod http;
mod race;

use std::time::Duration;

use tocsin::alerts::{Action, Severity};
use tocsin::catalog::snapshot::Snapshot;
use tocsin::clock::{Clock, FakeClock};
use tocsin::db::Db;
use tocsin::incidents::command::{self, Actor, Ctx, NewUpdate};
use tocsin::incidents::deadlines::{self, Report};
use tocsin::incidents::store::messages::Message;
use tocsin::incidents::{EntryKind, Role, Status, document, store};
use tocsin::oncall::current::local_time;

use crate::alerts::event;
use crate::support::{backends, seed_example, t0};

const BASE: &str = "http://tocsin.test";
const MIN: u64 = 60;

/// Ingests an alert at the clock's now; its id.
async fn alert(db: &Db, clock: &FakeClock, service: &str, sev: Severity, summary: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let mut e = event(Action::Trigger, Some(summary), summary);
    e.severity = Some(sev);
    let out = tocsin::alerts::store::ingest(&mut tx, None, service, &e, clock.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out.alert_id.unwrap()
}

async fn resolve_alert(db: &Db, clock: &FakeClock, id: &str) {
    let mut tx = db.begin().await.unwrap();
    let action = tocsin::alerts::lifecycle::PersonAction::Resolve;
    tocsin::alerts::store::act(&mut tx, id, action, "test", clock.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The flow's state: database, catalog, clock, and the alert ids to hide from snapshots
/// (they are random).
struct Flow<'a> {
    db: &'a Db,
    snap: Snapshot,
    clock: FakeClock,
    alerts: Vec<(String, &'static str)>,
}

impl Flow<'_> {
    async fn tick(&self) -> Report {
        deadlines::tick(self.db, &self.snap, self.clock.now_ms(), BASE)
            .await
            .unwrap()
    }

    fn at(&self, minutes: u64) {
        self.clock.set(t0() + Duration::from_secs(minutes * MIN));
    }

    fn ctx<'c>(&'c self, actor: &'c Actor) -> Ctx<'c> {
        Ctx {
            db: self.db,
            snap: &self.snap,
            now: self.clock.now_ms(),
            actor,
            base_url: BASE,
        }
    }

    fn person(&self, id: &str) -> Actor {
        Actor::person(&self.snap, id)
    }

    fn redact(&self, mut s: String) -> String {
        for (id, name) in &self.alerts {
            s = s.replace(id.as_str(), name);
        }
        // The document's timeline cuts long entries: a cut id ends a table cell. Ids start
        // with their creation instant, so a short cut may fit several alerts.
        for (id, name) in &self.alerts {
            for k in 1..id.len() {
                let cut = &id[..k];
                let fits = self
                    .alerts
                    .iter()
                    .filter(|(i, _)| i.starts_with(cut))
                    .count();
                let name: &str = if fits == 1 { name } else { "<alert>" };
                s = s.replace(&format!("`{cut} |"), &format!("`{name}… |"));
            }
        }
        s
    }

    /// The timeline (one line per entry, London time) and the document, as one snapshot.
    async fn state(&self, id: i64) -> String {
        let full = store::full(self.db, id).await.unwrap();
        let mut out = String::from("TIMELINE\n");
        for e in &full.timeline {
            let star = if e.starred { "★ " } else { "" };
            let when = local_time(e.at, "Europe/London");
            out.push_str(&format!(
                "{when} {star}[{}] {}: {}\n",
                e.kind.as_str(),
                e.actor,
                e.body
            ));
        }
        out.push_str("\nDOCUMENT\n");
        let now = self.clock.now_ms();
        out.push_str(&document::markdown(
            &full,
            &self.snap.catalog,
            "Europe/London",
            now,
        ));
        self.redact(out)
    }

    async fn messages(&self, id: i64) -> Vec<Message> {
        let mut tx = self.db.begin_read().await.unwrap();
        store::messages::for_incident(&mut tx, id).await.unwrap()
    }

    /// Reminder messages of incident `id` to `person`'s catalog email.
    async fn reminders_to(&self, id: i64, person: &str) -> usize {
        let email = &self.snap.person(person).unwrap().email;
        self.messages(id)
            .await
            .iter()
            .filter(|m| &m.target == email && m.subject.contains("stakeholder update was due"))
            .count()
    }
}

#[tokio::test]
async fn alerts_declare_incidents_and_deadlines_keep_them_moving() {
    for b in backends().await {
        let db = &b.db;
        seed_example(db).await;
        let snap = Snapshot::new(tocsin::catalog::store::load(db).await.unwrap());
        let mut f = Flow {
            db,
            snap,
            clock: FakeClock::at(t0()),
            alerts: vec![],
        };
        let backend = b.backend;

        // 10:00 London: a critical alert. Sev 0 declares at once, on the next tick.
        let a = alert(
            db,
            &f.clock,
            "checkout-api",
            Severity::Critical,
            "Checkout error rate above 5%",
        )
        .await;
        f.alerts.push((a.clone(), "<alert A>"));
        let r = f.tick().await;
        assert_eq!(r.declared, vec![1], "{backend}: {r:?}");
        let again = f.tick().await;
        assert_eq!(again, Report::default(), "{backend}: the watch is gone");
        let full = store::full(db, 1).await.unwrap();
        assert_eq!(full.incident.severity, "sev0");
        assert_eq!(full.incident.source, "auto");
        assert_eq!(full.incident.title, "Checkout error rate above 5%");
        assert_eq!(full.alerts, vec![a.clone()]);
        assert_eq!(full.holder(Role::Commander).unwrap().person_id, "foo-bar");
        insta::assert_snapshot!("flow_1_auto_declared", f.state(1).await);

        // Roles on the Sev 0: Jon Doe (not on call this week) is Comms Lead, Jane Doe Ops Lead.
        f.at(5);
        let foo = f.person("foo-bar");
        command::assign(&f.ctx(&foo), 1, Role::Comms, "jon-doe", "", None)
            .await
            .unwrap();
        command::assign(&f.ctx(&foo), 1, Role::Ops, "jane-doe", "", None)
            .await
            .unwrap();

        // 10:06: two error alerts (Sev 1: declared after 15 minutes without progress). One is
        // resolved at 10:10, the other only acknowledged.
        f.at(6);
        let b1 = alert(
            db,
            &f.clock,
            "payment-gateway",
            Severity::Error,
            "Card payments failing for one bank",
        )
        .await;
        let b2 = alert(
            db,
            &f.clock,
            "payment-gateway",
            Severity::Error,
            "Payment latency high",
        )
        .await;
        f.alerts.push((b1.clone(), "<alert B1>"));
        f.alerts.push((b2.clone(), "<alert B2>"));
        f.at(10);
        resolve_alert(db, &f.clock, &b2).await;
        let mut tx = db.begin().await.unwrap();
        let ack = tocsin::alerts::lifecycle::PersonAction::Acknowledge;
        tocsin::alerts::store::act(&mut tx, &b1, ack, "priya-shah", f.clock.now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        f.at(20);
        assert_eq!(
            f.tick().await,
            Report::default(),
            "{backend}: not due before 10:21"
        );
        f.at(21);
        let r = f.tick().await;
        assert_eq!(
            r.declared,
            vec![2],
            "{backend}: acknowledged is not progress: {r:?}"
        );
        assert_eq!(
            r.dropped, 1,
            "{backend}: the resolved alert declares nothing: {r:?}"
        );
        let two = store::full(db, 2).await.unwrap();
        assert_eq!(two.incident.severity, "sev1");
        assert_eq!(two.alerts, vec![b1.clone()]);
        let mut tx = db.begin_read().await.unwrap();
        assert!(
            store::incidents_of_alert(&mut tx, &b2)
                .await
                .unwrap()
                .is_empty()
        );
        drop(tx);
        insta::assert_snapshot!("flow_2_declared_after_15_minutes", f.state(2).await);
        f.at(22);
        let priya = f.person("priya-shah");
        command::set_status(&f.ctx(&priya), 2, Status::Resolved, "Bank fixed its side")
            .await
            .unwrap();

        // The Sev 0's cadence is 30 minutes from the declaration: due 10:30.
        f.at(29);
        assert!(f.tick().await.reminded.is_empty(), "{backend}: not due yet");
        f.at(30);
        assert_eq!(f.tick().await.reminded, vec![1], "{backend}");
        f.at(31);
        assert!(
            f.tick().await.reminded.is_empty(),
            "{backend}: once per period, not per tick"
        );
        assert_eq!(f.reminders_to(1, "jon-doe").await, 1, "{backend}");
        assert_eq!(
            f.reminders_to(1, "foo-bar").await,
            0,
            "{backend}: the IC waits a lapse"
        );
        f.at(60);
        assert_eq!(f.tick().await.reminded, vec![1], "{backend}");
        assert_eq!(f.reminders_to(1, "jon-doe").await, 2, "{backend}");
        assert_eq!(
            f.reminders_to(1, "foo-bar").await,
            1,
            "{backend}: second lapse"
        );
        let i = store::full(db, 1).await.unwrap().incident;
        assert_eq!(
            (i.lapses, i.update_due_at),
            (2, Some(f.clock.now_ms() + 30 * 60_000))
        );
        insta::assert_snapshot!("flow_3_cadence_lapsed_twice", f.state(1).await);

        // 11:02 Jon posts an update: lapses reset, the next is due 11:32.
        f.at(62);
        let jon = f.person("jon-doe");
        let u = NewUpdate {
            status: Some(Status::Identified),
            impact: "Customers cannot check out".into(),
            actions: "Failing over the payments DB".into(),
            next_update_minutes: None,
        };
        command::post_update(&f.ctx(&jon), 1, &u).await.unwrap();
        f.at(90);
        assert!(
            f.tick().await.reminded.is_empty(),
            "{backend}: reset by the update"
        );
        let i = store::full(db, 1).await.unwrap().incident;
        assert_eq!(i.lapses, 0);
        f.at(92);
        assert_eq!(f.tick().await.reminded, vec![1], "{backend}: a new period");
        assert_eq!(store::full(db, 1).await.unwrap().incident.lapses, 1);
        // The fix holds: monitoring, with an update a week out.
        f.at(95);
        let u = NewUpdate {
            status: Some(Status::Monitoring),
            impact: "Checkout works again".into(),
            actions: "Watching the failed-over DB for a week".into(),
            next_update_minutes: Some(7 * 24 * 60),
        };
        command::post_update(&f.ctx(&jon), 1, &u).await.unwrap();
        insta::assert_snapshot!("flow_4_update_resets_cadence", f.state(1).await);

        // Monday 24 June 09:00 London (08:00 UTC) the SRE rotation moves from Foo Bar to Jon
        // Doe. Foo Bar, IC since he was on call, is asked to hand over; Jane Doe and Jon Doe
        // took their roles off call and are not.
        let handoff = 7 * 24 * 60 - 60;
        f.at(handoff - 1);
        assert!(
            f.tick().await.prompted.is_empty(),
            "{backend}: still on call"
        );
        f.at(handoff);
        let r = f.tick().await;
        assert_eq!(r.prompted, vec![1], "{backend}: {r:?}");
        f.at(handoff + 1);
        assert!(f.tick().await.prompted.is_empty(), "{backend}: asked once");
        let full = store::full(db, 1).await.unwrap();
        let prompt = full
            .timeline
            .iter()
            .find(|e| e.kind == EntryKind::HandoverPrompt)
            .expect("a handover prompt");
        assert!(
            prompt.body.contains("suggested successor: Jon Doe"),
            "{}",
            prompt.body
        );
        assert!(
            f.messages(1).await.iter().any(|m| m
                .subject
                .contains("please hand over Incident Commander")
                && m.target == f.snap.person("foo-bar").unwrap().email),
            "{backend}: Foo Bar is told"
        );
        insta::assert_snapshot!("flow_5_handover_prompt", f.state(1).await);

        // Foo Bar hands command to Jon Doe; then resolve.
        f.at(handoff + 5);
        command::assign(
            &f.ctx(&foo),
            1,
            Role::Commander,
            "jon-doe",
            "DB stable for a week",
            None,
        )
        .await
        .unwrap();
        f.at(handoff + 10);
        command::set_status(&f.ctx(&jon), 1, Status::Resolved, "Failover permanent")
            .await
            .unwrap();
        insta::assert_snapshot!("flow_6_resolved", f.state(1).await);
        f.at(handoff + 10_000);
        assert_eq!(
            f.tick().await,
            Report::default(),
            "{backend}: resolved: no deadlines"
        );
    }
}
