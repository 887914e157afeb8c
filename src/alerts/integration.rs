//! Integration keys: one per (service, sender format), the secret a monitoring system presents
//! to send alerts. The secret is shown once, stored as a SHA-256 hash, and rotation replaces it
//! at once (the old one stops working in the same transaction). Creating, rotating and deleting
//! are audited. Ingestion endpoints authenticate the presented key through [`KeyCache`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{hash_secret, new_secret};
use crate::catalog::Catalog;
use crate::db::{Db, StoreError};

use super::store;

mod cache;
pub use cache::{KeyCache, TTL_MS as KEY_CACHE_TTL_MS};

/// Which wire format an integration accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    /// Prometheus Alertmanager webhook (`version: "4"`).
    Alertmanager,
    /// Grafana alerting webhook contact point.
    Grafana,
    /// Alertmanager's own `POST /api/v2/alerts`, for senders that speak to Alertmanager.
    AlertmanagerApi,
    /// PagerDuty Events API v2 (`routing_key` in the body).
    Pagerduty,
    /// Tocsin's generic JSON.
    Generic,
}

impl IntegrationKind {
    pub const ALL: [Self; 5] = [
        Self::Alertmanager,
        Self::Grafana,
        Self::AlertmanagerApi,
        Self::Pagerduty,
        Self::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alertmanager => "alertmanager",
            Self::Grafana => "grafana",
            Self::AlertmanagerApi => "alertmanager_api",
            Self::Pagerduty => "pagerduty",
            Self::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A fresh secret in the shape this sender accepts. PagerDuty clients validate that a
    /// routing key is exactly 32 characters, so those are 32 hex digits (128 bits); the others
    /// carry a prefix that says what they are (handy for secret scanners) and 256 bits.
    pub fn new_key(self) -> String {
        match self {
            Self::Pagerduty => new_secret("")[..32].to_string(),
            _ => new_secret("tcn_i_"),
        }
    }
}

/// An integration as listed (never with its key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Integration {
    pub id: String,
    pub service: String,
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
    /// When the key was last replaced.
    pub rotated_at: Option<i64>,
}

/// Creates an integration for a service of `c` and returns it with its key (the only time the
/// key exists in clear). NotFound when the catalog has no such service; an empty name becomes
/// the kind's.
pub async fn create(
    db: &Db,
    c: &Catalog,
    now: i64,
    actor: &str,
    service: &str,
    kind: IntegrationKind,
    name: &str,
) -> Result<(Integration, String), StoreError> {
    if c.service(service).is_none() {
        return Err(StoreError::NotFound);
    }
    let name = name.trim();
    let integration = Integration {
        id: new_secret("")[..12].to_string(),
        service: service.to_string(),
        kind,
        name: if name.is_empty() { kind.as_str() } else { name }.to_string(),
        created_by: actor.to_string(),
        created_at: now,
        rotated_at: None,
    };
    let key = kind.new_key();
    let mut tx = db.begin().await?;
    store::insert_integration(&mut tx, &integration, &hash_secret(&key)).await?;
    let detail = format!("{} {} {:?}", kind.as_str(), service, integration.name);
    let target = format!("integration {}", integration.id);
    audit::store::record(&mut tx, now, actor, "integration.create", &target, &detail).await?;
    tx.commit().await?;
    Ok((integration, key))
}

/// Replaces an integration's key and returns the new one; NotFound when there is no such id.
pub async fn rotate(
    db: &Db,
    now: i64,
    actor: &str,
    id: &str,
) -> Result<(Integration, String), StoreError> {
    let mut tx = db.begin().await?;
    let kind = store::integration_kind(&mut tx, id).await?;
    let key = kind.new_key();
    let integration = store::rotate_integration(&mut tx, id, &hash_secret(&key), now).await?;
    let target = format!("integration {id}");
    let detail = format!("{} {}", kind.as_str(), integration.service);
    audit::store::record(&mut tx, now, actor, "integration.rotate", &target, &detail).await?;
    tx.commit().await?;
    Ok((integration, key))
}

/// Deletes an integration (its key stops working; its alerts stay); NotFound when none.
pub async fn delete(db: &Db, now: i64, actor: &str, id: &str) -> Result<Integration, StoreError> {
    let mut tx = db.begin().await?;
    let integration = store::delete_integration(&mut tx, id).await?;
    let target = format!("integration {id}");
    let detail = format!("{} {}", integration.kind.as_str(), integration.service);
    audit::store::record(&mut tx, now, actor, "integration.delete", &target, &detail).await?;
    tx.commit().await?;
    Ok(integration)
}

/// The integration a presented key belongs to, or None for an unknown, rotated or deleted key.
/// The integration names its service; callers check `kind` against the endpoint's format.
/// Ingestion goes through [`KeyCache`] instead, which remembers the answer for a few seconds.
pub async fn authenticate(db: &Db, key: &str) -> Result<Option<Integration>, StoreError> {
    if key.is_empty() {
        return Ok(None);
    }
    lookup(db, &hash_secret(key)).await
}

/// The integration whose key hashes to `key_hash`, if any.
async fn lookup(db: &Db, key_hash: &str) -> Result<Option<Integration>, StoreError> {
    match store::integration_by_key_hash(db, key_hash).await {
        Ok(found) => Ok(Some(found)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_shape_their_sender_expects() {
        let pd = IntegrationKind::Pagerduty.new_key();
        assert_eq!(pd.len(), 32);
        assert!(pd.chars().all(|c| c.is_ascii_hexdigit()));
        let generic = IntegrationKind::Generic.new_key();
        assert!(generic.starts_with("tcn_i_") && generic.len() == 6 + 64);
        assert_ne!(generic, IntegrationKind::Generic.new_key());
    }

    #[test]
    fn kind_names_round_trip() {
        for k in IntegrationKind::ALL {
            assert_eq!(IntegrationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(IntegrationKind::parse("slack"), None);
    }
}
