//! `tocsin alert send`: a sender, not a database command. It posts one event to a Tocsin
//! server's `/ingest/generic` endpoint, as a script or cron job would, with the integration
//! key in the `Authorization` header (never in the URL, where proxies and logs keep it).
//! Exit status 0 on a 2xx, 1 with the server's reason otherwise, 2 for bad arguments.

use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value, json};

/// How long the whole request may take: a sender in a script must not hang.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of an unexpected (non-JSON) reply worth printing.
const MAX_REASON: usize = 500;

#[derive(Args, Debug)]
pub struct SendArgs {
    /// The server's base URL, e.g. http://tocsin.internal:8080.
    #[arg(long)]
    pub url: String,
    /// A generic integration key (`tocsin integration create --type generic`).
    #[arg(long, env = "TOCSIN_INTEGRATION_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// What is wrong (required to trigger).
    #[arg(long)]
    pub summary: Option<String>,
    #[arg(long, value_parser = ["critical", "error", "warning", "info"])]
    pub severity: Option<String>,
    /// Identifies the alert, so a later send can repeat, acknowledge or resolve it.
    #[arg(long)]
    pub dedup_key: Option<String>,
    #[arg(long, value_parser = ["trigger", "acknowledge", "resolve"])]
    pub action: Option<String>,
    /// What sent it or what it is about (a host name…).
    #[arg(long)]
    pub source: Option<String>,
    /// KEY=VALUE, repeatable: the alert's details.
    #[arg(long = "detail", value_name = "KEY=VALUE")]
    pub details: Vec<String>,
}

/// The generic endpoint's body (see `alerts::integrations::generic`).
pub fn body(a: &SendArgs) -> Result<Value, String> {
    let mut details = Map::new();
    for d in &a.details {
        match d.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                details.insert(k.trim().to_string(), Value::String(v.to_string()));
            }
            _ => return Err(format!("--detail {d:?} is not KEY=VALUE")),
        }
    }
    let mut body = Map::new();
    let fields = [
        ("summary", &a.summary),
        ("severity", &a.severity),
        ("dedup_key", &a.dedup_key),
        ("action", &a.action),
        ("source", &a.source),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            body.insert(name.into(), json!(v));
        }
    }
    if !details.is_empty() {
        body.insert("details".into(), Value::Object(details));
    }
    Ok(Value::Object(body))
}

/// `BASE/ingest/generic`; a URL that already names the endpoint is used as it is.
pub fn endpoint(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!("--url must be an http(s) URL, not {url:?}"));
    }
    if url.contains('?') || url.contains('#') {
        return Err("--url must not carry a query string (the key goes in a header)".into());
    }
    if url.ends_with("/ingest/generic") {
        Ok(url.to_string())
    } else {
        Ok(format!("{url}/ingest/generic"))
    }
}

/// Why the server refused: its `{"error": …}`, or the start of whatever else it said.
fn reason(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v["error"].is_string() => v["error"].as_str().unwrap_or_default().to_string(),
        _ => text.chars().take(MAX_REASON).collect(),
    }
}

pub async fn run(a: SendArgs) -> anyhow::Result<i32> {
    let Some(key) = a.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) else {
        eprintln!("error: give the integration key with --key or TOCSIN_INTEGRATION_KEY");
        return Ok(2);
    };
    let (url, body) = match (endpoint(&a.url), body(&a)) {
        (Ok(u), Ok(b)) => (u, b),
        (Err(why), _) | (_, Err(why)) => {
            eprintln!("error: {why}");
            return Ok(2);
        }
    };
    // No redirects: following one could carry the key to another host.
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let sent = client.post(&url).bearer_auth(key).json(&body).send().await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot send to {url}: {e}");
            return Ok(1);
        }
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        eprintln!("error: {url} answered {status}: {}", reason(&text));
        return Ok(1);
    }
    let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let alerts = reply["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        println!("accepted ({status})");
    }
    for a in alerts {
        let key = a["dedup_key"].as_str().unwrap_or("");
        match a["alert"].as_str() {
            Some(id) => {
                let what = if a["created"].as_bool() == Some(true) {
                    "created"
                } else {
                    "updated"
                };
                println!("alert {id} {what} (dedup key {key})");
            }
            None => println!("no open alert with dedup key {key}: nothing changed"),
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_under_the_base_url_and_never_carries_a_query() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080/ingest/generic"
        );
        assert_eq!(
            endpoint("https://t.example/ingest/generic").unwrap(),
            "https://t.example/ingest/generic"
        );
        assert!(endpoint("t.example").is_err());
        assert!(endpoint("http://t.example/?key=x").is_err());
    }

    #[test]
    fn reasons_come_from_the_error_field() {
        assert_eq!(
            reason(r#"{"error":"authentication required"}"#),
            "authentication required"
        );
        assert_eq!(reason("Bad Gateway"), "Bad Gateway");
    }
}
