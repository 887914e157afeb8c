//! The alert lifecycle, pure: triggered → acknowledged → resolved, deduplicated per service on
//! the dedup key while open. Given the open alert for an event's key (if any), [`decide`] says
//! what the event does; [`person`] does the same for someone acknowledging or resolving by id.
//! The store runs these inside the transaction that writes the result, with `now` passed in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Action, AlertEvent, EventImage, EventLink, Severity};

/// Where an alert is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Triggered,
    Acknowledged,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Triggered, Self::Acknowledged, Self::Resolved]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An alert as stored and shown.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Alert {
    pub id: String,
    pub service: String,
    /// The integration whose key sent it (None when it was not sent through one).
    pub integration: Option<String>,
    pub dedup_key: String,
    pub status: Status,
    pub severity: Option<Severity>,
    pub summary: String,
    pub source: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub details: serde_json::Value,
    pub links: Vec<EventLink>,
    pub images: Vec<EventImage>,
    /// When the sender says the problem started (ms since the epoch).
    pub started_at: Option<i64>,
    pub created_at: i64,
    /// The last event (trigger, repeat, acknowledge, resolve) that reached it.
    pub last_event_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    /// How many trigger events it has absorbed (1 for a new alert).
    pub event_count: i64,
}

/// A change to an existing alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transition {
    /// A repeated trigger while open: counted, and never a new page.
    Repeat,
    Acknowledge,
    Resolve,
}

impl Transition {
    /// The alert log's `kind` for this change.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repeat => "repeat",
            Self::Acknowledge => "acknowledge",
            Self::Resolve => "resolve",
        }
    }
}

/// Why an event changed nothing. Senders still get a 2xx: the event was understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ignored {
    /// An acknowledge or resolve for a key with no open alert (never opened, or resolved).
    NoOpenAlert,
    /// An acknowledge for an alert someone already acknowledged.
    AlreadyAcknowledged,
}

impl Ignored {
    pub fn reason(self) -> &'static str {
        match self {
            Self::NoOpenAlert => "no open alert with this dedup key",
            Self::AlreadyAcknowledged => "the alert is already acknowledged",
        }
    }
}

/// What an event does.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// A trigger with no open alert: a new alert, which pages.
    Create,
    /// The open alert becomes `next`.
    Change {
        transition: Transition,
        next: Box<Alert>,
    },
    Ignore(Ignored),
}

/// Decides what `event` does to `open`, the open alert with the event's dedup key (if any).
/// `actor` is who acknowledges or resolves when the event does (the integration).
pub fn decide(open: Option<&Alert>, event: &AlertEvent, now: i64, actor: &str) -> Decision {
    let Some(alert) = open.filter(|a| a.status != Status::Resolved) else {
        return match event.action {
            Action::Trigger => Decision::Create,
            Action::Acknowledge | Action::Resolve => Decision::Ignore(Ignored::NoOpenAlert),
        };
    };
    let transition = match (event.action, alert.status) {
        (Action::Trigger, _) => Transition::Repeat,
        (Action::Acknowledge, Status::Acknowledged) => {
            return Decision::Ignore(Ignored::AlreadyAcknowledged);
        }
        (Action::Acknowledge, _) => Transition::Acknowledge,
        (Action::Resolve, _) => Transition::Resolve,
    };
    Decision::Change {
        transition,
        next: Box::new(apply(alert, transition, now, actor)),
    }
}

/// What a person asks of an alert by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonAction {
    Acknowledge,
    Resolve,
}

/// Why a person's action was refused (a 409 at the HTTP edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the alert is already resolved")]
    AlreadyResolved,
}

/// A person acknowledging or resolving `alert`: the alert it becomes, or None when it already
/// is acknowledged (acknowledging twice is harmless, so it is not an error).
pub fn person(
    alert: &Alert,
    action: PersonAction,
    now: i64,
    by: &str,
) -> Result<Option<(Transition, Alert)>, Refused> {
    let transition = match (action, alert.status) {
        (_, Status::Resolved) => return Err(Refused::AlreadyResolved),
        (PersonAction::Acknowledge, Status::Acknowledged) => return Ok(None),
        (PersonAction::Acknowledge, _) => Transition::Acknowledge,
        (PersonAction::Resolve, _) => Transition::Resolve,
    };
    Ok(Some((transition, apply(alert, transition, now, by))))
}

/// `alert` after `transition` at `now` by `actor`. Every transition counts as activity.
fn apply(alert: &Alert, transition: Transition, now: i64, actor: &str) -> Alert {
    let mut next = alert.clone();
    next.last_event_at = now;
    match transition {
        Transition::Repeat => next.event_count = alert.event_count.saturating_add(1),
        Transition::Acknowledge => {
            next.status = Status::Acknowledged;
            next.acknowledged_at = Some(now);
            next.acknowledged_by = Some(actor.to_string());
        }
        Transition::Resolve => {
            next.status = Status::Resolved;
            next.resolved_at = Some(now);
            next.resolved_by = Some(actor.to_string());
        }
    }
    next
}

/// A new alert's id: its creation instant in milliseconds (11 hex digits), then 9 random
/// hex digits. Ids in creation order make every index keyed on an alert id (the alerts'
/// own, the log's, the escalations' and watches') grow at its right edge, so an ingest batch
/// writes a few pages of each instead of one page per alert (`BENCHMARKS.md`). The random
/// part keeps two instances, or two alerts of one millisecond, apart.
pub fn new_id(now: i64) -> String {
    let random: u64 = rand::random::<u64>() >> 28;
    format!("{:011x}{random:09x}", now.max(0))
}

/// A new alert from a trigger `event`, with its id and (possibly generated) dedup key.
pub fn new_alert(
    id: String,
    service: &str,
    integration: Option<&str>,
    dedup_key: String,
    event: &AlertEvent,
    now: i64,
) -> Alert {
    Alert {
        id,
        service: service.to_string(),
        integration: integration.map(str::to_string),
        dedup_key,
        status: Status::Triggered,
        severity: event.severity,
        summary: event.summary.clone(),
        source: event.source.clone(),
        labels: event.labels.clone(),
        annotations: event.annotations.clone(),
        details: event.details.clone(),
        links: event.links.clone(),
        images: event.images.clone(),
        started_at: event.started_at,
        created_at: now,
        last_event_at: now,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        event_count: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000;

    fn event(action: Action) -> AlertEvent {
        AlertEvent {
            action,
            dedup_key: Some("k".into()),
            summary: "disk full".into(),
            severity: Some(Severity::Critical),
            source: "host-1".into(),
            labels: BTreeMap::from([("alertname".into(), "DiskFull".into())]),
            annotations: BTreeMap::new(),
            details: serde_json::json!({"free": 0}),
            links: vec![],
            images: vec![],
            started_at: Some(500),
            ends_at: None,
        }
    }

    fn open(status: Status) -> Alert {
        let mut a = new_alert(
            "a1".into(),
            "svc",
            Some("i1"),
            "k".into(),
            &event(Action::Trigger),
            T,
        );
        a.status = status;
        a
    }

    #[test]
    fn a_trigger_without_an_open_alert_creates_one() {
        assert_eq!(
            decide(None, &event(Action::Trigger), T, "x"),
            Decision::Create
        );
        // A resolved alert is not open: the same key starts a new alert.
        let done = open(Status::Resolved);
        assert_eq!(
            decide(Some(&done), &event(Action::Trigger), T, "x"),
            Decision::Create
        );
    }

    #[test]
    fn a_new_alert_copies_the_event() {
        let a = open(Status::Triggered);
        assert_eq!((a.event_count, a.created_at, a.last_event_at), (1, T, T));
        assert_eq!((a.summary.as_str(), a.started_at), ("disk full", Some(500)));
        assert_eq!(a.severity, Some(Severity::Critical));
    }

    #[test]
    fn a_repeated_trigger_counts_and_keeps_the_status() {
        for status in [Status::Triggered, Status::Acknowledged] {
            let a = open(status);
            let Decision::Change { transition, next } =
                decide(Some(&a), &event(Action::Trigger), T + 5, "x")
            else {
                panic!("expected a change");
            };
            assert_eq!(transition, Transition::Repeat);
            assert_eq!(
                (next.event_count, next.last_event_at, next.status),
                (2, T + 5, status)
            );
        }
    }

    #[test]
    fn acknowledge_and_resolve_from_the_source() {
        let a = open(Status::Triggered);
        let Decision::Change { transition, next } =
            decide(Some(&a), &event(Action::Acknowledge), T + 1, "src")
        else {
            panic!("expected a change");
        };
        assert_eq!(transition, Transition::Acknowledge);
        assert_eq!(next.status, Status::Acknowledged);
        assert_eq!(
            (next.acknowledged_at, next.acknowledged_by.as_deref()),
            (Some(T + 1), Some("src"))
        );
        for from in [Status::Triggered, Status::Acknowledged] {
            let Decision::Change { transition, next } =
                decide(Some(&open(from)), &event(Action::Resolve), T + 2, "src")
            else {
                panic!("expected a change");
            };
            assert_eq!(transition, Transition::Resolve);
            assert_eq!(
                (next.status, next.resolved_at),
                (Status::Resolved, Some(T + 2))
            );
        }
    }

    #[test]
    fn events_with_nothing_to_act_on_are_ignored() {
        for action in [Action::Acknowledge, Action::Resolve] {
            assert_eq!(
                decide(None, &event(action), T, "x"),
                Decision::Ignore(Ignored::NoOpenAlert)
            );
            let done = open(Status::Resolved);
            assert_eq!(
                decide(Some(&done), &event(action), T, "x"),
                Decision::Ignore(Ignored::NoOpenAlert)
            );
        }
        let acked = open(Status::Acknowledged);
        assert_eq!(
            decide(Some(&acked), &event(Action::Acknowledge), T, "x"),
            Decision::Ignore(Ignored::AlreadyAcknowledged)
        );
    }

    #[test]
    fn people_acknowledge_and_resolve_by_id() {
        let a = open(Status::Triggered);
        let (t, next) = person(&a, PersonAction::Acknowledge, T + 1, "jane")
            .unwrap()
            .unwrap();
        assert_eq!(
            (t, next.status),
            (Transition::Acknowledge, Status::Acknowledged)
        );
        assert_eq!(next.acknowledged_by.as_deref(), Some("jane"));
        assert_eq!(
            person(&next, PersonAction::Acknowledge, T + 2, "jon"),
            Ok(None)
        );
        let (t, done) = person(&next, PersonAction::Resolve, T + 3, "jon")
            .unwrap()
            .unwrap();
        assert_eq!(
            (t, done.status, done.resolved_by.as_deref()),
            (Transition::Resolve, Status::Resolved, Some("jon"))
        );
        // The acknowledgement is kept: who acknowledged is part of the record.
        assert_eq!(done.acknowledged_by.as_deref(), Some("jane"));
        let (_, direct) = person(&a, PersonAction::Resolve, T + 1, "jon")
            .unwrap()
            .unwrap();
        assert_eq!(direct.status, Status::Resolved);
        for action in [PersonAction::Acknowledge, PersonAction::Resolve] {
            assert_eq!(
                person(&done, action, T + 4, "x"),
                Err(Refused::AlreadyResolved)
            );
        }
    }

    #[test]
    fn status_names_round_trip() {
        for s in [Status::Triggered, Status::Acknowledged, Status::Resolved] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("open"), None);
    }
}
