//! Postmortems: the learning end of an incident. One per incident (it shares the incident's
//! number: the postmortem of INC-12 is `/postmortems/12`), drafted from the incident document
//! and the timeline into the sections of a template, written and reviewed section by section,
//! then published read-only for everyone; publishing closes the incident.
//!
//! The types here are the postmortem as stored and shown. `template.rs` is the configurable
//! list of sections, `draft.rs` fills them (pure), `blameless.rs` flags blaming language
//! (pure), `workflow.rs` holds the rules of who may move it where and when it is due (pure),
//! `render.rs` the Markdown export, `command.rs` every change as one transaction, `store.rs`
//! the SQL.

pub mod actions_web;
pub mod api;
pub mod api_actions;
pub mod api_library;
pub mod backlog;
pub mod blameless;
pub mod command;
pub mod draft;
pub mod error;
pub mod reminders;
pub mod render;
pub mod store;
pub mod template;
pub mod web;
pub mod workflow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use error::PostmortemError;

/// Draft → in review → published. A reviewer asking for changes (or the owner withdrawing)
/// sends it back to draft; published is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PmStatus {
    Draft,
    InReview,
    Published,
}

impl PmStatus {
    pub const ALL: [Self; 3] = [Self::Draft, Self::InReview, Self::Published];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Published => "published",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::InReview => "In review",
            Self::Published => "Published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What the draft generator puts into a section (`none`: the author writes it all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    People,
    Summary,
    Problem,
    Impact,
    /// The structured action items; the body holds notes around them.
    ActionItems,
    Lessons,
    /// The starred timeline entries, rendered for the reader's time zone on every read.
    Timeline,
    FollowUp,
    #[default]
    None,
}

impl Fill {
    pub const ALL: [Self; 9] = [
        Self::People,
        Self::Summary,
        Self::Problem,
        Self::Impact,
        Self::ActionItems,
        Self::Lessons,
        Self::Timeline,
        Self::FollowUp,
        Self::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::People => "people",
            Self::Summary => "summary",
            Self::Problem => "problem",
            Self::Impact => "impact",
            Self::ActionItems => "action_items",
            Self::Lessons => "lessons",
            Self::Timeline => "timeline",
            Self::FollowUp => "follow_up",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A postmortem's own state (sections, reviewers, comments and actions are loaded apart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Postmortem {
    /// The incident's id: `INC-12`'s postmortem is 12.
    pub incident_id: i64,
    pub title: String,
    pub status: PmStatus,
    /// The person (catalog id) who drives it to publication.
    pub owner: String,
    pub created_at: i64,
    pub created_by: String,
    /// From the severity's `postmortem_due_days`, in business days after resolution.
    pub due_at: Option<i64>,
    pub remind_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub published_at: Option<i64>,
    pub published_by: Option<String>,
    pub updated_at: i64,
}

/// One section: its template fields as copied at drafting, and what the author wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Section {
    pub key: String,
    pub title: String,
    pub help: String,
    pub required: bool,
    pub fill: Fill,
    /// Markdown.
    pub body: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reviewer {
    pub person_id: String,
    pub added_at: i64,
    pub added_by: String,
    /// None until they approve; an edit to the text clears every approval.
    pub approved_at: Option<i64>,
}

/// A review comment on one section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    pub section: String,
    pub at: i64,
    pub author: String,
    pub body: String,
}

/// What an action item does about the incident (Google SRE's and PagerDuty's types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Prevent,
    Mitigate,
    Detect,
    Automate,
    Process,
}

impl ActionKind {
    pub const ALL: [Self; 5] = [
        Self::Prevent,
        Self::Mitigate,
        Self::Detect,
        Self::Automate,
        Self::Process,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prevent => "prevent",
            Self::Mitigate => "mitigate",
            Self::Detect => "detect",
            Self::Automate => "automate",
            Self::Process => "process",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A follow-up: who does what by when, and the backlog item that tracks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActionItem {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub kind: ActionKind,
    /// A catalog person id.
    pub owner: String,
    /// A catalog team id (the owner's first team when not given).
    pub team: String,
    pub due_at: Option<i64>,
    /// `open` or `done`.
    pub status: String,
    /// `github`, `jira` or `webhook` once exported.
    pub backlog_kind: Option<String>,
    /// "owner/repo#12", "OPS-7".
    pub backlog_key: Option<String>,
    pub backlog_url: Option<String>,
    /// `open` or `closed` as last read from the backlog.
    pub backlog_state: Option<String>,
    pub backlog_error: Option<String>,
    pub refreshed_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

impl ActionItem {
    /// Done here, or closed in the backlog.
    pub fn is_done(&self) -> bool {
        self.status == "done" || self.backlog_state.as_deref() == Some("closed")
    }

    pub fn is_overdue(&self, now: i64) -> bool {
        !self.is_done() && self.due_at.is_some_and(|d| d < now)
    }
}

/// Everything about one postmortem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PmFull {
    pub postmortem: Postmortem,
    pub sections: Vec<Section>,
    pub reviewers: Vec<Reviewer>,
    pub comments: Vec<Comment>,
    pub actions: Vec<ActionItem>,
}

impl PmFull {
    pub fn section(&self, key: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.key == key)
    }
}
