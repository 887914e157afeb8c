//! GitHub Issues: `POST /repos/{owner}/{repo}/issues` creates the issue (201 with `number`,
//! `html_url`, `state`), `GET /repos/{owner}/{repo}/issues/{number}` reads its `state`
//! (`open` or `closed`). REST API version 2022-11-28, bearer token (a fine-grained token
//! with Issues read and write on the repository is enough).

use serde::Deserialize;
use serde_json::{Value, json};

use super::settings::{Secret, base_url};
use super::{Call, Created, Export, SyncError, send};

pub const API_VERSION: &str = "2022-11-28";
pub const ACCEPT: &str = "application/vnd.github+json";

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The REST API's base: GitHub's public one unless GitHub Enterprise Server
    /// (`https://github.example.com/api/v3`).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// `owner/name`.
    pub repo: String,
    pub token: Secret,
}

fn default_api_url() -> String {
    "https://api.github.com".into()
}

impl Config {
    pub fn check(&self) -> Result<(), String> {
        base_url("backlog.github.api_url", &self.api_url)?;
        let ok = self.repo.split_once('/').is_some_and(|(o, n)| {
            let part = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            };
            part(o) && part(n)
        });
        if !ok {
            return Err(format!(
                "backlog.github.repo must be owner/name, not {:?}",
                self.repo
            ));
        }
        if self.token.is_empty() {
            return Err("backlog.github.token is required".into());
        }
        Ok(())
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/repos/{}/issues{tail}",
            self.api_url.trim_end_matches('/'),
            self.repo
        )
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Accept", ACCEPT.into()),
            ("Authorization", format!("Bearer {}", self.token.expose())),
            ("X-GitHub-Api-Version", API_VERSION.into()),
        ]
    }
}

/// The request that creates the issue.
pub fn create_call(c: &Config, ex: &Export<'_>) -> Call {
    let body = json!({
        "title": ex.item.title,
        "body": ex.body(),
        "labels": ex.labels(),
    });
    Call {
        method: reqwest::Method::POST,
        url: c.url(""),
        headers: c.headers(),
        basic: None,
        body: Some(body.to_string().into_bytes()),
    }
}

pub async fn create(
    client: &reqwest::Client,
    c: &Config,
    ex: &Export<'_>,
) -> Result<Created, SyncError> {
    let answer = send(client, create_call(c, ex)).await?;
    let number = answer
        .get("number")
        .and_then(Value::as_i64)
        .ok_or_else(|| SyncError("GitHub's answer has no issue number".into()))?;
    Ok(Created {
        key: format!("{}#{number}", c.repo),
        url: answer
            .get("html_url")
            .and_then(Value::as_str)
            .map(str::to_string),
        state: state_of(&answer),
    })
}

/// `open` or `closed` from an issue (anything else reads as open).
fn state_of(issue: &Value) -> String {
    match issue.get("state").and_then(Value::as_str) {
        Some("closed") => "closed".into(),
        _ => "open".into(),
    }
}

/// Reads the state of the issue `key` (`owner/name#12`).
pub async fn state(client: &reqwest::Client, c: &Config, key: &str) -> Result<String, SyncError> {
    // The key's repository, not the configured one: the setting may have changed since.
    let (repo, number) = key
        .rsplit_once('#')
        .and_then(|(r, n)| Some((r, n.parse::<u64>().ok()?)))
        .ok_or_else(|| SyncError(format!("{key:?} is not a GitHub issue key")))?;
    let call = Call {
        method: reqwest::Method::GET,
        url: format!(
            "{}/repos/{repo}/issues/{number}",
            c.api_url.trim_end_matches('/')
        ),
        headers: c.headers(),
        basic: None,
        body: None,
    };
    Ok(state_of(&send(client, call).await?))
}
