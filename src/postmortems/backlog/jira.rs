//! Jira (Cloud or Data Center), REST API v2: `POST /rest/api/2/issue` creates the issue
//! (201 with `id`, `key`, `self`; the link people follow is `<base_url>/browse/<key>`),
//! `GET /rest/api/2/issue/{key}?fields=status` reads it: the status category `done` means
//! closed, whatever the workflow calls its statuses. Cloud authenticates with the account's
//! email and an API token (Basic), Data Center with a personal access token (Bearer).

use serde::Deserialize;
use serde_json::{Value, json};

use super::settings::{Secret, base_url};
use super::{Call, Created, Export, SyncError, send};

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `https://acme.atlassian.net`, or the Data Center's address.
    pub base_url: String,
    /// The project key (`OPS`).
    pub project: String,
    /// Cloud: the account's email, with `api_token`.
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub api_token: Secret,
    /// Data Center: a personal access token, sent as a bearer token.
    #[serde(default)]
    pub token: Secret,
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
}

fn default_issue_type() -> String {
    "Task".into()
}

impl Config {
    pub fn check(&self) -> Result<(), String> {
        base_url("backlog.jira.base_url", &self.base_url)?;
        if self.project.trim().is_empty() {
            return Err("backlog.jira.project (the project key) is required".into());
        }
        let basic = !self.email.is_empty() && !self.api_token.is_empty();
        let bearer = !self.token.is_empty();
        if basic == bearer {
            return Err(
                "backlog.jira needs email and api_token, or token (not both, not neither)".into(),
            );
        }
        Ok(())
    }

    fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![("Accept", "application/json".to_string())];
        if !self.token.is_empty() {
            h.push(("Authorization", format!("Bearer {}", self.token.expose())));
        }
        h
    }

    /// Basic credentials (Cloud), which reqwest encodes.
    fn basic(&self) -> Option<(String, String)> {
        self.token
            .is_empty()
            .then(|| (self.email.clone(), self.api_token.expose().to_string()))
    }
}

/// The request that creates the issue.
pub fn create_call(c: &Config, ex: &Export<'_>) -> Call {
    let mut fields = json!({
        "project": {"key": c.project},
        "summary": ex.item.title,
        "description": ex.body(),
        "issuetype": {"name": c.issue_type},
        "labels": ex.labels(),
    });
    if let Some(due) = ex.due_date() {
        fields["duedate"] = Value::String(due);
    }
    Call {
        method: reqwest::Method::POST,
        url: format!("{}/rest/api/2/issue", c.base()),
        headers: c.headers(),
        basic: c.basic(),
        body: Some(json!({ "fields": fields }).to_string().into_bytes()),
    }
}

pub async fn create(
    client: &reqwest::Client,
    c: &Config,
    ex: &Export<'_>,
) -> Result<Created, SyncError> {
    let answer = send(client, create_call(c, ex)).await?;
    let key = answer
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| SyncError("Jira's answer has no issue key".into()))?;
    Ok(Created {
        key: key.to_string(),
        url: Some(format!("{}/browse/{key}", c.base())),
        state: "open".into(),
    })
}

/// Reads the state of the issue `key` (`OPS-7`).
pub async fn state(client: &reqwest::Client, c: &Config, key: &str) -> Result<String, SyncError> {
    // Keys are letters, digits, `_` and one `-`: anything else is not ours to put in a path.
    if key.is_empty()
        || !key
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_'))
    {
        return Err(SyncError(format!("{key:?} is not a Jira issue key")));
    }
    let call = Call {
        method: reqwest::Method::GET,
        url: format!("{}/rest/api/2/issue/{key}?fields=status", c.base()),
        headers: c.headers(),
        basic: c.basic(),
        body: None,
    };
    let issue = send(client, call).await?;
    let category = issue
        .pointer("/fields/status/statusCategory/key")
        .and_then(Value::as_str)
        .ok_or_else(|| SyncError(format!("Jira's answer for {key} has no status category")))?;
    Ok(if category == "done" { "closed" } else { "open" }.into())
}
