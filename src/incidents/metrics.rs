//! Response metrics of one incident, pure: how long from the start of the trouble to
//! acknowledgement, declaration, mitigation (identified or monitoring) and resolution. Kept on
//! the incident row as instants, so later reports (the learning loop) compute them the same
//! way over many incidents.

use serde::Serialize;
use utoipa::ToSchema;

use super::Incident;

/// Durations in milliseconds from `started_at`; None where the moment has not come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResponseMetrics {
    pub time_to_acknowledge_ms: Option<i64>,
    pub time_to_declare_ms: i64,
    pub time_to_mitigate_ms: Option<i64>,
    pub time_to_resolve_ms: Option<i64>,
}

pub fn of(i: &Incident) -> ResponseMetrics {
    let since = |t: i64| (t - i.started_at).max(0);
    ResponseMetrics {
        time_to_acknowledge_ms: i.acknowledged_at.map(since),
        time_to_declare_ms: since(i.declared_at),
        time_to_mitigate_ms: i.mitigated_at.map(since),
        time_to_resolve_ms: i.resolved_at.map(since),
    }
}

/// "4 min", "1 h 05 min", "2 d 3 h", "40 s": durations as people read them.
pub fn duration_label(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m:02} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::Status;

    #[test]
    fn durations_count_from_the_start_of_the_trouble() {
        let min = 60_000;
        let i = Incident {
            id: 1,
            title: "t".into(),
            summary: String::new(),
            status: Status::Resolved,
            severity: "sev0".into(),
            source: "auto".into(),
            declared_at: 15 * min,
            declared_by: "Tocsin".into(),
            started_at: 0,
            acknowledged_at: Some(3 * min),
            mitigated_at: Some(40 * min),
            resolved_at: Some(95 * min),
            closed_at: None,
            channel_kind: None,
            channel_url: None,
            last_update_at: None,
            update_due_at: None,
            lapses: 0,
            updated_at: 0,
        };
        let m = of(&i);
        assert_eq!(m.time_to_acknowledge_ms, Some(3 * min));
        assert_eq!(m.time_to_declare_ms, 15 * min);
        assert_eq!(m.time_to_mitigate_ms, Some(40 * min));
        assert_eq!(m.time_to_resolve_ms, Some(95 * min));
        assert_eq!(duration_label(95 * min), "1 h 35 min");
        assert_eq!(duration_label(4 * min), "4 min");
        assert_eq!(duration_label(40_000), "40 s");
        assert_eq!(duration_label(2 * 86_400_000 + 3 * 3_600_000), "2 d 3 h");
    }
}
