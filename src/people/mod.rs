//! Teams and people: who owns what, and who can be reached. Membership is kept on the person
//! (a person lists their teams), which is how the YAML reads.

pub mod store;
pub mod web;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A team that owns services and business functions and answers pages for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The escalation policy that answers for this team's services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_policy: Option<String>,
}

/// A person in the organisation. `time_zone` is an IANA name (e.g. `Europe/London`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub time_zone: String,
    /// Job title, shown in escalation matrices ("Manager", "Sr Manager").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}
