//! The pure decisions of the deadline tick: whether a declare watch declares, whom a lapsed
//! update cadence reminds and when it is due next, and whether a role holder's on-call shift
//! has ended. Everything they need, `now` included, is passed in.

use crate::catalog::Catalog;
use crate::incidents::{Role, RoleStint};
use crate::oncall::Override;
use crate::oncall::rotation::Resolver;
use crate::severity::Declare;

/// When a new alert of a level with `declare` should be looked at: at once, after N minutes,
/// or never (people decide).
pub fn declare_due(declare: Declare, now: i64) -> Option<i64> {
    match declare {
        Declare::Manually => None,
        Declare::Immediately => Some(now),
        Declare::AfterMinutes(m) => Some(now.saturating_add(i64::from(m) * 60_000)),
    }
}

/// What to do with a due declare watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchOutcome {
    Declare,
    /// Dropped without declaring, and why (logged).
    Moot(&'static str),
}

/// A due watch declares when its alert still exists, is not resolved and is on no incident,
/// and its level still exists and still declares on its own (a level switched to `manually`
/// since the alert came in declares nothing). The rule for `after_minutes` is "no progress": an alert that
/// is still triggered, or acknowledged but not resolved, after N minutes gets an incident;
/// one resolved meanwhile does not. Acknowledging alone is not progress: someone looking at
/// a fire for 15 minutes without putting it out is exactly when the incident process helps.
/// A person who declared (or attached the alert) first wins: no second incident.
pub fn watch_outcome(status: Option<&str>, attached: bool, level_declares: bool) -> WatchOutcome {
    match status {
        None => WatchOutcome::Moot("the alert no longer exists"),
        Some("resolved") => WatchOutcome::Moot("the alert was resolved"),
        Some(_) if attached => WatchOutcome::Moot("the alert is already on an incident"),
        Some(_) if !level_declares => {
            WatchOutcome::Moot("the severity level no longer declares on its own")
        }
        Some(_) => WatchOutcome::Declare,
    }
}

/// The open incident a due watch joins instead of declaring its own: the newest of `open`
/// (the incidents already about the alert's service, newest first, with their levels) that
/// is at least as severe as the alert's `level`. A storm of alerts on one service is then one
/// incident, not hundreds, while a Sev 0 alert never hides in a Sev 2 incident. `rank`
/// orders levels, most severe first; an unknown level joins nothing.
pub fn group_into(
    open: &[(i64, String)],
    level: &str,
    rank: impl Fn(&str) -> Option<usize>,
) -> Option<i64> {
    let wanted = rank(level)?;
    open.iter()
        .find(|(_, s)| rank(s).is_some_and(|r| r <= wanted))
        .map(|(id, _)| *id)
}

/// What a lapsed update cadence does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// Lapses since the last update, this one included.
    pub lapse: i64,
    /// Who hears it, each once, in this order: the Comms Lead (else the IC), and from the
    /// second lapse on the IC as well.
    pub remind: Vec<(Role, String)>,
    /// The next reminder's instant: the missed deadline moved on by whole cadences until it
    /// is in the future, so the rhythm follows the cadence, not the tick (a stopped engine
    /// catches up with one reminder, not a burst). None: the level has no cadence any more.
    pub next_due: Option<i64>,
}

pub fn reminder(
    due_at: i64,
    lapses: i64,
    comms: Option<&str>,
    commander: Option<&str>,
    cadence_ms: Option<i64>,
    now: i64,
) -> Reminder {
    let lapse = lapses.saturating_add(1);
    let mut remind: Vec<(Role, String)> = Vec::new();
    match (comms, commander) {
        (Some(c), _) => remind.push((Role::Comms, c.to_string())),
        (None, Some(ic)) => remind.push((Role::Commander, ic.to_string())),
        (None, None) => {}
    }
    if lapse >= 2
        && let Some(ic) = commander
        && !remind.iter().any(|(_, p)| p == ic)
    {
        remind.push((Role::Commander, ic.to_string()));
    }
    let next_due = cadence_ms.filter(|c| *c > 0).map(|c| {
        let behind = now.saturating_sub(due_at).max(0);
        due_at.saturating_add((behind / c + 1).saturating_mul(c))
    });
    Reminder {
        lapse,
        remind,
        next_due,
    }
}

/// A holder to ask to hand over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// The schedule they were on call on when their stint began.
    pub schedule: String,
    /// Who is on call on it now: the suggested successor (None: a gap).
    pub successor: Option<String>,
}

/// Whether the holder of `stint` should be asked to hand over at `now`: they were on call on
/// some schedule when the stint began and are on call on none now. Someone who took a role
/// while off call (a manager as Comms Lead) is never asked: their shift did not end. The
/// successor comes from the first schedule (in catalog order) they were on at the start.
/// `overrides` must cover the stint's start and `now`.
pub fn handover(
    catalog: &Catalog,
    overrides: &[Override],
    stint: &RoleStint,
    now: i64,
) -> Option<Prompt> {
    let resolvers: Vec<(&str, Resolver)> = catalog
        .schedules
        .iter()
        .filter_map(|s| Some((s.id.as_str(), Resolver::new(s).ok()?)))
        .collect();
    let on = |r: &Resolver, at: i64| {
        r.on_call_at(overrides, at).ok().flatten() == Some(stint.person_id.as_str())
    };
    if resolvers.iter().any(|(_, r)| on(r, now)) {
        return None;
    }
    let (schedule, r) = resolvers.iter().find(|(_, r)| on(r, stint.from_at))?;
    Some(Prompt {
        schedule: (*schedule).to_string(),
        successor: r
            .on_call_at(overrides, now)
            .ok()
            .flatten()
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn declare_policies_give_their_due_instants() {
        assert_eq!(declare_due(Declare::Manually, 1_000), None);
        assert_eq!(declare_due(Declare::Immediately, 1_000), Some(1_000));
        assert_eq!(
            declare_due(Declare::AfterMinutes(15), 1_000),
            Some(1_000 + 15 * MIN)
        );
    }

    #[test]
    fn a_watch_declares_only_without_progress_or_incident() {
        use WatchOutcome::*;
        assert_eq!(watch_outcome(Some("triggered"), false, true), Declare);
        assert_eq!(watch_outcome(Some("acknowledged"), false, true), Declare);
        assert!(matches!(
            watch_outcome(Some("resolved"), false, true),
            Moot(_)
        ));
        assert!(matches!(
            watch_outcome(Some("triggered"), true, true),
            Moot(_)
        ));
        assert!(matches!(watch_outcome(None, false, true), Moot(_)));
        assert!(matches!(
            watch_outcome(Some("triggered"), false, false),
            Moot(_)
        ));
    }

    #[test]
    fn a_watch_joins_the_newest_open_incident_at_least_as_severe() {
        let rank = |s: &str| ["sev0", "sev1", "sev2"].iter().position(|l| *l == s);
        let open = |v: &[(i64, &str)]| -> Vec<(i64, String)> {
            v.iter().map(|(i, s)| (*i, s.to_string())).collect()
        };
        assert_eq!(group_into(&open(&[]), "sev0", rank), None);
        let both = open(&[(7, "sev2"), (3, "sev0")]);
        assert_eq!(group_into(&both, "sev2", rank), Some(7), "newest first");
        assert_eq!(
            group_into(&both, "sev1", rank),
            Some(3),
            "a Sev 2 is too mild"
        );
        assert_eq!(group_into(&both, "sev0", rank), Some(3));
        assert_eq!(group_into(&open(&[(4, "sev1")]), "sev0", rank), None);
        assert_eq!(group_into(&both, "gone", rank), None, "unknown level");
        assert_eq!(group_into(&open(&[(5, "gone")]), "sev2", rank), None);
    }

    #[test]
    fn the_first_lapse_reminds_the_comms_lead_the_second_the_ic_too() {
        let r = reminder(0, 0, Some("cl"), Some("ic"), Some(30 * MIN), 5_000);
        assert_eq!(r.lapse, 1);
        assert_eq!(r.remind, vec![(Role::Comms, "cl".to_string())]);
        assert_eq!(r.next_due, Some(30 * MIN));
        let r = reminder(
            30 * MIN,
            1,
            Some("cl"),
            Some("ic"),
            Some(30 * MIN),
            30 * MIN,
        );
        assert_eq!(r.lapse, 2);
        assert_eq!(
            r.remind,
            vec![
                (Role::Comms, "cl".to_string()),
                (Role::Commander, "ic".to_string())
            ]
        );
        assert_eq!(r.next_due, Some(60 * MIN));
    }

    #[test]
    fn without_a_comms_lead_the_ic_is_reminded_once() {
        let r = reminder(0, 3, None, Some("ic"), Some(MIN), 0);
        assert_eq!(r.remind, vec![(Role::Commander, "ic".to_string())]);
        let r = reminder(0, 3, Some("ic"), Some("ic"), Some(MIN), 0);
        assert_eq!(r.remind, vec![(Role::Comms, "ic".to_string())]);
        assert!(reminder(0, 0, None, None, Some(MIN), 0).remind.is_empty());
    }

    #[test]
    fn a_late_tick_keeps_the_cadence_rhythm() {
        // Due at 0, cadence 30 min, the engine was down until 75 min: next at 90, not 105.
        let r = reminder(0, 0, None, None, Some(30 * MIN), 75 * MIN);
        assert_eq!(r.next_due, Some(90 * MIN));
        // Exactly on a boundary: the next period, never `now` itself.
        let r = reminder(0, 0, None, None, Some(30 * MIN), 60 * MIN);
        assert_eq!(r.next_due, Some(90 * MIN));
        assert_eq!(reminder(0, 0, None, None, None, 0).next_due, None);
    }

    /// The example organisation: SRE primary rotates weekly on Monday 09:00 London, Foo Bar
    /// from 17 June 2024, Jon Doe from 24 June.
    fn example() -> Catalog {
        crate::config::load(crate::cli::example_sources(), &Catalog::default())
            .map(|l| l.catalog)
            .unwrap_or_else(|_| panic!("the example is valid"))
    }

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn stint(person: &str, from: &str) -> RoleStint {
        RoleStint {
            id: 1,
            role: Role::Commander,
            person_id: person.into(),
            from_at: ms(from),
            to_at: None,
            assigned_by: "Tocsin".into(),
            handover_note: String::new(),
            prompted_at: None,
        }
    }

    #[test]
    fn a_holder_whose_shift_ended_is_asked_to_hand_over_to_who_is_on_now() {
        let c = example();
        let s = stint("foo-bar", "2024-06-18T10:00:00Z");
        assert_eq!(handover(&c, &[], &s, ms("2024-06-24T07:59:00Z")), None);
        let p = handover(&c, &[], &s, ms("2024-06-24T08:00:00Z")).expect("shift over");
        assert_eq!(p.schedule, "sre-primary");
        assert_eq!(p.successor.as_deref(), Some("jon-doe"));
    }

    #[test]
    fn an_override_extends_the_shift_and_someone_never_on_call_is_not_asked() {
        let c = example();
        let s = stint("foo-bar", "2024-06-18T10:00:00Z");
        let cover = Override {
            id: "o1".into(),
            schedule: "sre-primary".into(),
            start: ms("2024-06-24T08:00:00Z"),
            end: ms("2024-06-24T12:00:00Z"),
            person: "foo-bar".into(),
            replaces: None,
            reason: String::new(),
            created_by: "test".into(),
            created_at: 0,
        };
        let overrides = [cover];
        assert_eq!(
            handover(&c, &overrides, &s, ms("2024-06-24T09:00:00Z")),
            None
        );
        assert!(handover(&c, &overrides, &s, ms("2024-06-24T12:00:00Z")).is_some());
        // Adam (a manager, on no schedule) holding a role is never prompted.
        assert_eq!(
            handover(
                &c,
                &[],
                &stint("adam", "2024-06-18T10:00:00Z"),
                ms("2024-07-01T12:00:00Z")
            ),
            None
        );
    }
}
