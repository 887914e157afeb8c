//! Alert rules at ingest: [`route`] is the pure decision (which rule matches an event, and what
//! it sets), [`ingest`] stores an event with that decision inside the caller's transaction.
//!
//! The first rule that matches wins (see `catalog::alerting` for why). Matching is plain and
//! safe: label values and the source compare exactly or with `*` globs (no regular
//! expressions, so no pathological patterns), `summary_contains` ignores case.

use crate::alerts::automation;
use crate::catalog::alerting::{AlertRule, RuleMatch, auto_resolve_ms};
use crate::catalog::{Catalog, Service};
use crate::db::{StoreError, Tx};

use super::integration::Integration;
use super::lifecycle::Transition;
use super::store::{self, Outcome, severity_str};
use super::{Action, AlertEvent};

/// What the rules decided for one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routed {
    /// The service the alert belongs to: the integration's, or the one a rule routed it to.
    pub service: String,
    pub playbook: Option<String>,
    /// The rule that matched, if any.
    pub rule: Option<String>,
    pub auto_resolve_after: Option<i64>,
    /// "severity → critical", "playbook → checkout-errors"…, for the alert's log.
    pub changes: Vec<String>,
}

impl Routed {
    /// The log line: "rule X matched: severity → critical, playbook → Y".
    pub fn log_line(&self) -> Option<String> {
        let rule = self.rule.as_ref()?;
        Some(format!("rule {rule} matched: {}", self.changes.join(", ")))
    }
}

/// `*` matches any run of characters (also none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut left) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match left.find(part) {
            Some(i) => left = &left[i + part.len()..],
            None => return false,
        }
    }
    left.len() >= last.len() && left.ends_with(last)
}

/// Whether `m` holds for `event` received by an integration of `service`.
pub fn matches(m: &RuleMatch, service: &str, event: &AlertEvent) -> bool {
    m.labels
        .iter()
        .all(|(k, v)| event.labels.get(k).is_some_and(|got| glob(v, got)))
        && m.summary_contains
            .as_ref()
            .is_none_or(|s| event.summary.to_lowercase().contains(&s.to_lowercase()))
        && m.source.as_ref().is_none_or(|s| glob(s, &event.source))
        && m.severity.is_none_or(|s| event.severity == Some(s))
        && m.service.as_ref().is_none_or(|s| s == service)
}

/// Applies the first matching rule of `catalog` to `event` (its severity may change) and says
/// where the alert goes and what it carries.
pub fn route(catalog: &Catalog, integration_service: &str, event: &mut AlertEvent) -> Routed {
    let mut routed = Routed {
        service: integration_service.to_string(),
        ..Routed::default()
    };
    let Some(rule) = catalog
        .alert_rules
        .iter()
        .find(|r| matches(&r.when, integration_service, event))
    else {
        return routed;
    };
    apply(rule, event, &mut routed);
    routed
}

fn apply(rule: &AlertRule, event: &mut AlertEvent, routed: &mut Routed) {
    let set = &rule.set;
    routed.rule = Some(rule.id.clone());
    if let Some(s) = set.severity {
        event.severity = Some(s);
        routed
            .changes
            .push(format!("severity → {}", severity_str(s)));
    }
    if let Some(s) = &set.service {
        routed.service.clone_from(s);
        routed.changes.push(format!("service → {s}"));
    }
    if let Some(p) = &set.playbook {
        routed.playbook = Some(p.clone());
        routed.changes.push(format!("playbook → {p}"));
    }
    if let Some(ms) = auto_resolve_ms(set) {
        routed.auto_resolve_after = Some(ms);
        let text = set.auto_resolve_after.as_deref().unwrap_or_default();
        routed.changes.push(format!("auto-resolve after {text}"));
    }
}

/// When an open alert resolves itself: the rule's quiet period from now, or the sender's own
/// `ends_at` (Alertmanager's API), whichever comes first.
pub fn auto_resolve_at(routed: &Routed, event: &AlertEvent, now: i64) -> Option<i64> {
    let by_rule = routed.auto_resolve_after.map(|ms| now.saturating_add(ms));
    let by_sender = event.ends_at.filter(|_| event.action == Action::Trigger);
    match (by_rule, by_sender) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Stores `event` as the rules decided, inside `tx`: a new alert records its rule, playbook
/// and deadline, logs the rule, and queues its playbook's automatic actions; a repeat moves
/// the deadline. Acknowledge and resolve events go to the service where this integration's
/// open alert with that key lives, since they rarely carry the labels the rule matched.
pub async fn ingest(
    tx: &mut Tx,
    catalog: &Catalog,
    integration: Option<&Integration>,
    routed: &Routed,
    event: &AlertEvent,
    now: i64,
) -> Result<Outcome, StoreError> {
    let mut service = routed.service.clone();
    if event.action != Action::Trigger
        && let (Some(i), Some(key)) = (integration, event.dedup_key.as_deref())
        && let Some(open) = automation::store::open_service(tx, &i.id, key.trim()).await?
    {
        service = open;
    }
    let outcome = store::ingest(tx, integration, &service, event, now).await?;
    let Some(alert_id) = outcome.alert_id.as_deref() else {
        return Ok(outcome);
    };
    let deadline = auto_resolve_at(routed, event, now);
    if outcome.created {
        // Nothing to record without a rule or a deadline: the columns start empty.
        if routed.rule.is_some() || deadline.is_some() {
            automation::store::set_routing(tx, alert_id, routed, deadline).await?;
        }
        if let Some(line) = routed.log_line() {
            automation::store::log(tx, alert_id, now, "rule", "rules", &line).await?;
        }
        if let Some(playbook) = routed.playbook.as_deref().and_then(|p| catalog.playbook(p)) {
            let ctx = automation::context(
                alert_id,
                &outcome.dedup_key,
                event,
                service_of(catalog, &service, &routed.service),
            );
            automation::queue_auto(tx, alert_id, playbook, &ctx, now).await?;
        }
    } else if outcome.transition == Some(Transition::Repeat) {
        automation::store::move_deadline(tx, alert_id, deadline).await?;
    }
    Ok(outcome)
}

pub(crate) fn service_of<'a>(catalog: &'a Catalog, id: &str, fallback: &str) -> (String, String) {
    let found: Option<&'a Service> = catalog.service(id).or_else(|| catalog.service(fallback));
    found.map_or_else(
        || (id.to_string(), id.to_string()),
        |s| (s.id.clone(), s.name.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        for (p, t) in [
            ("a", "a"),
            ("*", ""),
            ("*", "anything"),
            ("cart-*", "cart-service"),
            ("*-db", "orders-db"),
            ("a*b*c", "a-x-b-y-c"),
            ("a*a", "aa"),
            ("**", "x"),
        ] {
            assert!(glob(p, t), "{p} ~ {t}");
        }
        for (p, t) in [
            ("a", "b"),
            ("a", "ab"),
            ("cart-*", "carts"),
            ("*-db", "db"),
            ("a*a", "a"),
            ("a*b*c", "a-c-b"),
        ] {
            assert!(!glob(p, t), "{p} !~ {t}");
        }
    }
}
