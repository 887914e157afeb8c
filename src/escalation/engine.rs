//! Pure escalation stepping: given a policy, where an alert's escalation stands (the next
//! level, the round, when it is due) and `now`, which levels are due and where it stands
//! afterwards. The engine (`crate::engine`) stores the [`Cursor`] and writes the pages; this
//! module never touches the database or the clock.
//!
//! Timing follows the declared timeline, not the tick: the level after one notified at its
//! due time `t` is due at `t + escalate_after_minutes`, whenever the tick actually ran. A late
//! tick (a restart, a slow database) therefore catches up on every level that fell due
//! meanwhile instead of shifting the whole policy later: we rank never missing a page above
//! paging two levels in one go.

use crate::catalog::Catalog;
use crate::oncall::Override;

use super::EscalationPolicy;
use super::resolve::resolve;

const MINUTE_MS: i64 = 60_000;

/// Where an escalation stands: `level` of pass `round` (0 = the first) is notified at `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub level: usize,
    pub round: u32,
    /// Milliseconds since the epoch.
    pub at: i64,
}

impl Cursor {
    /// A new escalation: level 0 of the first round is due at once.
    pub fn start(now: i64) -> Self {
        Self {
            level: 0,
            round: 0,
            at: now,
        }
    }
}

/// One level notified: which, in which round, and who it reached (empty: nobody on call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub level: usize,
    pub round: u32,
    pub people: Vec<String>,
}

/// What a step found due, and where the escalation stands after it (None: the policy is
/// exhausted, nothing more will ever be sent for this alert).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub pages: Vec<Page>,
    pub next: Option<Cursor>,
}

/// The position after notifying `cursor`'s level, or None after the last level of the last
/// round. A cursor past the policy's end (the policy lost levels since the escalation
/// started) wraps to the next round at once, so an edited policy never strands an alert.
pub fn after(policy: &EscalationPolicy, cursor: Cursor) -> Option<Cursor> {
    let Some(level) = policy.levels.get(cursor.level) else {
        return next_round(policy, cursor, cursor.at);
    };
    let at = cursor
        .at
        .saturating_add(i64::from(level.escalate_after_minutes) * MINUTE_MS);
    if cursor.level + 1 < policy.levels.len() {
        return Some(Cursor {
            level: cursor.level + 1,
            round: cursor.round,
            at,
        });
    }
    // The last level still gets its full wait before the policy starts over.
    next_round(policy, cursor, at)
}

fn next_round(policy: &EscalationPolicy, cursor: Cursor, at: i64) -> Option<Cursor> {
    (cursor.round < policy.repeat && !policy.levels.is_empty()).then_some(Cursor {
        level: 0,
        round: cursor.round + 1,
        at,
    })
}

/// The levels due at `now` from `cursor` on, in order (timing only, no people), and where the
/// escalation stands afterwards. `max` bounds the work of one call (a policy of zero-minute
/// levels repeated many times); the rest stays due for the next call.
pub fn due_levels(
    policy: &EscalationPolicy,
    cursor: Cursor,
    now: i64,
    max: usize,
) -> (Vec<Cursor>, Option<Cursor>) {
    let mut due = Vec::new();
    let mut next = Some(cursor);
    while let Some(c) = next {
        if c.at > now || due.len() >= max {
            break;
        }
        // A cursor past the end pages nothing; it only moves on to the next round.
        if c.level < policy.levels.len() {
            due.push(c);
        }
        next = after(policy, c);
    }
    (due, next)
}

/// [`due_levels`] with each due level's people resolved at `now`: who is on call when the page
/// actually goes out, which is who can answer it.
pub fn step(
    catalog: &Catalog,
    overrides: &[Override],
    policy: &EscalationPolicy,
    cursor: Cursor,
    now: i64,
    max: usize,
) -> Due {
    let (due, next) = due_levels(policy, cursor, now, max);
    if due.is_empty() {
        return Due {
            pages: Vec::new(),
            next,
        };
    }
    let levels = resolve(catalog, overrides, policy, now);
    let pages = due
        .into_iter()
        .map(|c| Page {
            level: c.level,
            round: c.round,
            people: levels
                .get(c.level)
                .map(|l| l.people().into_iter().map(String::from).collect())
                .unwrap_or_default(),
        })
        .collect();
    Due { pages, next }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::escalation::{Level, Target};

    fn policy(waits: &[u32], repeat: u32) -> EscalationPolicy {
        EscalationPolicy {
            id: "p".into(),
            name: "p".into(),
            description: String::new(),
            levels: waits
                .iter()
                .enumerate()
                .map(|(i, w)| Level {
                    targets: vec![Target::Person(format!("person-{i}"))],
                    escalate_after_minutes: *w,
                })
                .collect(),
            repeat,
        }
    }

    const M: i64 = MINUTE_MS;

    fn at(level: usize, round: u32, at: i64) -> Cursor {
        Cursor { level, round, at }
    }

    #[test]
    fn levels_follow_their_waits_then_the_policy_repeats_once() {
        // sre-default: 5, 10, 15 minutes, repeat 1.
        let p = policy(&[5, 10, 15], 1);
        let mut c = Cursor::start(0);
        let mut seen = vec![c];
        while let Some(n) = after(&p, c) {
            seen.push(n);
            c = n;
        }
        assert_eq!(
            seen,
            [
                at(0, 0, 0),
                at(1, 0, 5 * M),
                at(2, 0, 15 * M),
                at(0, 1, 30 * M),
                at(1, 1, 35 * M),
                at(2, 1, 45 * M),
            ]
        );
    }

    #[test]
    fn only_what_is_due_is_returned_and_a_late_tick_catches_up() {
        let p = policy(&[5, 10, 15], 0);
        let (due, next) = due_levels(&p, Cursor::start(0), 0, usize::MAX);
        assert_eq!((due, next), (vec![at(0, 0, 0)], Some(at(1, 0, 5 * M))));
        let (due, next) = due_levels(&p, at(1, 0, 5 * M), 5 * M - 1, usize::MAX);
        assert_eq!((due, next), (vec![], Some(at(1, 0, 5 * M))));
        // The engine was down from minute 4 to minute 20: both missed levels go out now.
        let (due, next) = due_levels(&p, at(1, 0, 5 * M), 20 * M, usize::MAX);
        assert_eq!(due, [at(1, 0, 5 * M), at(2, 0, 15 * M)]);
        assert_eq!(next, None, "no repeat: exhausted after the last level");
    }

    #[test]
    fn max_bounds_one_call_and_leaves_the_rest_due() {
        let p = policy(&[0, 0, 0], 3);
        let (due, next) = due_levels(&p, Cursor::start(0), 0, 4);
        assert_eq!(due.len(), 4);
        assert_eq!(next, Some(at(1, 1, 0)));
    }

    #[test]
    fn a_cursor_past_a_shrunken_policy_wraps_or_ends() {
        let p = policy(&[5], 1);
        assert_eq!(after(&p, at(3, 0, 7)), Some(at(0, 1, 7)));
        assert_eq!(after(&p, at(3, 1, 7)), None);
        let (due, _) = due_levels(&p, at(3, 0, 7), 7, usize::MAX);
        assert_eq!(due, [at(0, 1, 7)], "nothing is paged for the missing level");
        assert_eq!(after(&policy(&[], 5), Cursor::start(0)), None);
    }

    #[test]
    fn step_resolves_the_people_of_each_due_level() {
        let p = policy(&[5, 10], 0);
        let catalog = Catalog::default();
        let d = step(&catalog, &[], &p, Cursor::start(0), 5 * M, usize::MAX);
        let people: Vec<_> = d.pages.iter().map(|p| p.people.clone()).collect();
        assert_eq!(people, [vec!["person-0"], vec!["person-1"]]);
        assert_eq!(d.next, None);
    }

    /// The reference model: every (level, round) has a fixed time from the start
    /// (`round * total + offset`), and is paged at the first tick at or after that time,
    /// provided the tick comes before the acknowledgement.
    fn model(p: &EscalationPolicy, ticks: &[i64], ack: i64) -> Vec<(usize, u32, i64)> {
        let offsets = p.level_offsets();
        let total: i64 = p
            .levels
            .iter()
            .map(|l| i64::from(l.escalate_after_minutes))
            .sum();
        let mut out = Vec::new();
        for round in 0..=p.repeat {
            for (level, off) in offsets.iter().enumerate() {
                let due = (i64::from(round) * total + i64::try_from(*off).unwrap_or(0)) * M;
                if let Some(t) = ticks.iter().find(|t| **t >= due && **t < ack) {
                    out.push((level, round, *t));
                }
            }
        }
        out.sort_by_key(|(l, r, t)| (*t, *r, *l));
        out
    }

    proptest! {
        /// No missed page, no extra page, nothing after the acknowledgement, over random
        /// policies, tick patterns and acknowledgement times.
        #[test]
        fn stepping_matches_the_reference_model(
            waits in proptest::collection::vec(0u32..30, 1..5),
            repeat in 0u32..3,
            gaps in proptest::collection::vec(0i64..20 * M, 1..60),
            ack in proptest::option::of(0i64..300 * M),
        ) {
            let p = policy(&waits, repeat);
            let ack = ack.unwrap_or(i64::MAX);
            let ticks: Vec<i64> = gaps.iter().scan(0i64, |t, g| { *t += g; Some(*t) }).collect();
            let mut cursor = Some(Cursor::start(0));
            let mut paged = Vec::new();
            for &t in ticks.iter().take_while(|t| **t < ack) {
                let Some(c) = cursor else { break };
                let (due, next) = due_levels(&p, c, t, usize::MAX);
                paged.extend(due.iter().map(|d| (d.level, d.round, t)));
                cursor = next;
            }
            prop_assert_eq!(paged, model(&p, &ticks, ack));
        }
    }
}
