//! People's contact methods and notification rules: the types, their validation, the pure
//! [`due_channels`] question ("which methods does this page use by now?") and the audited
//! create/delete operations that the API, UI and CLI will share.
//!
//! A rule says "notify through this method N minutes after the page started"; a person with
//! "chat at once, email after 2 minutes" has two rules. Rules only point at the same person's
//! methods (the store enforces it in the insert itself).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::new_secret;
use crate::clock::Millis;
use crate::db::{Db, StoreError};

use super::store;

/// A day: a rule later than that is a mistake, not a policy.
pub const MAX_DELAY_MINUTES: u32 = 24 * 60;
/// Longer than any real webhook URL or email address (RFC 5321 caps addresses at 254).
const MAX_TARGET_LEN: usize = 2048;

/// How a contact method delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    /// Tocsin's signed JSON (see `notify::webhook`).
    Webhook,
    Slack,
    Mattermost,
    Email,
}

impl ContactKind {
    pub const ALL: [Self; 4] = [Self::Webhook, Self::Slack, Self::Mattermost, Self::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Slack => "slack",
            Self::Mattermost => "mattermost",
            Self::Email => "email",
        }
    }

    /// The kind as people read it in a sentence ("via Slack", "by email").
    pub fn label(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Slack => "Slack",
            Self::Mattermost => "Mattermost",
            Self::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One way to reach a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContactMethod {
    pub id: String,
    pub person: String,
    pub kind: ContactKind,
    /// A URL (webhook, Slack, Mattermost) or an email address.
    pub target: String,
    /// The webhook signing secret; never serialised (shown once by the caller that creates it).
    #[serde(skip)]
    pub secret: Option<String>,
    pub created_at: Millis,
    pub verified_at: Option<Millis>,
}

/// "Notify through `contact_method` `delay_minutes` after the page started."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationRule {
    pub id: String,
    pub person: String,
    pub contact_method: String,
    pub delay_minutes: u32,
}

/// Why a contact method or rule was refused.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a target for its kind: an http(s) URL for the webhook kinds, an address for email.
/// Where a URL may point (SSRF) is not checked here yet.
pub fn validate_target(kind: ContactKind, target: &str) -> Result<(), String> {
    if target.is_empty() || target.len() > MAX_TARGET_LEN {
        return Err(format!("target must be 1 to {MAX_TARGET_LEN} characters"));
    }
    if target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("target must not contain spaces or control characters".into());
    }
    match kind {
        ContactKind::Email => {
            let ok = target.len() <= 254
                && target
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
            ok.then_some(())
                .ok_or_else(|| format!("{target:?} is not an email address"))
        }
        _ => {
            let rest = target
                .strip_prefix("https://")
                .or_else(|| target.strip_prefix("http://"));
            match rest {
                Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
                _ => Err(format!("{target:?} is not an http(s) URL")),
            }
        }
    }
}

/// The methods a page uses once `minutes_since_page` minutes have passed: every rule whose delay
/// has come, earliest first, each method once. The engine sends those it has not sent yet.
pub fn due_channels(rules: &[NotificationRule], minutes_since_page: u32) -> Vec<String> {
    let mut due: Vec<&NotificationRule> = rules
        .iter()
        .filter(|r| r.delay_minutes <= minutes_since_page)
        .collect();
    due.sort_by(|a, b| (a.delay_minutes, &a.id).cmp(&(b.delay_minutes, &b.id)));
    let mut ids: Vec<String> = Vec::new();
    for r in due {
        if !ids.contains(&r.contact_method) {
            ids.push(r.contact_method.clone());
        }
    }
    ids
}

/// When the next rule falls due after `minutes_since_page` (the engine's next wake-up for this
/// page), or None when every rule has fired.
pub fn next_due(rules: &[NotificationRule], minutes_since_page: u32) -> Option<u32> {
    rules
        .iter()
        .map(|r| r.delay_minutes)
        .filter(|&d| d > minutes_since_page)
        .min()
}

/// Adds a contact method for `person` (who must exist: Conflict otherwise). Webhooks get a
/// fresh signing secret, returned in `secret`.
pub async fn add_method(
    db: &Db,
    now: Millis,
    actor: &str,
    person: &str,
    kind: ContactKind,
    target: &str,
) -> Result<ContactMethod, ContactError> {
    let target = target.trim();
    validate_target(kind, target).map_err(ContactError::Invalid)?;
    let method = ContactMethod {
        id: new_secret("")[..12].to_string(),
        person: person.to_string(),
        kind,
        target: target.to_string(),
        secret: (kind == ContactKind::Webhook).then(|| new_secret("tcn_whsec_")),
        created_at: now,
        verified_at: None,
    };
    let mut tx = db.begin().await?;
    store::insert_method(&mut tx, &method).await?;
    // The target is not logged: webhook URLs are secrets (Slack's and Mattermost's carry the key).
    let detail = format!("{} for {person}", kind.as_str());
    let target_name = format!("contact {}", method.id);
    audit::store::record(&mut tx, now, actor, "contact.create", &target_name, &detail).await?;
    tx.commit().await?;
    Ok(method)
}

/// Removes a contact method and its rules; NotFound when there is no such id.
pub async fn remove_method(db: &Db, now: Millis, actor: &str, id: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let person = store::delete_method(&mut tx, id).await?;
    let target = format!("contact {id}");
    audit::store::record(&mut tx, now, actor, "contact.delete", &target, &person).await?;
    tx.commit().await
}

/// Adds a rule for one of `person`'s methods; NotFound when the method is not theirs, Conflict
/// when the same (method, delay) rule exists.
pub async fn add_rule(
    db: &Db,
    now: Millis,
    actor: &str,
    person: &str,
    contact_method: &str,
    delay_minutes: u32,
) -> Result<NotificationRule, ContactError> {
    if delay_minutes > MAX_DELAY_MINUTES {
        return Err(ContactError::Invalid(format!(
            "delay must be at most {MAX_DELAY_MINUTES} minutes"
        )));
    }
    let rule = NotificationRule {
        id: new_secret("")[..12].to_string(),
        person: person.to_string(),
        contact_method: contact_method.to_string(),
        delay_minutes,
    };
    let mut tx = db.begin().await?;
    store::insert_rule(&mut tx, &rule).await?;
    let detail = format!("{contact_method} after {delay_minutes} min for {person}");
    let target = format!("notification rule {}", rule.id);
    audit::store::record(&mut tx, now, actor, "rule.create", &target, &detail).await?;
    tx.commit().await?;
    Ok(rule)
}

/// Removes a rule; NotFound when there is no such id.
pub async fn remove_rule(db: &Db, now: Millis, actor: &str, id: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let person = store::delete_rule(&mut tx, id).await?;
    let target = format!("notification rule {id}");
    audit::store::record(&mut tx, now, actor, "rule.delete", &target, &person).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, method: &str, delay: u32) -> NotificationRule {
        NotificationRule {
            id: id.into(),
            person: "jon-doe".into(),
            contact_method: method.into(),
            delay_minutes: delay,
        }
    }

    #[test]
    fn chat_at_once_email_after_two_minutes() {
        let rules = [rule("r2", "email", 2), rule("r1", "chat", 0)];
        assert_eq!(due_channels(&rules, 0), ["chat"]);
        assert_eq!(due_channels(&rules, 1), ["chat"]);
        assert_eq!(due_channels(&rules, 2), ["chat", "email"]);
        assert_eq!(next_due(&rules, 0), Some(2));
        assert_eq!(next_due(&rules, 2), None);
        assert!(due_channels(&[], 10).is_empty());
    }

    #[test]
    fn a_method_with_two_rules_is_listed_once() {
        let rules = [
            rule("a", "chat", 0),
            rule("b", "chat", 5),
            rule("c", "sms", 3),
        ];
        assert_eq!(due_channels(&rules, 10), ["chat", "sms"]);
    }

    #[test]
    fn targets_match_their_kind() {
        use ContactKind::*;
        assert!(validate_target(Slack, "https://hooks.slack.com/services/T/B/X").is_ok());
        assert!(validate_target(Webhook, "http://127.0.0.1:8080/hook").is_ok());
        assert!(validate_target(Mattermost, "ftp://x").is_err());
        assert!(validate_target(Webhook, "https://").is_err());
        assert!(validate_target(Webhook, "https://a b").is_err());
        assert!(validate_target(Email, "jon.doe@shop.example").is_ok());
        assert!(validate_target(Email, "jon.doe").is_err());
        assert!(validate_target(Email, "a@b@c.d").is_err());
        assert!(validate_target(Email, "").is_err());
    }
}
