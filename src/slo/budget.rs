//! Error budgets, pure. An SLO of 99.9 % over 30 days allows 0.1 % of those 30 days of
//! impairment: 43.2 minutes. Incidents record when each service was impaired; what they
//! consumed is the *union* of those stretches inside the window, so two overlapping incidents
//! on one service never count the same minute twice. Each minute is attributed to the
//! earliest-starting incident that covers it, so the per-incident shares add up to the total.

use serde::Serialize;
use utoipa::ToSchema;

use super::Slo;

pub const DAY_MS: i64 = 86_400_000;

/// A stretch during which an incident impaired the SLO's service, `[from, to)` in ms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impairment {
    pub incident_id: i64,
    pub title: String,
    pub from: i64,
    pub to: i64,
}

/// What one incident consumed of a budget (its minutes not already counted for an earlier one).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Share {
    pub incident_id: i64,
    pub title: String,
    pub consumed_ms: i64,
    pub percent_of_budget: f64,
}

/// An SLO's error budget over the window that ends at `at`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Budget {
    pub slo_id: String,
    pub service: String,
    /// The window, `[window_from, window_to)`, ms since the epoch.
    pub window_from: i64,
    pub window_to: i64,
    pub budget_ms: i64,
    pub consumed_ms: i64,
    /// Negative once the budget is overspent.
    pub remaining_ms: i64,
    pub percent_consumed: f64,
    /// The share of the window the service was not impaired, in percent.
    pub availability_percent: f64,
    /// Whether the objective still holds (consumption within the budget).
    pub objective_met: bool,
    /// Whether availability fell below the SLA; None without an SLA.
    pub sla_breached: Option<bool>,
    /// Incidents that consumed budget, largest share first.
    pub incidents: Vec<Share>,
}

/// The impairment an SLO of `objective` percent allows over `window_days`, in ms.
pub fn budget_ms(objective: f64, window_days: u32) -> i64 {
    let window = f64::from(window_days) * DAY_MS as f64;
    // (100 - objective) / 100 rather than 1 - objective / 100: one rounding fewer.
    ((100.0 - objective) / 100.0 * window).round() as i64
}

/// The impaired stretch of one service in one incident: the recorded impairment when set,
/// else from the start of the trouble to mitigation, else resolution, else `now` (open).
pub fn effective(
    impaired: (Option<i64>, Option<i64>),
    started_at: i64,
    mitigated_at: Option<i64>,
    resolved_at: Option<i64>,
    now: i64,
) -> (i64, i64) {
    let from = impaired.0.unwrap_or(started_at);
    let to = impaired
        .1
        .or(mitigated_at)
        .or(resolved_at)
        .unwrap_or(now.max(from));
    (from, to.max(from))
}

/// How much of `a` lies inside `b` (half-open intervals), in ms.
pub fn overlap(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0)
}

/// Each incident's share of the union of `items` inside `window`, in start order (ties by
/// incident number), zero shares left out.
pub fn shares(items: &[Impairment], window: (i64, i64)) -> Vec<(i64, String, i64)> {
    let mut clipped: Vec<(i64, i64, &Impairment)> = items
        .iter()
        .map(|i| (i.from.max(window.0), i.to.min(window.1), i))
        .filter(|(from, to, _)| to > from)
        .collect();
    clipped.sort_by_key(|(from, _, i)| (*from, i.incident_id));
    let mut covered_until = i64::MIN;
    let mut out: Vec<(i64, String, i64)> = Vec::new();
    for (from, to, i) in clipped {
        let part = (to - from.max(covered_until)).max(0);
        covered_until = covered_until.max(to);
        if part == 0 {
            continue;
        }
        // An incident may impair the service in several stretches: one share per incident.
        match out.iter_mut().find(|(id, _, _)| *id == i.incident_id) {
            Some(s) => s.2 += part,
            None => out.push((i.incident_id, i.title.clone(), part)),
        }
    }
    out
}

/// The measure of the union of `items` inside `window`.
pub fn union_ms(items: &[Impairment], window: (i64, i64)) -> i64 {
    shares(items, window).iter().map(|s| s.2).sum()
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        // A 100 % objective allows nothing: any impairment overspends it entirely.
        return if part > 0 { f64::INFINITY } else { 0.0 };
    }
    part as f64 * 100.0 / whole as f64
}

/// The budget of `slo` over the window that ends at `at`, given its service's impairments.
pub fn compute(slo: &Slo, items: &[Impairment], at: i64) -> Budget {
    let window = (at - i64::from(slo.window_days) * DAY_MS, at);
    let budget = budget_ms(slo.objective.0, slo.window_days);
    let mut incidents: Vec<Share> = shares(items, window)
        .into_iter()
        .map(|(incident_id, title, consumed_ms)| Share {
            incident_id,
            title,
            consumed_ms,
            percent_of_budget: percent(consumed_ms, budget),
        })
        .collect();
    incidents.sort_by(|a, b| {
        b.consumed_ms
            .cmp(&a.consumed_ms)
            .then(a.incident_id.cmp(&b.incident_id))
    });
    let consumed: i64 = incidents.iter().map(|s| s.consumed_ms).sum();
    let length = window.1 - window.0;
    let availability = 100.0 - percent(consumed, length);
    Budget {
        slo_id: slo.id.clone(),
        service: slo.service.clone(),
        window_from: window.0,
        window_to: window.1,
        budget_ms: budget,
        consumed_ms: consumed,
        remaining_ms: budget - consumed,
        percent_consumed: percent(consumed, budget),
        availability_percent: availability,
        objective_met: consumed <= budget,
        sla_breached: slo.sla.map(|sla| availability < sla.0),
        incidents,
    }
}

/// The burn-down of a budget: at the end of each day of the window, the percentage of the
/// budget consumed so far (cumulative), as (instant, percent).
pub fn burn_series(slo: &Slo, items: &[Impairment], at: i64) -> Vec<(i64, f64)> {
    let from = at - i64::from(slo.window_days) * DAY_MS;
    let budget = budget_ms(slo.objective.0, slo.window_days);
    (1..=i64::from(slo.window_days))
        .map(|d| {
            let t = from + d * DAY_MS;
            (t, percent(union_ms(items, (from, t)), budget))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{Percent, Sli};

    const MIN: i64 = 60_000;

    fn slo(objective: f64, days: u32, sla: Option<f64>) -> Slo {
        Slo {
            id: "s".into(),
            service: "checkout-api".into(),
            name: "Checkout availability".into(),
            sli: Sli {
                kind: "availability".into(),
                description: String::new(),
            },
            objective: Percent(objective),
            window_days: days,
            sla: sla.map(Percent),
            description: String::new(),
        }
    }

    fn imp(id: i64, from: i64, to: i64) -> Impairment {
        Impairment {
            incident_id: id,
            title: format!("INC-{id}"),
            from,
            to,
        }
    }

    #[test]
    fn forty_three_point_two_minutes_is_the_whole_budget_of_three_nines_over_thirty_days() {
        assert_eq!(budget_ms(99.9, 30), 2_592_000); // 43.2 min
        assert_eq!(budget_ms(99.0, 28), 24_192_000); // 1 % of 28 days = 6 h 43.2 min
        assert_eq!(budget_ms(99.95, 30), 1_296_000); // 21.6 min
        let at = 40 * DAY_MS;
        let start = at - 5 * DAY_MS;
        let b = compute(
            &slo(99.9, 30, None),
            &[imp(1, start, start + 2_592_000)],
            at,
        );
        assert_eq!(b.consumed_ms, 2_592_000);
        assert_eq!(b.percent_consumed, 100.0);
        assert_eq!(b.remaining_ms, 0);
        assert!(b.objective_met, "exactly the budget is still within it");
        assert!((b.availability_percent - 99.9).abs() < 1e-9);
    }

    #[test]
    fn overlapping_incidents_count_each_minute_once() {
        let at = 30 * DAY_MS;
        let t = 10 * DAY_MS;
        // INC-1 10 min, INC-2 starts 5 min in and lasts 20 min: union 25 min, not 30.
        let items = [imp(1, t, t + 10 * MIN), imp(2, t + 5 * MIN, t + 25 * MIN)];
        let b = compute(&slo(99.9, 30, Some(99.95)), &items, at);
        assert_eq!(b.consumed_ms, 25 * MIN);
        let by: Vec<(i64, i64)> = b
            .incidents
            .iter()
            .map(|s| (s.incident_id, s.consumed_ms))
            .collect();
        // The shared 5 minutes go to INC-1, which started first: 10 + 15.
        assert_eq!(by, vec![(2, 15 * MIN), (1, 10 * MIN)]);
        // 25 min of 43.2: 57.87 %.
        assert!((b.percent_consumed - 25.0 / 43.2 * 100.0).abs() < 1e-9);
        // 25 min of 30 days is 99.942 % available: below a 99.95 % SLA.
        assert_eq!(b.sla_breached, Some(true));
        // An incident wholly inside another consumes nothing of its own.
        let nested = [imp(1, t, t + 30 * MIN), imp(2, t + 5 * MIN, t + 10 * MIN)];
        let b = compute(&slo(99.9, 30, None), &nested, at);
        assert_eq!(b.consumed_ms, 30 * MIN);
        assert_eq!(b.incidents.len(), 1);
        assert_eq!(b.sla_breached, None);
    }

    #[test]
    fn only_the_part_inside_the_window_counts() {
        let at = 30 * DAY_MS;
        // Started 10 min before the window opened, lasted 30 min: 20 min count.
        let items = [imp(1, -10 * MIN, 20 * MIN), imp(2, at + MIN, at + 9 * MIN)];
        let b = compute(&slo(99.0, 30, None), &items, at);
        assert_eq!((b.window_from, b.window_to), (0, at));
        assert_eq!(b.consumed_ms, 20 * MIN);
        assert_eq!(b.incidents.len(), 1);
        // Overspent: remaining goes negative, the objective is missed.
        let long = [imp(3, DAY_MS, DAY_MS + 8 * 60 * MIN)];
        let b = compute(&slo(99.0, 30, None), &long, at);
        assert_eq!(b.budget_ms, 7 * 60 * MIN + 12 * MIN); // 1 % of 30 days = 7 h 12 min
        assert_eq!(b.remaining_ms, -48 * MIN);
        assert!(!b.objective_met);
    }

    #[test]
    fn the_impairment_falls_back_to_mitigation_then_resolution_then_now() {
        assert_eq!(
            effective((None, None), 100, Some(300), Some(900), 5000),
            (100, 300)
        );
        assert_eq!(
            effective((None, None), 100, None, Some(900), 5000),
            (100, 900)
        );
        assert_eq!(effective((None, None), 100, None, None, 5000), (100, 5000));
        assert_eq!(
            effective((Some(150), Some(200)), 100, Some(300), None, 0),
            (150, 200)
        );
        assert_eq!(
            effective((Some(150), None), 100, Some(300), None, 0),
            (150, 300)
        );
        assert_eq!(overlap((0, 10), (5, 20)), 5);
        assert_eq!(overlap((0, 10), (10, 20)), 0);
    }

    #[test]
    fn the_burn_series_is_cumulative_by_day() {
        let at = 3 * DAY_MS;
        let items = [
            imp(1, DAY_MS / 2, DAY_MS / 2 + 2 * MIN),
            imp(2, 2 * DAY_MS + MIN, 2 * DAY_MS + 3 * MIN),
        ];
        // 99.9 % over 3 days: 4.32 min of budget.
        let s = burn_series(&slo(99.9, 3, None), &items, at);
        let pct: Vec<i64> = s.iter().map(|(_, p)| (p * 100.0).round() as i64).collect();
        // 2 min / 4.32 = 46.30 %, then still 46.30 %, then 4 min = 92.59 %.
        assert_eq!(pct, vec![4630, 4630, 9259]);
        assert_eq!(s[2].0, at);
    }
}
