//! The pure plan of an ingest batch (`alerts::bulk` runs it). A batch's events are cut into
//! [`Segment`]s: runs of triggers, which are written with a few set-based statements, and
//! acknowledge or resolve events, each applied alone through the per-event path
//! (`rules::ingest`). Triggers are the common case (every Alertmanager re-send is one);
//! acknowledgements and resolves touch escalations, breaches and incident timelines, and stay
//! on the one path that already does all of that. Cutting at them keeps the order of events:
//! a segment is planned only after everything before it is written.
//!
//! [`plan`] decides, for a run of triggers in order, what `lifecycle::decide` decides one by
//! one: a trigger whose (service, key) has an open alert, found before the run or created by
//! an earlier trigger of the run, repeats it (counted, last event now, the auto-resolve deadline
//! moved to this event's); otherwise it creates one. So a key sent twice in a batch is one
//! alert with a count of two, as if the two had come in two transactions.

use std::collections::HashMap;
use std::ops::Range;

use super::Action;

/// A piece of a batch, by event index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Consecutive triggers, planned and written together.
    Triggers(Range<usize>),
    /// One acknowledge or resolve, applied alone.
    Alone(usize),
}

/// Cuts a batch with these actions, in order, into segments.
pub fn segments(actions: impl IntoIterator<Item = Action>) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut start = None;
    let mut n = 0;
    for (i, action) in actions.into_iter().enumerate() {
        n = i + 1;
        if action == Action::Trigger {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(Segment::Triggers(s..i));
        }
        out.push(Segment::Alone(i));
    }
    if let Some(s) = start {
        out.push(Segment::Triggers(s..n));
    }
    out
}

/// One trigger of a run, as the rules routed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger<'a> {
    pub service: &'a str,
    /// Trimmed, or generated for a trigger that came without one.
    pub key: &'a str,
    /// Its auto-resolve deadline (`rules::auto_resolve_at`).
    pub deadline: Option<i64>,
}

/// An open alert found (and locked) before the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    pub id: String,
    pub event_count: i64,
}

/// An alert the run writes: a new one to insert, or an open one to update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub id: String,
    /// The trigger that creates it; None for an alert that was already open.
    pub created_by: Option<usize>,
    /// Its count after the run.
    pub event_count: i64,
    /// Its auto-resolve deadline after the run: the last trigger's that reached it.
    pub auto_resolve_at: Option<i64>,
}

/// What one trigger does, by index into [`Plan::alerts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Create(usize),
    Repeat(usize),
}

/// The run's decisions: one step per trigger, in order, and every alert it writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub alerts: Vec<Planned>,
}

/// Plans a run of `triggers` against `open`, keyed by (service, key); `new_id` names each
/// new alert.
pub fn plan(
    triggers: &[Trigger<'_>],
    open: &HashMap<(String, String), Open>,
    mut new_id: impl FnMut() -> String,
) -> Plan {
    let mut plan = Plan::default();
    let mut current: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, t) in triggers.iter().enumerate() {
        let step = match current.get(&(t.service, t.key)) {
            Some(&a) => {
                let alert = &mut plan.alerts[a];
                alert.event_count = alert.event_count.saturating_add(1);
                alert.auto_resolve_at = t.deadline;
                Step::Repeat(a)
            }
            None => {
                let (planned, step): (Planned, fn(usize) -> Step) =
                    match open.get(&(t.service.to_string(), t.key.to_string())) {
                        Some(o) => (
                            Planned {
                                id: o.id.clone(),
                                created_by: None,
                                event_count: o.event_count.saturating_add(1),
                                auto_resolve_at: t.deadline,
                            },
                            Step::Repeat,
                        ),
                        None => (
                            Planned {
                                id: new_id(),
                                created_by: Some(i),
                                event_count: 1,
                                auto_resolve_at: t.deadline,
                            },
                            Step::Create,
                        ),
                    };
                plan.alerts.push(planned);
                let a = plan.alerts.len() - 1;
                current.insert((t.service, t.key), a);
                step(a)
            }
        };
        plan.steps.push(step);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Acknowledge, Resolve, Trigger as T};

    fn trig<'a>(service: &'a str, key: &'a str, deadline: Option<i64>) -> Trigger<'a> {
        Trigger {
            service,
            key,
            deadline,
        }
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("new{n}")
        }
    }

    fn open(pairs: &[(&str, &str, &str, i64)]) -> HashMap<(String, String), Open> {
        pairs
            .iter()
            .map(|(s, k, id, n)| {
                let open = Open {
                    id: (*id).to_string(),
                    event_count: *n,
                };
                (((*s).to_string(), (*k).to_string()), open)
            })
            .collect()
    }

    #[test]
    fn segments_cut_at_every_acknowledge_and_resolve() {
        assert_eq!(segments([]), vec![]);
        assert_eq!(segments([T, T, T]), vec![Segment::Triggers(0..3)]);
        assert_eq!(
            segments([T, Resolve, T, T, Acknowledge, Resolve]),
            vec![
                Segment::Triggers(0..1),
                Segment::Alone(1),
                Segment::Triggers(2..4),
                Segment::Alone(4),
                Segment::Alone(5),
            ]
        );
        // Trigger then resolve of one key: the trigger is written before the resolve is
        // applied, so the resolve finds the alert the trigger created.
        assert_eq!(
            segments([T, Resolve]),
            vec![Segment::Triggers(0..1), Segment::Alone(1)]
        );
        assert_eq!(
            segments([Resolve, T]),
            vec![Segment::Alone(0), Segment::Triggers(1..2)]
        );
    }

    #[test]
    fn a_key_sent_twice_is_one_new_alert_counted_twice() {
        let p = plan(
            &[trig("s", "k", Some(10)), trig("s", "k", Some(20))],
            &HashMap::new(),
            ids(),
        );
        assert_eq!(p.steps, vec![Step::Create(0), Step::Repeat(0)]);
        assert_eq!(
            p.alerts,
            vec![Planned {
                id: "new1".into(),
                created_by: Some(0),
                event_count: 2,
                // The repeat moved the deadline to its own.
                auto_resolve_at: Some(20),
            }]
        );
    }

    #[test]
    fn an_open_alert_is_repeated_with_its_count_and_the_last_deadline() {
        let found = open(&[("s", "k", "a1", 7)]);
        let p = plan(
            &[
                trig("s", "k", Some(5)),
                trig("s", "other", None),
                trig("s", "k", None),
            ],
            &found,
            ids(),
        );
        assert_eq!(
            p.steps,
            vec![Step::Repeat(0), Step::Create(1), Step::Repeat(0)]
        );
        assert_eq!(
            p.alerts[0],
            Planned {
                id: "a1".into(),
                created_by: None,
                event_count: 9,
                auto_resolve_at: None,
            }
        );
        assert_eq!(
            (p.alerts[1].id.as_str(), p.alerts[1].created_by),
            ("new1", Some(1))
        );
    }

    #[test]
    fn dedup_is_per_service() {
        // The same key open on another service, or sent for two services: separate alerts.
        let found = open(&[("other", "k", "a1", 1)]);
        let p = plan(&[trig("s", "k", None), trig("t", "k", None)], &found, ids());
        assert_eq!(p.steps, vec![Step::Create(0), Step::Create(1)]);
        assert_eq!(
            p.alerts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["new1", "new2"]
        );
    }

    #[test]
    fn counts_saturate() {
        let found = open(&[("s", "k", "a1", i64::MAX)]);
        let p = plan(&[trig("s", "k", None)], &found, ids());
        assert_eq!(p.alerts[0].event_count, i64::MAX);
    }

    /// The plan agrees with `lifecycle::decide` applied one trigger at a time.
    #[test]
    fn matches_the_per_event_lifecycle() {
        use crate::alerts::lifecycle::{Decision, decide, new_alert};
        let event = |key: &str| crate::alerts::AlertEvent {
            action: Action::Trigger,
            dedup_key: Some(key.into()),
            summary: String::new(),
            severity: None,
            source: String::new(),
            labels: Default::default(),
            annotations: Default::default(),
            details: serde_json::Value::Null,
            links: vec![],
            images: vec![],
            started_at: None,
            ends_at: None,
        };
        let keys = ["a", "b", "a", "c", "a", "b"];
        let mut state: HashMap<String, crate::alerts::lifecycle::Alert> = HashMap::new();
        let mut existing = new_alert("old".into(), "s", None, "c".into(), &event("c"), 0);
        existing.event_count = 3;
        state.insert("c".into(), existing);
        let found = open(&[("s", "c", "old", 3)]);
        let triggers: Vec<_> = keys.iter().map(|k| trig("s", k, None)).collect();
        let p = plan(&triggers, &found, ids());
        let mut n = 0;
        for (key, step) in keys.iter().zip(&p.steps) {
            match decide(state.get(*key), &event(key), 1, "x") {
                Decision::Create => {
                    n += 1;
                    let a = new_alert(format!("new{n}"), "s", None, (*key).into(), &event(key), 1);
                    assert_eq!(
                        *step,
                        Step::Create(p.alerts.iter().position(|x| x.id == a.id).unwrap())
                    );
                    state.insert((*key).into(), a);
                }
                Decision::Change { next, .. } => {
                    let Step::Repeat(i) = *step else {
                        panic!("{key}: expected a repeat")
                    };
                    assert_eq!(p.alerts[i].id, next.id);
                    state.insert((*key).into(), *next);
                }
                Decision::Ignore(_) => panic!("a trigger is never ignored"),
            }
        }
        for a in &p.alerts {
            let after = state
                .values()
                .find(|s| s.id == a.id)
                .expect("planned alert");
            assert_eq!(a.event_count, after.event_count, "{}", a.id);
        }
    }
}
