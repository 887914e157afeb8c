//! The `[backlog]` table of the settings file: at most one of `[backlog.github]`,
//! `[backlog.jira]`, `[backlog.webhook]`, and how often to look. Mistakes (two backlogs, a
//! repo that is not `owner/name`, Jira without credentials) are reported at the table's
//! `file:line:col` like every other settings error.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::{Target, github, jira, webhook};

/// A credential: read from the file, never printed (`Debug` shows `***`).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BacklogSettings {
    /// Minutes between two readings of an item's state in GitHub or Jira.
    pub refresh_minutes: u32,
    /// Seconds after an action item is added before the engine exports it.
    pub export_delay_seconds: u32,
    pub github: Option<Spanned<github::Config>>,
    pub jira: Option<Spanned<jira::Config>>,
    pub webhook: Option<Spanned<webhook::Config>>,
}

impl Default for BacklogSettings {
    fn default() -> Self {
        Self {
            refresh_minutes: 15,
            export_delay_seconds: 60,
            github: None,
            jira: None,
            webhook: None,
        }
    }
}

impl BacklogSettings {
    /// The configured backlog (the first, when `check` was skipped and there are several).
    pub fn target(&self) -> Option<Target> {
        if let Some(g) = &self.github {
            return Some(Target::GitHub(g.get_ref().clone()));
        }
        if let Some(j) = &self.jira {
            return Some(Target::Jira(j.get_ref().clone()));
        }
        self.webhook
            .as_ref()
            .map(|w| Target::Webhook(w.get_ref().clone()))
    }

    /// Checks what serde cannot: one backlog at a time, and each one's fields. The error is
    /// the offending table's byte offset in the file and the message.
    pub fn check(&self) -> Result<(), (usize, String)> {
        let mut tables: Vec<(usize, &str)> = Vec::new();
        if let Some(g) = &self.github {
            tables.push((g.span().start, "github"));
            g.get_ref().check().map_err(|m| (g.span().start, m))?;
        }
        if let Some(j) = &self.jira {
            tables.push((j.span().start, "jira"));
            j.get_ref().check().map_err(|m| (j.span().start, m))?;
        }
        if let Some(w) = &self.webhook {
            tables.push((w.span().start, "webhook"));
            w.get_ref().check().map_err(|m| (w.span().start, m))?;
        }
        tables.sort();
        if let [first, second, ..] = tables.as_slice() {
            return Err((
                second.0,
                format!(
                    "one backlog at a time: [backlog.{}] and [backlog.{}] are both set",
                    first.1, second.1
                ),
            ));
        }
        if self.refresh_minutes == 0 {
            return Err((0, "backlog.refresh_minutes must be at least 1".into()));
        }
        Ok(())
    }
}

/// An http(s) URL without a trailing slash, or why not.
pub fn base_url(field: &str, url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(format!("{field} must be an http(s) URL, not {url:?}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    #[test]
    fn github_defaults_to_the_public_api() {
        let s = Settings::from_toml(
            "s.toml",
            "[backlog.github]\nrepo = \"acme/ops\"\ntoken = \"ghp_x\"\n",
        )
        .unwrap();
        let g = s.backlog.github.unwrap().into_inner();
        assert_eq!(g.api_url, "https://api.github.com");
        assert_eq!(format!("{:?}", g.token), "***");
        assert_eq!(s.backlog.refresh_minutes, 15);
    }

    #[test]
    fn two_backlogs_are_refused_at_the_second() {
        let text = "[backlog.github]\nrepo = \"acme/ops\"\ntoken = \"t\"\n\n\
                    [backlog.webhook]\nurl = \"https://x.example/hook\"\nsecret = \"s\"\n";
        let err = Settings::from_toml("s.toml", text).unwrap_err();
        assert!(err.starts_with("s.toml:5:1: error: "), "{err}");
        assert!(err.contains("one backlog at a time"), "{err}");
    }

    #[test]
    fn bad_fields_name_their_table() {
        let err = Settings::from_toml(
            "s.toml",
            "listen = \"127.0.0.1:1\"\n[backlog.github]\nrepo = \"ops\"\ntoken = \"t\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("s.toml:2:1: error: "), "{err}");
        assert!(err.contains("owner/name"), "{err}");
        let err = Settings::from_toml(
            "s.toml",
            "[backlog.jira]\nbase_url = \"https://x.atlassian.net\"\nproject = \"OPS\"\n",
        )
        .unwrap_err();
        assert!(err.contains("email and api_token, or token"), "{err}");
        let err = Settings::from_toml("s.toml", "[backlog.webhook]\nurl = \"x\"\nsecret = \"s\"\n")
            .unwrap_err();
        assert!(err.contains("http(s) URL"), "{err}");
    }

    #[test]
    fn unknown_keys_name_line_and_column() {
        let err = Settings::from_toml(
            "s.toml",
            "[backlog.jira]\nbase_url = \"https://x\"\nprojekt = \"OPS\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("s.toml:3:1: error: unknown field `projekt`"),
            "{err}"
        );
    }
}
