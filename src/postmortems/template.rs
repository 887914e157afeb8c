//! The postmortem template: which sections a postmortem has, in what order, with what help
//! text, which are required before review, and what the draft fills each with. Built in (the
//! sections the seed asks for, close to Google's and PagerDuty's templates), or read from a
//! YAML file named by the `postmortem_template` setting:
//!
//! ```yaml
//! sections:
//!   - key: summary
//!     title: Executive summary
//!     help: One sentence, what happened and the impact.
//!     required: true
//!     fill: summary
//! ```
//!
//! A postmortem copies the template's sections when drafted, so changing the template later
//! never rewrites one in progress.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::{ConfigError, Source};

use super::Fill;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSection {
    /// Stable id: letters, digits, `_` and `-`.
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub fill: Fill,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub sections: Vec<TemplateSection>,
}

fn section(key: &str, title: &str, help: &str, required: bool, fill: Fill) -> TemplateSection {
    TemplateSection {
        key: key.into(),
        title: title.into(),
        help: help.into(),
        required,
        fill,
    }
}

impl Default for Template {
    fn default() -> Self {
        use Fill::*;
        Self {
            sections: vec![
                section(
                    "people",
                    "Date and people",
                    "Who responded, in which role, and which teams were pulled in.",
                    true,
                    People,
                ),
                section(
                    "summary",
                    "Executive summary",
                    "One sentence: what happened and what it did to customers. Plain words, \
                     no jargon; executives read only this.",
                    true,
                    Summary,
                ),
                section(
                    "problem",
                    "Problem summary",
                    "The technical issue, the root cause or contributing factors, what \
                     triggered it, and how we found out (and how long that took). Describe \
                     systems and conditions, not people.",
                    true,
                    Problem,
                ),
                section(
                    "impact",
                    "Impact",
                    "How long, how bad, which business functions and services, which \
                     response targets were missed, how much error budget it burned.",
                    true,
                    Impact,
                ),
                section(
                    "action_items",
                    "Action items",
                    "Each with an owner, a due date and a type (prevent, mitigate, detect, \
                     automate, process), tracked in the backlog.",
                    true,
                    ActionItems,
                ),
                section(
                    "lessons",
                    "Lessons learned",
                    "What went well, what could be improved, where we got lucky.",
                    true,
                    Lessons,
                ),
                section(
                    "timeline",
                    "Timeline",
                    "The key events (starred on the incident's timeline), in your time zone. \
                     Star more entries on the incident to add them; notes written here \
                     appear under the table.",
                    false,
                    Timeline,
                ),
                section(
                    "follow_up",
                    "Follow-up questions",
                    "Is our monitoring good enough? Do we need more or different metrics? What \
                     do the SLIs, SLOs and SLAs say? What should be automated?",
                    false,
                    FollowUp,
                ),
            ],
        }
    }
}

impl Template {
    /// Reads and checks a template file; errors name the file, line and column.
    pub fn from_file(path: &str) -> Result<Self, ConfigError> {
        let source = Source::read(path)?;
        let t: Template = crate::config::parse_one(&source)?;
        t.check().map_err(|m| ConfigError::in_file(path, m))?;
        Ok(t)
    }

    /// Keys unique and well formed, titles present, at least one section.
    pub fn check(&self) -> Result<(), String> {
        if self.sections.is_empty() {
            return Err("the template has no sections".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in self.sections.iter().enumerate() {
            let ok = !s.key.is_empty()
                && s.key.len() <= 40
                && s.key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(format!(
                    "sections[{i}].key {:?}: use 1–40 letters, digits, _ or -",
                    s.key
                ));
            }
            if s.title.trim().is_empty() {
                return Err(format!("sections[{i}].title is empty"));
            }
            if !seen.insert(s.key.as_str()) {
                return Err(format!("sections[{i}].key {:?} is used twice", s.key));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_template_is_valid_and_covers_every_fill() {
        let t = Template::default();
        t.check().unwrap();
        for f in Fill::ALL.into_iter().filter(|f| *f != Fill::None) {
            assert!(t.sections.iter().any(|s| s.fill == f), "{f:?}");
        }
    }

    #[test]
    fn a_file_is_read_strictly_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        let good = "sections:\n  - key: what\n    title: What happened\n    required: true\n    fill: summary\n  - key: notes\n    title: Notes\n";
        std::fs::write(&path, good).unwrap();
        let t = Template::from_file(path.to_str().unwrap()).unwrap();
        assert_eq!(t.sections.len(), 2);
        assert_eq!(t.sections[1].fill, Fill::None);

        std::fs::write(
            &path,
            "sections:\n  - key: a\n    title: A\n    colour: red\n",
        )
        .unwrap();
        let e = Template::from_file(path.to_str().unwrap()).unwrap_err();
        assert_eq!((e.line, e.column), (4, 5), "{e}");
        assert!(e.to_string().contains("colour"), "{e}");

        std::fs::write(
            &path,
            "sections:\n  - key: a\n    title: A\n  - key: a\n    title: B\n",
        )
        .unwrap();
        let e = Template::from_file(path.to_str().unwrap()).unwrap_err();
        assert!(e.to_string().contains("used twice"), "{e}");
    }
}
