//! Validation of schedules, escalation policies and the policy pointers on teams and services.

use std::collections::HashSet;

use crate::catalog::Kind;
use crate::escalation::Target;

use super::Checker;

impl Checker<'_> {
    pub(super) fn schedules(&mut self) {
        let c = self.catalog;
        let k = Kind::Schedule;
        self.ids(k, c.schedules.iter().map(|s| s.id.as_str()), "id");
        for (i, s) in c.schedules.iter().enumerate() {
            self.name(k, i, &s.name);
            self.reference(k, i, "team".into(), Kind::Team, &s.team);
            if s.layers.is_empty() {
                self.push(k, i, "layers", "expected at least one layer".into());
            }
            for (j, layer) in s.layers.iter().enumerate() {
                for (n, person) in layer.people.iter().enumerate() {
                    self.reference(
                        k,
                        i,
                        format!("layers[{j}].people[{n}]"),
                        Kind::Person,
                        person,
                    );
                }
            }
            // Zones, times, shift lengths: the resolver's own rules, so nothing stored can fail
            // to resolve later.
            for (field, message) in crate::oncall::rotation::validate_schedule(s) {
                self.push(k, i, field, message);
            }
        }
    }

    pub(super) fn policies(&mut self) {
        let c = self.catalog;
        let k = Kind::EscalationPolicy;
        self.ids(k, c.escalation_policies.iter().map(|p| p.id.as_str()), "id");
        for (i, p) in c.escalation_policies.iter().enumerate() {
            self.name(k, i, &p.name);
            if p.levels.is_empty() {
                self.push(k, i, "levels", "expected at least one level".into());
            }
            for (j, level) in p.levels.iter().enumerate() {
                if level.targets.is_empty() {
                    self.push(
                        k,
                        i,
                        format!("levels[{j}].targets"),
                        "expected at least one target".into(),
                    );
                }
                // A level with no wait would page the next level at the same moment, and a
                // repeating policy with no wait anywhere would loop without pause.
                if level.escalate_after_minutes == 0 {
                    self.push(
                        k,
                        i,
                        format!("levels[{j}].escalate_after_minutes"),
                        "expected at least 1 minute".into(),
                    );
                }
                let mut seen = HashSet::new();
                for (n, target) in level.targets.iter().enumerate() {
                    let field = format!("levels[{j}].targets[{n}]");
                    if !seen.insert(target) {
                        self.push(
                            k,
                            i,
                            field.clone(),
                            "target is listed twice in this level".into(),
                        );
                    }
                    match target {
                        Target::Schedule(id) => self.reference(k, i, field, Kind::Schedule, id),
                        Target::Person(id) => self.reference(k, i, field, Kind::Person, id),
                        Target::Team(id) => self.reference(k, i, field, Kind::Team, id),
                    }
                }
            }
        }
    }

    /// Teams and services that point at a policy must point at one that exists.
    pub(super) fn policy_pointers(&mut self) {
        let c = self.catalog;
        for (i, t) in c.teams.iter().enumerate() {
            if let Some(p) = &t.escalation_policy {
                self.reference(
                    Kind::Team,
                    i,
                    "escalation_policy".into(),
                    Kind::EscalationPolicy,
                    p,
                );
            }
        }
        for (i, s) in c.services.iter().enumerate() {
            if let Some(p) = &s.escalation_policy {
                self.reference(
                    Kind::Service,
                    i,
                    "escalation_policy".into(),
                    Kind::EscalationPolicy,
                    p,
                );
            }
        }
    }
}
