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
        tiers: pick(Kind::Tier).tiers.clone(),
        teams: pick(Kind::Team).teams.clone(),
        domains: pick(Kind::Domain).domains.clone(),
        people: pick(Kind::Person).people.clone(),
        business_functions: pick(Kind::BusinessFunction).business_functions.clone(),
        services: pick(Kind::Service).services.clone(),
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
        Kind::BusinessFunction => json(&c.business_functions),
        Kind::Service => json(&c.services),
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
