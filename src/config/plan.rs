//! Pure diff between the catalog in the database and the catalog the files describe.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;

use crate::catalog::{Catalog, Kind};

/// What happens to one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    Create,
    /// The names of the fields that change.
    Update {
        fields: Vec<String>,
    },
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(serialize_with = "kind_noun")]
    pub kind: Kind,
    pub id: String,
    #[serde(flatten)]
    pub op: Op,
}

fn kind_noun<S: serde::Serializer>(k: &Kind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.noun())
}

/// Every change, creations and updates in dependency order, then deletions in reverse order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn count(&self, pick: fn(&Op) -> bool) -> usize {
        self.changes.iter().filter(|c| pick(&c.op)).count()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            match &c.op {
                Op::Create => writeln!(f, "  + create {} {}", c.kind.noun(), c.id)?,
                Op::Update { fields } => {
                    writeln!(
                        f,
                        "  ~ update {} {} ({})",
                        c.kind.noun(),
                        c.id,
                        fields.join(", ")
                    )?;
                }
                Op::Delete => writeln!(f, "  - delete {} {}", c.kind.noun(), c.id)?,
            }
        }
        write!(
            f,
            "Plan: {} to create, {} to update, {} to delete.",
            self.count(|o| matches!(o, Op::Create)),
            self.count(|o| matches!(o, Op::Update { .. })),
            self.count(|o| matches!(o, Op::Delete)),
        )
    }
}

/// The catalog to store: `files`' records for the managed kinds, `base`'s for the others.
pub fn overlay(base: &Catalog, files: &Catalog, managed: &BTreeSet<Kind>) -> Catalog {
    let pick = |k: Kind| if managed.contains(&k) { files } else { base };
    Catalog {
        severities: pick(Kind::Severity).severities.clone(),
        tiers: pick(Kind::Tier).tiers.clone(),
        teams: pick(Kind::Team).teams.clone(),
        domains: pick(Kind::Domain).domains.clone(),
        people: pick(Kind::Person).people.clone(),
        schedules: pick(Kind::Schedule).schedules.clone(),
        escalation_policies: pick(Kind::EscalationPolicy).escalation_policies.clone(),
        business_functions: pick(Kind::BusinessFunction).business_functions.clone(),
        services: pick(Kind::Service).services.clone(),
        playbooks: pick(Kind::Playbook).playbooks.clone(),
        alert_rules: pick(Kind::AlertRule).alert_rules.clone(),
        slos: pick(Kind::Slo).slos.clone(),
    }
}

/// The changes that turn `current` into `desired`, comparing records by id.
pub fn diff(current: &Catalog, desired: &Catalog) -> Plan {
    let mut creates_updates = Vec::new();
    let mut deletes = Vec::new();
    for kind in Kind::ALL {
        let before = records(current, kind);
        let after = records(desired, kind);
        for (id, value) in &after.1 {
            match before.0.get(id) {
                None => creates_updates.push(Change {
                    kind,
                    id: id.clone(),
                    op: Op::Create,
                }),
                Some(old) if old != value => {
                    let fields = changed_fields(old, value);
                    creates_updates.push(Change {
                        kind,
                        id: id.clone(),
                        op: Op::Update { fields },
                    });
                }
                Some(_) => {}
            }
        }
        for (id, _) in &before.1 {
            if !after.0.contains_key(id) {
                deletes.push(Change {
                    kind,
                    id: id.clone(),
                    op: Op::Delete,
                });
            }
        }
    }
    deletes.reverse();
    creates_updates.extend(deletes);
    Plan {
        changes: creates_updates,
    }
}

type Records = (
    HashMap<String, serde_json::Value>,
    Vec<(String, serde_json::Value)>,
);

/// A kind's records as JSON values keyed by id (and in order), so one diff serves all kinds.
fn records(c: &Catalog, kind: Kind) -> Records {
    fn json<T: Serialize>(items: &[T]) -> Vec<serde_json::Value> {
        items
            .iter()
            .map(|i| serde_json::to_value(i).unwrap_or_default())
            .collect()
    }
    let values = match kind {
        Kind::Tier => json(&c.tiers),
        Kind::Team => json(&c.teams),
        Kind::Domain => json(&c.domains),
        Kind::Person => json(&c.people),
        Kind::Schedule => json(&c.schedules),
        Kind::EscalationPolicy => json(&c.escalation_policies),
        Kind::Severity => json(&c.severities),
        Kind::BusinessFunction => json(&c.business_functions),
        Kind::Service => json(&c.services),
        Kind::Playbook => json(&c.playbooks),
        Kind::Slo => json(&c.slos),
        // A rule's place in the list is its priority: moving it is a change.
        Kind::AlertRule => json(&c.alert_rules)
            .into_iter()
            .enumerate()
            .map(|(i, mut v)| {
                if let Some(o) = v.as_object_mut() {
                    o.insert("position".into(), i.into());
                }
                v
            })
            .collect(),
    };
    let ordered: Vec<(String, serde_json::Value)> = c.ids(kind).into_iter().zip(values).collect();
    (ordered.iter().cloned().collect(), ordered)
}

fn changed_fields(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    keys.into_iter()
        .filter(|k| o.get(*k) != n.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    //! The diff on small catalogs built in code: which changes, in which order, shown how.

    use super::*;
    use crate::catalog::{Domain, Tier};
    use crate::people::Team;

    fn tier(level: u8) -> Tier {
        Tier {
            level,
            name: format!("Tier {level}"),
            description: String::new(),
        }
    }

    fn team(id: &str) -> Team {
        Team {
            escalation_policy: None,
            id: id.into(),
            name: id.into(),
            description: String::new(),
        }
    }

    fn domain(id: &str) -> Domain {
        Domain {
            id: id.into(),
            name: id.into(),
            description: String::new(),
        }
    }

    fn order(plan: &Plan) -> Vec<String> {
        plan.changes
            .iter()
            .map(|c| {
                let op = match c.op {
                    Op::Create => "+",
                    Op::Update { .. } => "~",
                    Op::Delete => "-",
                };
                format!("{op}{} {}", c.kind.noun(), c.id)
            })
            .collect()
    }

    #[test]
    fn creates_follow_dependency_order_and_deletes_reverse_it() {
        // Listed in the "wrong" order in both catalogs on purpose: the plan orders by kind
        // (referenced kinds first) for creates, and the exact reverse for deletes.
        let old = Catalog {
            domains: vec![domain("d1"), domain("d2")],
            teams: vec![team("old-a"), team("old-b")],
            tiers: vec![tier(9)],
            ..Catalog::default()
        };
        let new = Catalog {
            domains: vec![domain("new-d")],
            teams: vec![team("t2"), team("t1")],
            tiers: vec![tier(1), tier(0)],
            ..Catalog::default()
        };
        assert_eq!(
            order(&diff(&old, &new)),
            [
                "+tier 1",
                "+tier 0",
                "+team t2",
                "+team t1",
                "+domain new-d",
                "-domain d2",
                "-domain d1",
                "-team old-b",
                "-team old-a",
                "-tier 9",
            ]
        );
    }

    #[test]
    fn updates_name_the_changed_fields() {
        let old = Catalog {
            teams: vec![team("a"), team("b")],
            ..Catalog::default()
        };
        let mut new = old.clone();
        new.teams[1].name = "B".into();
        new.teams[1].description = "now described".into();
        let plan = diff(&old, &new);
        assert_eq!(
            plan.changes,
            [Change {
                kind: Kind::Team,
                id: "b".into(),
                op: Op::Update {
                    fields: vec!["description".into(), "name".into()]
                },
            }]
        );
        assert_eq!(
            plan.to_string(),
            "  ~ update team b (description, name)\nPlan: 0 to create, 1 to update, 0 to delete."
        );
        // Back again: the field that becomes empty (and so is not serialized) still counts.
        let back = diff(&new, &old);
        assert_eq!(order(&back), ["~team b"]);
        assert_eq!(
            back.changes[0].op,
            Op::Update {
                fields: vec!["description".into(), "name".into()]
            }
        );
    }

    #[test]
    fn same_records_in_another_order_are_no_change() {
        let a = Catalog {
            teams: vec![team("a"), team("b")],
            tiers: vec![tier(0), tier(1)],
            ..Catalog::default()
        };
        let mut b = a.clone();
        b.teams.reverse();
        b.tiers.reverse();
        let plan = diff(&a, &b);
        assert!(plan.is_empty());
        assert_eq!(
            plan.to_string(),
            "Plan: 0 to create, 0 to update, 0 to delete."
        );
    }

    #[test]
    fn plan_serializes_for_the_api() {
        let plan = diff(
            &Catalog::default(),
            &Catalog {
                teams: vec![team("a")],
                ..Catalog::default()
            },
        );
        assert_eq!(
            serde_json::to_value(&plan).unwrap(),
            serde_json::json!({"changes": [{"kind": "team", "id": "a", "op": "create"}]})
        );
    }

    #[test]
    fn overlay_takes_managed_kinds_from_the_files() {
        let base = Catalog {
            teams: vec![team("db-team")],
            tiers: vec![tier(0)],
            ..Catalog::default()
        };
        let files = Catalog {
            teams: vec![team("file-team")],
            ..Catalog::default()
        };
        let managed = BTreeSet::from([Kind::Team, Kind::Domain]);
        let merged = overlay(&base, &files, &managed);
        assert_eq!(merged.teams, files.teams);
        assert_eq!(merged.tiers, base.tiers);
        // Managed and empty in the files: the kind becomes empty (its records get deleted).
        assert!(merged.domains.is_empty());
    }
}
