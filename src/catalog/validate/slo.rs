//! Validation of SLOs: unique ids, an existing service, a name and an indicator kind, an
//! objective strictly between 0 and 100, a window of 1 to 366 days, and an SLA no stricter
//! than the objective (a promise to customers tighter than the internal target is a typo).

use crate::catalog::Kind;

use super::Checker;

/// A year and a day: longer windows are not rolling windows people act on.
const MAX_WINDOW_DAYS: u32 = 366;

impl Checker<'_> {
    pub(super) fn slos(&mut self) {
        let c = self.catalog;
        let k = Kind::Slo;
        self.ids(k, c.slos.iter().map(|s| s.id.as_str()), "id");
        for (i, s) in c.slos.iter().enumerate() {
            self.name(k, i, &s.name);
            self.reference(k, i, "service".into(), Kind::Service, &s.service);
            if s.sli.kind.trim().is_empty() {
                let m = "expected the indicator's kind (availability, latency…)".into();
                self.push(k, i, "sli.kind", m);
            }
            let objective = s.objective.0;
            // `!(x > 0 && x < 100)` also catches NaN.
            if !(objective > 0.0 && objective < 100.0) {
                let m =
                    format!("expected a percentage strictly between 0 and 100, got {objective}");
                self.push(k, i, "objective", m);
            }
            if !(1..=MAX_WINDOW_DAYS).contains(&s.window_days) {
                let m = format!("expected 1 to {MAX_WINDOW_DAYS} days");
                self.push(k, i, "window_days", m);
            }
            if let Some(sla) = s.sla {
                if !(sla.0 > 0.0 && sla.0 < 100.0) {
                    let m = format!(
                        "expected a percentage strictly between 0 and 100, got {}",
                        sla.0
                    );
                    self.push(k, i, "sla", m);
                } else if sla.0 > objective {
                    let m = format!(
                        "the SLA ({}) must not exceed the objective ({objective})",
                        sla.0
                    );
                    self.push(k, i, "sla", m);
                }
            }
        }
    }
}
