//! The audit log: every configuration change, login and token operation, append-only and
//! readable by admins.

pub mod api;
pub mod store;
pub mod web;

use serde::Serialize;
use utoipa::ToSchema;

/// One audit entry. `at` is milliseconds since the epoch (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}
