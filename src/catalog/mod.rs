//! The catalog: domains, service tiers, business functions and components/services, plus the
//! whole-catalog snapshot ([`Catalog`]) that config-as-code and the API validate before writing.

pub mod alerting;
pub mod api;
pub mod impact;
pub mod snapshot;
pub mod store;
pub mod validate;
pub mod web;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::escalation::EscalationPolicy;
use crate::oncall::Schedule;
use crate::people::{Person, Team};
pub use alerting::{AlertRule, Playbook};

/// A business domain (Checkout, Payment…); services belong to one, functions depend on some.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A service tier with its meaning ("Tier 0: the business stops").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub level: u8,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// How much the business suffers when a function stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Critical,
    High,
    Medium,
    Low,
}

/// A critical business function ("check out a product already in the cart").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessFunction {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub primary_domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on_domains: Vec<String>,
    pub owner_team: String,
    pub criticality: Criticality,
}

/// What kind of component a service is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceType {
    RestApi,
    GrpcApi,
    WebApp,
    Worker,
    Database,
    Cache,
    Queue,
    Storage,
    Platform,
    External,
    Other,
}

impl ServiceType {
    pub const ALL: [Self; 11] = [
        Self::RestApi,
        Self::GrpcApi,
        Self::WebApp,
        Self::Worker,
        Self::Database,
        Self::Cache,
        Self::Queue,
        Self::Storage,
        Self::Platform,
        Self::External,
        Self::Other,
    ];

    /// The kebab-case name used in YAML, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestApi => "rest-api",
            Self::GrpcApi => "grpc-api",
            Self::WebApp => "web-app",
            Self::Worker => "worker",
            Self::Database => "database",
            Self::Cache => "cache",
            Self::Queue => "queue",
            Self::Storage => "storage",
            Self::Platform => "platform",
            Self::External => "external",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl Criticality {
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A link from a service to its dashboards, runbook, repository…
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// A component or service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    pub stateful: bool,
    pub owner_team: String,
    pub tier: u8,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Overrides the owner team's escalation policy for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_policy: Option<String>,
}

/// The kinds of catalog record, in the order they are created (referenced kinds first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Severity,
    Tier,
    Team,
    Domain,
    Person,
    Schedule,
    EscalationPolicy,
    BusinessFunction,
    Service,
    Playbook,
    AlertRule,
    Slo,
}

impl Kind {
    pub const ALL: [Self; 12] = [
        Self::Severity,
        Self::Tier,
        Self::Team,
        Self::Domain,
        Self::Person,
        Self::Schedule,
        Self::EscalationPolicy,
        Self::BusinessFunction,
        Self::Service,
        Self::Playbook,
        Self::AlertRule,
        Self::Slo,
    ];

    /// The key of this kind's list in a YAML file.
    pub fn yaml_key(self) -> &'static str {
        match self {
            Self::Severity => "severities",
            Self::Tier => "tiers",
            Self::Team => "teams",
            Self::Domain => "domains",
            Self::Person => "people",
            Self::Schedule => "schedules",
            Self::EscalationPolicy => "escalation_policies",
            Self::BusinessFunction => "business_functions",
            Self::Service => "services",
            Self::Playbook => "playbooks",
            Self::AlertRule => "alert_rules",
            Self::Slo => "slos",
        }
    }

    /// The singular noun people read in plans and errors.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Severity => "severity level",
            Self::Tier => "tier",
            Self::Team => "team",
            Self::Domain => "domain",
            Self::Person => "person",
            Self::Schedule => "schedule",
            Self::EscalationPolicy => "escalation policy",
            Self::BusinessFunction => "business function",
            Self::Service => "service",
            Self::Playbook => "playbook",
            Self::AlertRule => "alert rule",
            Self::Slo => "SLO",
        }
    }
}

/// The whole catalog at one moment: what the database holds, or what a set of files describes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<crate::severity::SeverityLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<Team>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Domain>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation_policies: Vec<EscalationPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub business_functions: Vec<BusinessFunction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbooks: Vec<Playbook>,
    /// In priority order: the first rule that matches an event wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_rules: Vec<AlertRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<crate::slo::Slo>,
}

impl Catalog {
    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn tier(&self, level: u8) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.level == level)
    }

    pub fn domain(&self, id: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.id == id)
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    pub fn schedule(&self, id: &str) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }

    pub fn escalation_policy(&self, id: &str) -> Option<&EscalationPolicy> {
        self.escalation_policies.iter().find(|p| p.id == id)
    }

    pub fn playbook(&self, id: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.id == id)
    }

    pub fn alert_rule(&self, id: &str) -> Option<&AlertRule> {
        self.alert_rules.iter().find(|r| r.id == id)
    }

    /// The policy that answers for `service`: its own, else its owner team's.
    pub fn policy_for_service(&self, service: &Service) -> Option<&EscalationPolicy> {
        let id = service
            .escalation_policy
            .as_deref()
            .or_else(|| self.team(&service.owner_team)?.escalation_policy.as_deref())?;
        self.escalation_policy(id)
    }

    /// The ids of every record of `kind`, in catalog order.
    pub fn ids(&self, kind: Kind) -> Vec<String> {
        match kind {
            Kind::Severity => self.severities.iter().map(|s| s.id.clone()).collect(),
            Kind::Tier => self.tiers.iter().map(|t| t.level.to_string()).collect(),
            Kind::Team => self.teams.iter().map(|t| t.id.clone()).collect(),
            Kind::Domain => self.domains.iter().map(|d| d.id.clone()).collect(),
            Kind::Person => self.people.iter().map(|p| p.id.clone()).collect(),
            Kind::Schedule => self.schedules.iter().map(|s| s.id.clone()).collect(),
            Kind::EscalationPolicy => self
                .escalation_policies
                .iter()
                .map(|p| p.id.clone())
                .collect(),
            Kind::BusinessFunction => self
                .business_functions
                .iter()
                .map(|f| f.id.clone())
                .collect(),
            Kind::Service => self.services.iter().map(|s| s.id.clone()).collect(),
            Kind::Playbook => self.playbooks.iter().map(|p| p.id.clone()).collect(),
            Kind::AlertRule => self.alert_rules.iter().map(|r| r.id.clone()).collect(),
            Kind::Slo => self.slos.iter().map(|s| s.id.clone()).collect(),
        }
    }
}
