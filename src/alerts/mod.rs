//! Alerts: what monitoring systems tell us, normalised. Every ingestion format
//! (`integrations/`) parses its wire body into [`AlertEvent`]s; the alert lifecycle
//! (triggered → acknowledged → resolved, deduplicated per service on the dedup key while open)
//! consumes them. Parsing is pure and never reads the clock: instants a sender leaves out are
//! filled in by the caller.

pub mod api;
pub mod automation;
pub mod batch;
pub mod bulk;
pub mod candidates;
pub mod ingest;
pub mod integration;
pub mod integrations;
pub mod lifecycle;
pub mod limit;
pub mod plan;
pub mod playbook;
pub mod rules;
pub mod store;
pub mod web;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an event asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Trigger,
    Acknowledge,
    Resolve,
}

/// How bad the sender says it is (PagerDuty's four levels, which the other formats map onto).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

/// A link a sender attaches (dashboard, runbook, the alert in its source).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventLink {
    pub href: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// An image a sender attaches (a graph snapshot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventImage {
    pub src: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub href: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alt: String,
}

/// One normalised event from any sender.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertEvent {
    pub action: Action,
    /// Identifies the alert at its source (Alertmanager's fingerprint, PagerDuty's dedup_key…);
    /// None on a trigger means "new alert, make up a key".
    pub dedup_key: Option<String>,
    pub summary: String,
    pub severity: Option<Severity>,
    /// What sent it or what it is about (a host, "alertmanager", a Grafana instance…).
    pub source: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Free-form details (PagerDuty custom_details, the generic endpoint's `details`).
    pub details: serde_json::Value,
    pub links: Vec<EventLink>,
    pub images: Vec<EventImage>,
    /// When the problem started, if the sender says (ms since the epoch).
    pub started_at: Option<i64>,
    /// When the sender expects it to end without a resolve (Alertmanager API `endsAt`).
    pub ends_at: Option<i64>,
}

/// Why a body was refused: each problem with the field it concerns, for a 400/422 reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ParseError {
    pub problems: Vec<String>,
}

impl ParseError {
    pub fn one(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}
