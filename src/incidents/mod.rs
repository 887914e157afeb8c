//! Incidents: what a team runs once an alert (or a person) says "this is an incident". The
//! types here are the incident's state as stored and shown; the pure rules of how it moves
//! (status order, roles, cadence) live next to them. Commands that change an incident are in
//! `command.rs` (one transaction each, timeline entry and outgoing messages included), the
//! SQL in `store.rs`, the living document in `document.rs`.

pub mod api;
pub mod chat;
pub mod command;
pub mod deadlines;
pub mod deliver;
pub mod document;
pub mod error;
pub mod live;
pub mod markdown;
pub mod messages;
pub mod metrics;
pub mod store;
pub mod suggest;
pub mod web;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use error::IncidentError;

/// Where an incident is: investigating → identified → monitoring → resolved, then closed when
/// its postmortem is published. Any open status may follow any other (a fix that did not hold
/// sends "monitoring" back to "investigating"); resolved may reopen; closed is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Self; 5] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still being worked on: updates are owed and roles are held.
    pub fn is_open(self) -> bool {
        self < Self::Resolved
    }

    /// Whether a person may move an incident from `self` to `to`. Closing is the postmortem's
    /// job, not a status change.
    pub fn may_become(self, to: Self) -> Result<(), String> {
        match (self, to) {
            (Self::Closed, _) => Err("the incident is closed".into()),
            (_, Self::Closed) => Err("an incident closes when its postmortem is published".into()),
            (a, b) if a == b => Err(format!("the incident is already {}", a.as_str())),
            _ => Ok(()),
        }
    }
}

/// The three roles of the incident process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Incident Commander: owns the incident and its decisions.
    Commander,
    /// Ops Lead: owns the investigation, adds investigators.
    Ops,
    /// Communications Lead: keeps stakeholders informed and the document current.
    Comms,
}

impl Role {
    pub const ALL: [Self; 3] = [Self::Commander, Self::Ops, Self::Comms];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commander => "commander",
            Self::Ops => "ops",
            Self::Comms => "comms",
        }
    }

    /// Also accepts the short names people type in chat: `ic`, `ol`, `cl`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "commander" | "ic" | "incident-commander" => Some(Self::Commander),
            "ops" | "ol" | "ops-lead" => Some(Self::Ops),
            "comms" | "cl" | "communications" | "comms-lead" => Some(Self::Comms),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Commander => "Incident Commander",
            Self::Ops => "Ops Lead",
            Self::Comms => "Communications Lead",
        }
    }
}

/// An incident as stored: its current state. History is in the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    /// The current understanding, kept up to date by the Comms Lead.
    pub summary: String,
    pub status: Status,
    pub severity: String,
    /// How it was declared: web, api, cli, chat, alert, auto.
    pub source: String,
    pub declared_at: i64,
    pub declared_by: String,
    /// When the trouble started: the first attached alert's start, else the declaration.
    pub started_at: i64,
    /// First acknowledgement of an attached alert (or the declaration by a person).
    pub acknowledged_at: Option<i64>,
    /// First move to identified or monitoring.
    pub mitigated_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The chat channel's incoming webhook: `slack` or `mattermost`.
    pub channel_kind: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_url: Option<String>,
    pub last_update_at: Option<i64>,
    /// When the next stakeholder update is owed (None: no cadence, or not open).
    pub update_due_at: Option<i64>,
    /// Cadence lapses since the last update.
    pub lapses: i64,
    pub updated_at: i64,
}

impl Incident {
    /// "INC-12": how people refer to it.
    pub fn reference(&self) -> String {
        reference(self.id)
    }
}

pub fn reference(id: i64) -> String {
    format!("INC-{id}")
}

/// Accepts "12", "INC-12", "inc-12", "#12".
pub fn parse_reference(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s
        .strip_prefix('#')
        .or_else(|| {
            s.get(..4)
                .filter(|p| p.eq_ignore_ascii_case("inc-"))
                .map(|_| &s[4..])
        })
        .unwrap_or(s);
    digits.parse().ok().filter(|n: &i64| *n > 0)
}

/// One stint of a role: who held it, from when until when, and the note they were handed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleStint {
    pub id: i64,
    pub role: Role,
    pub person_id: String,
    pub from_at: i64,
    /// None while they hold it.
    pub to_at: Option<i64>,
    pub assigned_by: String,
    pub handover_note: String,
    /// When Tocsin asked them to hand over because their on-call shift ended.
    pub prompted_at: Option<i64>,
}

/// What a timeline entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Declared,
    Status,
    Severity,
    Role,
    Handover,
    HandoverPrompt,
    Alert,
    Page,
    Ack,
    Team,
    Investigator,
    Service,
    Note,
    Finding,
    Decision,
    /// An open question for the team (listed in the document until answered).
    Question,
    Link,
    Chat,
    Update,
    Reminder,
    Summary,
    /// A step of the postmortem: drafted, submitted, approved, published.
    Postmortem,
}

impl EntryKind {
    pub const ALL: [Self; 22] = [
        Self::Declared,
        Self::Status,
        Self::Severity,
        Self::Role,
        Self::Handover,
        Self::HandoverPrompt,
        Self::Alert,
        Self::Page,
        Self::Ack,
        Self::Team,
        Self::Investigator,
        Self::Service,
        Self::Note,
        Self::Finding,
        Self::Decision,
        Self::Question,
        Self::Link,
        Self::Chat,
        Self::Update,
        Self::Reminder,
        Self::Summary,
        Self::Postmortem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Declared => "declared",
            Self::Status => "status",
            Self::Severity => "severity",
            Self::Role => "role",
            Self::Handover => "handover",
            Self::HandoverPrompt => "handover_prompt",
            Self::Alert => "alert",
            Self::Page => "page",
            Self::Ack => "ack",
            Self::Team => "team",
            Self::Investigator => "investigator",
            Self::Service => "service",
            Self::Note => "note",
            Self::Finding => "finding",
            Self::Decision => "decision",
            Self::Question => "question",
            Self::Link => "link",
            Self::Chat => "chat",
            Self::Update => "update",
            Self::Reminder => "reminder",
            Self::Summary => "summary",
            Self::Postmortem => "postmortem",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Kinds a person writes themselves (the rest Tocsin records).
    pub fn is_written(self) -> bool {
        matches!(
            self,
            Self::Note | Self::Finding | Self::Decision | Self::Question | Self::Link | Self::Chat
        )
    }
}

/// One line of the append-only timeline. `body` is Markdown, rendered sanitised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub kind: EntryKind,
    pub actor: String,
    pub body: String,
    pub link_url: Option<String>,
    pub image_url: Option<String>,
    pub starred: bool,
    /// `body` as sanitised HTML, rendered when the entry was written (None for entries
    /// older than that column: pages render those on read).
    #[serde(skip)]
    #[schema(ignore)]
    pub body_html: Option<String>,
}

/// A structured stakeholder update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Update {
    pub id: i64,
    pub at: i64,
    pub author: String,
    /// The incident's status when it was posted.
    pub status: Status,
    pub impact: String,
    /// What we are doing.
    pub actions: String,
    pub next_update_at: Option<i64>,
}

/// A team pulled in, or an individual investigator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Participant {
    /// `team` or `person`.
    pub kind: String,
    pub id: String,
    pub added_at: i64,
    pub added_by: String,
}

/// Who hears about the incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subscriber {
    /// person, team, email, webhook, slack or mattermost.
    pub kind: String,
    /// A person or team id, an email address or a URL.
    pub target: String,
}

pub const SUBSCRIBER_KINDS: [&str; 6] =
    ["person", "team", "email", "webhook", "slack", "mattermost"];

/// An impacted business function, as computed when its service was attached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImpactedFunction {
    pub id: String,
    pub name: String,
    pub criticality: String,
}

/// Everything about one incident: what pages, the API and the document are made from.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Full {
    pub incident: Incident,
    pub services: Vec<String>,
    pub functions: Vec<ImpactedFunction>,
    pub alerts: Vec<String>,
    /// Every stint, oldest first.
    pub roles: Vec<RoleStint>,
    pub participants: Vec<Participant>,
    pub timeline: Vec<Entry>,
    pub updates: Vec<Update>,
    pub subscribers: Vec<Subscriber>,
}

impl Full {
    /// Who holds `role` now.
    pub fn holder(&self, role: Role) -> Option<&RoleStint> {
        self.roles
            .iter()
            .rev()
            .find(|r| r.role == role && r.to_at.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_in_the_forms_people_type() {
        assert_eq!(parse_reference("12"), Some(12));
        assert_eq!(parse_reference("INC-12"), Some(12));
        assert_eq!(parse_reference("inc-7"), Some(7));
        assert_eq!(parse_reference("#3"), Some(3));
        assert_eq!(parse_reference("0"), None);
        assert_eq!(parse_reference("INC-"), None);
        assert_eq!(parse_reference("abc"), None);
        assert_eq!(parse_reference("ÿÿÿÿ"), None);
    }

    #[test]
    fn status_changes() {
        use Status::*;
        assert!(Investigating.may_become(Monitoring).is_ok());
        assert!(Monitoring.may_become(Investigating).is_ok());
        assert!(Resolved.may_become(Investigating).is_ok());
        assert!(Resolved.may_become(Closed).is_err());
        assert!(Closed.may_become(Investigating).is_err());
        assert!(Identified.may_become(Identified).is_err());
        assert!(Monitoring.is_open() && !Resolved.is_open());
    }

    #[test]
    fn role_names() {
        assert_eq!(Role::parse("IC"), Some(Role::Commander));
        assert_eq!(Role::parse("ol"), Some(Role::Ops));
        assert_eq!(Role::parse("cl"), Some(Role::Comms));
        assert_eq!(Role::parse("boss"), None);
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
    }
}
