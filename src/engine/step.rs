//! A tick's escalation steps, taken together inside one transaction: read what every claimed
//! escalation needs in a few statements, decide each step in memory in the claim's order,
//! then write pages, bundles, log lines and cursors a statement per table. The decisions are
//! the ones a step at a time would make: the throttle's state is read once and kept up to
//! date in memory as the tick's own pages are decided, in the same order.
//!
//! Why: each statement is a hand-off to SQLite's worker thread (or a round trip to
//! PostgreSQL), and a storm's tick of a hundred steps at about ten statements each held the
//! one SQLite writer long enough to halve ingestion (`BENCHMARKS.md`).

use std::collections::{BTreeSet, HashMap};

use crate::alerts::store::bulk::{LogLine, log_lines};
use crate::catalog::Catalog;
use crate::db::{StoreError, Tx};
use crate::escalation::engine::{Cursor, Page, step};
use crate::incidents::store::timeline::echo_alert_lines;

use super::{MAX_PAGES_PER_STEP, Tick, TickReport, store, throttle};

/// A page decided this tick: to whom about which alert, and the service it counts against.
struct Paged<'a> {
    alert: &'a str,
    service: &'a str,
    page: Page,
}

/// Where a throttled page goes: a bundle already waiting, or one this tick opens (by key).
enum Bundle {
    Stored(i64),
    New(String),
}

/// Steps every escalation of `claimed` (alert ids, oldest due first) still held by this owner.
pub(super) async fn step_all(
    tx: &mut Tx,
    t: &Tick<'_>,
    claimed: &[String],
    report: &mut TickReport,
) -> Result<(), StoreError> {
    let now = t.now;
    let held = store::lock_held_many(tx, claimed, t.owner).await?;
    // Those not held were acknowledged or resolved since the claim (the stop released the
    // lease), or another owner took them over: not ours to page.
    report.stepped += held.len();
    if held.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = held.iter().map(|h| h.alert_id.as_str()).collect();
    let routing = store::alert_routing_many(tx, &ids).await?;
    let mut lines = Vec::new();
    let mut moves: Vec<(&str, Option<Cursor>)> = Vec::new();
    let mut pages = Vec::new();
    let line = |alert: &str, kind: &'static str, detail: String| LogLine {
        alert_id: alert.to_string(),
        at: now,
        kind,
        actor: "engine".into(),
        detail,
    };
    for h in &held {
        let alert = h.alert_id.as_str();
        let Some(policy) = t.catalog.escalation_policy(&h.policy_id) else {
            let detail = format!("escalation policy {} no longer exists", h.policy_id);
            lines.push(line(alert, "escalation", detail));
            moves.push((alert, None));
            report.finished += 1;
            continue;
        };
        let (service, opened, due_at) = routing
            .get(alert)
            .map(|(s, o, d)| (s.as_str(), *o, *d))
            .unwrap_or_default();
        // The response target bounds each level's wait: a 5-minute target never lets a level
        // sit for 15 minutes before the next one is tried.
        let capped;
        let policy = match due_at.map(|d| (d - opened) / 60_000) {
            Some(target) => {
                capped = policy.capped(u32::try_from(target).unwrap_or(u32::MAX));
                &capped
            }
            None => policy,
        };
        let due = step(
            t.catalog,
            t.overrides,
            policy,
            h.cursor,
            now,
            MAX_PAGES_PER_STEP,
        );
        for page in due.pages {
            lines.push(line(alert, "page", page_detail(t.catalog, &page)));
            pages.push(Paged {
                alert,
                service,
                page,
            });
        }
        if due.next.is_none() {
            let detail = format!(
                "escalation policy {} exhausted without acknowledgement",
                policy.id
            );
            lines.push(line(alert, "escalation", detail));
            report.finished += 1;
        }
        moves.push((alert, due.next));
    }
    queue_pages(tx, &pages, now, report).await?;
    log_lines(tx, &lines).await?;
    let echoes: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l.alert_id.as_str(),
                l.at,
                l.kind,
                "engine",
                l.detail.as_str(),
            )
        })
        .collect();
    echo_alert_lines(tx, &echoes).await?;
    store::advance_many(tx, &moves, now).await
}

/// Queues every person's message for `pages`, in order: one per channel their rules give
/// (see `notify::plan`), each at its delay, or into a bundle when the throttle says so. The
/// idempotency key names alert, level, round, person and channel, so a redone step adds
/// nothing.
async fn queue_pages(
    tx: &mut Tx,
    pages: &[Paged<'_>],
    now: i64,
    report: &mut TickReport,
) -> Result<(), StoreError> {
    let people: BTreeSet<&str> = pages
        .iter()
        .flat_map(|p| p.page.people.iter().map(String::as_str))
        .collect();
    if people.is_empty() {
        return Ok(());
    }
    let people: Vec<&str> = people.into_iter().collect();
    let services: Vec<&str> = pages
        .iter()
        .map(|p| p.service)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let channels = crate::notify::store::channels_for_many(tx, &people).await?;
    let since = now.saturating_sub(throttle::WINDOW_MS);
    let mut state = store::throttle_state(tx, &people, &services, since).await?;
    let mut bundles: Vec<Bundle> = Vec::new();
    let mut open: HashMap<(String, String, Option<String>), usize> = HashMap::new();
    let mut joins = Vec::new();
    let mut plans = Vec::new();
    for p in pages {
        for person in &p.page.people {
            let pair = (person.clone(), p.service.to_string());
            let direct = state.direct.get(&pair).map_or(0, |alerts| {
                alerts.iter().filter(|a| a.as_str() != p.alert).count()
            });
            let (methods, rules) = channels.get(person).cloned().unwrap_or_default();
            let mut paged_direct = false;
            for planned in crate::notify::plan::plan(&methods, &rules) {
                let method = planned.method.clone();
                let key = format!(
                    "{}:{}:{}:{person}:{}:{}",
                    p.alert,
                    p.page.level,
                    p.page.round,
                    method.as_deref().unwrap_or("default"),
                    planned.delay_minutes
                );
                let slot = (person.clone(), p.service.to_string(), method.clone());
                let waiting = match open.get(&slot) {
                    Some(i) => Some(*i),
                    None => state.bundles.get(&slot).map(|id| {
                        bundles.push(Bundle::Stored(*id));
                        open.insert(slot.clone(), bundles.len() - 1);
                        bundles.len() - 1
                    }),
                };
                let delay_ms = i64::from(planned.delay_minutes).saturating_mul(60_000);
                let direct_count = i64::try_from(direct).unwrap_or(i64::MAX);
                let waiting_ref = waiting.map(|i| i64::try_from(i).unwrap_or(i64::MAX));
                let (kind, send_at) = match throttle::route(direct_count, waiting_ref, now) {
                    throttle::Route::Direct => {
                        paged_direct = true;
                        ("page", now.saturating_add(delay_ms))
                    }
                    throttle::Route::JoinBundle(i) => {
                        let i = usize::try_from(i).unwrap_or(usize::MAX);
                        joins.push((i, p.alert));
                        continue;
                    }
                    throttle::Route::NewBundle { send_at } => {
                        bundles.push(Bundle::New(key.clone()));
                        open.insert(slot, bundles.len() - 1);
                        ("bundle", send_at.saturating_add(delay_ms))
                    }
                };
                plans.push((
                    key,
                    p,
                    person.as_str(),
                    kind,
                    method,
                    planned.channel,
                    send_at,
                ));
            }
            if paged_direct {
                state.direct.entry(pair).or_default().push(p.alert.into());
            }
        }
    }
    let messages: Vec<store::NewMessage<'_>> = plans
        .iter()
        .map(
            |(key, p, person, kind, method, channel, send_at)| store::NewMessage {
                key,
                alert_id: p.alert,
                service_id: p.service,
                person,
                level: p.page.level,
                round: p.page.round,
                kind,
                contact_method_id: method.as_deref(),
                channel,
                created_at: now,
                send_at: *send_at,
            },
        )
        .collect();
    let inserted = store::insert_messages(tx, &messages).await?;
    for m in &messages {
        match (inserted.contains_key(m.key), m.kind) {
            (false, _) => report.duplicates += 1,
            (true, "bundle") => report.bundled += 1,
            (true, _) => report.pages += 1,
        }
    }
    if joins.is_empty() {
        return Ok(());
    }
    // Bundles this tick opened that a redone step had already queued: look their ids up.
    let missing: Vec<&str> = bundles
        .iter()
        .filter_map(|b| match b {
            Bundle::New(k) if !inserted.contains_key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    let earlier = if missing.is_empty() {
        HashMap::new()
    } else {
        store::message_ids(tx, &missing).await?
    };
    let items: Vec<(i64, &str)> = joins
        .iter()
        .filter_map(|(i, alert)| {
            let id = match bundles.get(*i)? {
                Bundle::Stored(id) => *id,
                Bundle::New(k) => *inserted.get(k).or_else(|| earlier.get(k))?,
            };
            Some((id, *alert))
        })
        .collect();
    let added = store::add_to_bundles(tx, &items).await?;
    report.bundled += added;
    report.duplicates += joins.len() - added;
    Ok(())
}

/// "paged Foo Bar (level 0)", with the round after the first pass, or why nobody was paged.
fn page_detail(catalog: &Catalog, page: &Page) -> String {
    let at = if page.round == 0 {
        format!("level {}", page.level)
    } else {
        format!("level {}, round {}", page.level, page.round + 1)
    };
    if page.people.is_empty() {
        return format!("nobody to page ({at}): no one on call");
    }
    let names: Vec<&str> = page
        .people
        .iter()
        .map(|id| catalog.person(id).map_or(id.as_str(), |p| p.name.as_str()))
        .collect();
    format!("paged {} ({at})", names.join(", "))
}
