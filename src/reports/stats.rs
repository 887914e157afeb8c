//! Count, mean and median of durations, pure. The median of an even count is the mean of
//! the two middle values (rounded down to the millisecond), as people compute it by hand.

use serde::Serialize;
use utoipa::ToSchema;

/// A summary of durations in ms; mean and median are None without values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stats {
    pub count: usize,
    pub mean_ms: Option<i64>,
    pub p50_ms: Option<i64>,
}

impl Stats {
    pub fn of(values: &[i64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        let n = v.len();
        let sum: i128 = v.iter().map(|&x| i128::from(x)).sum();
        let mean = i64::try_from(sum / n as i128).unwrap_or(i64::MAX);
        let p50 = if n % 2 == 1 {
            v[n / 2]
        } else {
            i64::try_from((i128::from(v[n / 2 - 1]) + i128::from(v[n / 2])) / 2).unwrap_or(i64::MAX)
        };
        Self {
            count: n,
            mean_ms: Some(mean),
            p50_ms: Some(p50),
        }
    }

    /// "12 min" or "–" for people.
    pub fn mean_label(&self) -> String {
        label(self.mean_ms)
    }

    pub fn p50_label(&self) -> String {
        label(self.p50_ms)
    }
}

pub fn label(ms: Option<i64>) -> String {
    ms.map_or_else(|| "–".into(), crate::incidents::metrics::duration_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_median_by_hand() {
        let min = 60_000;
        // 2, 4, 9 min: mean 5 min, median 4 min.
        let s = Stats::of(&[9 * min, 2 * min, 4 * min]);
        assert_eq!(
            (s.count, s.mean_ms, s.p50_ms),
            (3, Some(5 * min), Some(4 * min))
        );
        // 1, 3, 10, 30 min: mean 11 min, median (3 + 10) / 2 = 6.5 min.
        let s = Stats::of(&[30 * min, min, 10 * min, 3 * min]);
        assert_eq!(s.mean_ms, Some(11 * min));
        assert_eq!(s.p50_ms, Some(6 * min + 30_000));
        assert_eq!(s.p50_label(), "6 min");
        assert_eq!(Stats::of(&[]), Stats::default());
        assert_eq!(Stats::of(&[]).mean_label(), "–");
    }
}
