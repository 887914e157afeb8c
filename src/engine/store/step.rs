//! The SQL of a tick's escalation steps taken together (`engine::step`): one statement per
//! table and tick instead of about ten per step. Each statement is a hand-off to SQLite's
//! worker thread (or a round trip to PostgreSQL), and a tick holding the one SQLite writer
//! through a thousand of them kept ingestion waiting (`BENCHMARKS.md`).

use std::collections::HashMap;

use crate::db::{MAX_BINDS, StoreError, Tx};
use crate::escalation::engine::Cursor;
use crate::on_tx;

use super::{Held, NewMessage};

/// [`super::lock_held`] for several escalations at once: those still active and leased to
/// `owner`, locked for the tick's transaction.
pub async fn lock_held_many(
    tx: &mut Tx,
    alerts: &[String],
    owner: &str,
) -> Result<Vec<Held>, StoreError> {
    let mut held = Vec::new();
    for alerts in alerts.chunks(MAX_BINDS - 1) {
        let rows: Vec<(String, String, i64, i64, i64)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "update escalations set lease_until = lease_until where lease_owner = ",
            );
            q.push_bind(owner)
                .push(" and state = 'active' and alert_id in (");
            let mut list = q.separated(", ");
            for a in alerts {
                list.push_bind(a);
            }
            q.push(") returning alert_id, policy_id, next_level, round, next_at");
            q.build_query_as().fetch_all(c).await
        })?;
        held.extend(
            rows.into_iter()
                .map(|(alert_id, policy_id, level, round, at)| Held {
                    alert_id,
                    policy_id,
                    cursor: Cursor {
                        level: usize::try_from(level).unwrap_or(usize::MAX),
                        round: u32::try_from(round).unwrap_or(u32::MAX),
                        at,
                    },
                }),
        );
    }
    // The claim's order (oldest due first), not the database's.
    let order: HashMap<&str, usize> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    held.sort_by_key(|h| order.get(h.alert_id.as_str()).copied());
    Ok(held)
}

/// Each alert's service, opening instant and response deadline ([`super::alert_routing`]).
pub async fn alert_routing_many(
    tx: &mut Tx,
    alerts: &[&str],
) -> Result<HashMap<String, (String, i64, Option<i64>)>, StoreError> {
    let mut found = HashMap::new();
    for alerts in alerts.chunks(MAX_BINDS) {
        let rows: Vec<(String, String, i64, Option<i64>)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "select id, service_id, created_at, response_due_at from alerts where id in (",
            );
            let mut list = q.separated(", ");
            for a in alerts {
                list.push_bind(*a);
            }
            q.push(")");
            q.build_query_as().fetch_all(c).await
        })?;
        found.extend(rows.into_iter().map(|(id, s, o, d)| (id, (s, o, d))));
    }
    Ok(found)
}

/// Moves each escalation to its next position, or stops it (None), and releases its lease.
pub async fn advance_many(
    tx: &mut Tx,
    moves: &[(&str, Option<Cursor>)],
    now: i64,
) -> Result<(), StoreError> {
    let (going, ended): (Vec<_>, Vec<_>) = moves.iter().partition(|(_, n)| n.is_some());
    for going in going.chunks(MAX_BINDS / 4) {
        on_tx!(&mut *tx, |c| {
            // The casts type the list for PostgreSQL (see `alerts::store::bulk::bump_alerts`).
            let mut q = sqlx::QueryBuilder::new("with v (id, l, r, t) as (values ");
            let mut rows = q.separated(", ");
            for (alert, next) in going {
                let n = next.unwrap_or(Cursor::start(0));
                rows.push("(cast(")
                    .push_bind_unseparated(*alert)
                    .push_unseparated(" as text), cast(")
                    .push_bind_unseparated(i64::try_from(n.level).unwrap_or(i64::MAX))
                    .push_unseparated(" as bigint), cast(")
                    .push_bind_unseparated(i64::from(n.round))
                    .push_unseparated(" as bigint), cast(")
                    .push_bind_unseparated(n.at)
                    .push_unseparated(" as bigint))");
            }
            q.push(
                ") update escalations set next_level = v.l, round = v.r, next_at = v.t, \
                lease_owner = null, lease_until = null from v where escalations.alert_id = v.id",
            );
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    for ended in ended.chunks(MAX_BINDS - 1) {
        on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "update escalations set state = 'stopped', lease_owner = null, \
                lease_until = null, stopped_at = ",
            );
            q.push_bind(now).push(" where alert_id in (");
            let mut list = q.separated(", ");
            for (alert, _) in ended {
                list.push_bind(*alert);
            }
            q.push(")");
            q.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// [`super::insert_message`] for several messages: the idempotency key and id of each row
/// inserted. A key missing from the answer was already queued (a redone step).
pub async fn insert_messages(
    tx: &mut Tx,
    messages: &[NewMessage<'_>],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut inserted = HashMap::new();
    for messages in messages.chunks(MAX_BINDS / 11) {
        let rows: Vec<(String, i64)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "insert into outbox (idempotency_key, alert_id, person_id, level, round, kind, \
                created_at, next_attempt_at, attempts, status, service_id, contact_method_id, \
                channel) ",
            );
            q.push_values(messages, |mut b, m| {
                b.push_bind(m.key)
                    .push_bind(m.alert_id)
                    .push_bind(m.person)
                    .push_bind(i64::try_from(m.level).unwrap_or(i64::MAX))
                    .push_bind(i64::from(m.round))
                    .push_bind(m.kind)
                    .push_bind(m.created_at)
                    .push_bind(m.send_at)
                    .push("0, 'pending'")
                    .push_bind(m.service_id)
                    .push_bind(m.contact_method_id)
                    .push_bind(m.channel);
            });
            q.push(" on conflict (idempotency_key) do nothing returning idempotency_key, id");
            q.build_query_as().fetch_all(c).await
        })?;
        inserted.extend(rows);
    }
    Ok(inserted)
}

/// The ids of the messages queued under `keys` (bundles a redone step had already opened).
pub async fn message_ids(tx: &mut Tx, keys: &[&str]) -> Result<HashMap<String, i64>, StoreError> {
    let mut found = HashMap::new();
    for keys in keys.chunks(MAX_BINDS) {
        let rows: Vec<(String, i64)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new(
                "select idempotency_key, id from outbox where idempotency_key in (",
            );
            let mut list = q.separated(", ");
            for k in keys {
                list.push_bind(*k);
            }
            q.push(")");
            q.build_query_as().fetch_all(c).await
        })?;
        found.extend(rows);
    }
    Ok(found)
}

/// [`super::add_to_bundle`] for several (bundle, alert) pairs: how many were new.
pub async fn add_to_bundles(tx: &mut Tx, items: &[(i64, &str)]) -> Result<usize, StoreError> {
    let mut added = 0;
    for items in items.chunks(MAX_BINDS / 2) {
        let rows: Vec<(i64,)> = on_tx!(&mut *tx, |c| {
            let mut q = sqlx::QueryBuilder::new("insert into outbox_items (outbox_id, alert_id) ");
            q.push_values(items, |mut b, (id, alert)| {
                b.push_bind(*id).push_bind(*alert);
            });
            q.push(" on conflict (outbox_id, alert_id) do nothing returning outbox_id");
            q.build_query_as().fetch_all(c).await
        })?;
        added += rows.len();
    }
    Ok(added)
}

/// What the throttle needs about `people` and `services` at `since`: for each (person,
/// service), the still-unacknowledged alerts paged to the person directly since then
/// ([`super::direct_pages_since`] before leaving one out), and the bundles still waiting,
/// newest first, by (person, service, contact method).
pub struct Throttled {
    pub direct: HashMap<(String, String), Vec<String>>,
    pub bundles: HashMap<(String, String, Option<String>), i64>,
}

pub async fn throttle_state(
    tx: &mut Tx,
    people: &[&str],
    services: &[&str],
    since: i64,
) -> Result<Throttled, StoreError> {
    let mut state = Throttled {
        direct: HashMap::new(),
        bundles: HashMap::new(),
    };
    if people.is_empty() || services.is_empty() {
        return Ok(state);
    }
    // Both lists are bound whole: a tick steps at most `engine::BATCH` escalations, so they
    // stay far under the bind limit.
    type Direct = (String, String, String);
    let direct: Vec<Direct> = on_tx!(&mut *tx, |c| {
        let mut q = sqlx::QueryBuilder::new(
            "select distinct o.person_id, o.service_id, o.alert_id from outbox o \
            join alerts a on a.id = o.alert_id where o.kind = 'page' \
            and a.status = 'triggered' and o.created_at >= ",
        );
        q.push_bind(since).push(" and o.person_id in (");
        let mut list = q.separated(", ");
        for p in people {
            list.push_bind(*p);
        }
        q.push(") and o.service_id in (");
        let mut list = q.separated(", ");
        for s in services {
            list.push_bind(*s);
        }
        q.push(")");
        q.build_query_as().fetch_all(c).await
    })?;
    for (person, service, alert) in direct {
        state
            .direct
            .entry((person, service))
            .or_default()
            .push(alert);
    }
    type Bundle = (i64, String, String, Option<String>);
    let bundles: Vec<Bundle> = on_tx!(&mut *tx, |c| {
        let mut q = sqlx::QueryBuilder::new(
            "select id, person_id, service_id, contact_method_id from outbox \
            where kind = 'bundle' and status = 'pending' and attempts = 0 \
            and lease_owner is null and person_id in (",
        );
        let mut list = q.separated(", ");
        for p in people {
            list.push_bind(*p);
        }
        q.push(") and service_id in (");
        let mut list = q.separated(", ");
        for s in services {
            list.push_bind(*s);
        }
        q.push(") order by id desc");
        q.build_query_as().fetch_all(c).await
    })?;
    for (id, person, service, method) in bundles {
        state.bundles.entry((person, service, method)).or_insert(id);
    }
    Ok(state)
}
