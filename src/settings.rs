//! Server settings: built-in defaults, then an optional TOML file, then environment variables
//! and flags (highest). Unknown keys in the file are errors that name the line and column.

use serde::Deserialize;

/// Everything `tocsin serve` can be told.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub secure_cookies: bool,
    pub body_limit_bytes: usize,
    pub session_hours: i64,
    pub log_format: LogFormat,
    /// Events one integration may send per minute, sustained; 0 turns the limit off.
    pub ingest_events_per_minute: u32,
    /// Events an idle integration may send at once.
    pub ingest_burst: u32,
    /// Ingestion writer tasks (group commit); 0 = the backend's default (1 SQLite, 2 PostgreSQL).
    pub ingest_writers: usize,
    /// Tocsin's address as people reach it, for links in notifications
    /// (default: `http://` + `listen`).
    pub base_url: String,
    /// Where email goes out (`smtp://host:25`, `smtps://user:pass@host:465`); empty: no email.
    pub smtp_url: String,
    /// The sender of notification emails.
    pub email_from: String,
    /// Refuse notification URLs that resolve to private (RFC 1918, unique-local) or loopback
    /// addresses. Off by default: a self-hosted Mattermost on the LAN is the common case.
    /// Link-local and unspecified addresses (cloud metadata) are always refused.
    pub block_private_targets: bool,
    /// The signing secret of the Slack app whose `/incident` command points at Tocsin.
    pub slack_signing_secret: String,
    /// The token Mattermost sends with the `/incident` command.
    pub mattermost_token: String,
    /// A YAML file with the postmortem template's sections; empty: the built-in template.
    pub postmortem_template: String,
    /// Where postmortem action items are exported: `[backlog.github]`, `[backlog.jira]` or
    /// `[backlog.webhook]` (at most one), plus `refresh_minutes` and `export_delay_seconds`.
    pub backlog: crate::postmortems::backlog::BacklogSettings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://tocsin.db".into(),
            secure_cookies: false,
            body_limit_bytes: 1024 * 1024,
            session_hours: 12,
            log_format: LogFormat::Text,
            ingest_events_per_minute: crate::alerts::limit::RateLimit::default().events_per_minute,
            ingest_burst: crate::alerts::limit::RateLimit::default().burst,
            ingest_writers: 0,
            base_url: String::new(),
            smtp_url: String::new(),
            email_from: "Tocsin <tocsin@localhost>".into(),
            block_private_targets: false,
            slack_signing_secret: String::new(),
            mattermost_token: String::new(),
            postmortem_template: String::new(),
            backlog: Default::default(),
        }
    }
}

impl Settings {
    /// The postmortem template: the configured file's, else the built-in one.
    pub fn template(&self) -> Result<crate::postmortems::template::Template, String> {
        if self.postmortem_template.is_empty() {
            return Ok(Default::default());
        }
        crate::postmortems::template::Template::from_file(&self.postmortem_template)
            .map_err(|e| e.to_string())
    }

    /// The public base URL: the configured one, else derived from the listen address.
    pub fn public_url(&self) -> String {
        if self.base_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.base_url.trim_end_matches('/').to_string()
        }
    }

    /// Reads a TOML settings file; errors name the file, line and column.
    pub fn from_file(path: &str) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
        Self::from_toml(path, &text)
    }

    pub fn from_toml(path: &str, text: &str) -> Result<Self, String> {
        let s: Self = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((0, 0), |span| line_col(text, span.start));
            format!("{path}:{line}:{col}: error: {}", e.message())
        })?;
        s.backlog.check().map_err(|(at, message)| {
            let (line, col) = line_col(text, at);
            format!("{path}:{line}:{col}: error: {message}")
        })?;
        Ok(s)
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    //! Settings files: defaults, overrides, and errors that say where the mistake is.

    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Settings::from_toml("s.toml", ""), Ok(Settings::default()));
    }

    #[test]
    fn keys_override_defaults() {
        let s = Settings::from_toml(
            "s.toml",
            "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\nsecure_cookies = true\n",
        )
        .unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(s.secure_cookies);
        assert_eq!(s.session_hours, Settings::default().session_hours);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = Settings::from_toml(
            "tocsin.toml",
            "# settings\nlisten = \"127.0.0.1:8080\"\n  databse_url = \"sqlite://x.db\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("tocsin.toml:3:3: error: unknown field `databse_url`"),
            "{err}"
        );
        // The valid keys are listed, so the typo is easy to fix.
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    fn wrong_type_names_line_and_column() {
        let err = Settings::from_toml("s.toml", "session_hours = \"twelve\"\n").unwrap_err();
        assert!(err.starts_with("s.toml:1:17: error: "), "{err}");
        let err = Settings::from_toml("s.toml", "log_format = \"xml\"\n").unwrap_err();
        assert!(err.starts_with("s.toml:1:14: error: "), "{err}");
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err =
            Settings::from_toml("s.toml", "listen = \"a\"\nbody_limit_bytes = \n").unwrap_err();
        assert!(err.starts_with("s.toml:2:"), "{err}");
    }

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "ab\nçd\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // `ç` is two bytes but one column.
        assert_eq!(line_col(text, 5), (2, 2));
        // Past the end clamps instead of panicking.
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err = Settings::from_file("/nonexistent/tocsin.toml").unwrap_err();
        assert!(
            err.starts_with("/nonexistent/tocsin.toml: cannot read"),
            "{err}"
        );
    }
}
