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
        }
    }
}

impl Settings {
    /// Reads a TOML settings file; errors name the file, line and column.
    pub fn from_file(path: &str) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
        Self::from_toml(path, &text)
    }

    pub fn from_toml(path: &str, text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((0, 0), |span| line_col(text, span.start));
            format!("{path}:{line}:{col}: error: {}", e.message())
        })
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
