//! Validation of severity levels: unique ids, positive targets and cadences, and each incoming
//! alert severity covered by at most one level (else its response target would be ambiguous).

use std::collections::BTreeMap;

use crate::catalog::Kind;

use super::Checker;

/// A day: a longer target or cadence is a typo, not a policy.
const MAX_MINUTES: u32 = 24 * 60;

impl Checker<'_> {
    pub(super) fn severities(&mut self) {
        let c = self.catalog;
        let k = Kind::Severity;
        self.ids(k, c.severities.iter().map(|s| s.id.as_str()), "id");
        let mut covered: BTreeMap<_, &str> = BTreeMap::new();
        for (i, s) in c.severities.iter().enumerate() {
            self.name(k, i, &s.name);
            let minutes = [
                ("response_target_minutes", s.response_target_minutes),
                ("update_every_minutes", s.update_every_minutes),
                (
                    "declare.after_minutes",
                    match s.declare {
                        crate::severity::Declare::AfterMinutes(m) => Some(m),
                        _ => None,
                    },
                ),
            ];
            for (field, value) in minutes {
                if let Some(m) = value
                    && !(1..=MAX_MINUTES).contains(&m)
                {
                    self.push(k, i, field, format!("expected 1 to {MAX_MINUTES} minutes"));
                }
            }
            for (j, a) in s.alert_severities.iter().enumerate() {
                if let Some(other) = covered.insert(*a, &s.id) {
                    let message = format!(
                        "alert severity {} is already covered by severity level {other}",
                        crate::alerts::store::severity_str(*a)
                    );
                    self.push(k, i, format!("alert_severities[{j}]"), message);
                }
            }
        }
    }
}
