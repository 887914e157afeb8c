//! Action items into GitHub and Jira, against a local HTTP server that records every request
//! (method, path, query, headers, body) and answers like the real APIs; the test checks the
//! exact shapes. Then the state read back, the failure paths (500, a connection dropped after
//! the request: error stored, retried after the backoff, never two items), the lease, and
//! the on-demand API. Both backends.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use tocsin::auth::Role;
use tocsin::catalog::snapshot::SnapshotCache;
use tocsin::db::Db;
use tocsin::incidents::Status;
use tocsin::incidents::command::{self as ic, Actor, Ctx, Declaration};
use tocsin::postmortems::ActionItem;
use tocsin::postmortems::backlog::{self, Backlog, LEASE_MS};
use tocsin::postmortems::command::{self as pc, ActionInput};

use crate::support::{self, TestApp, seed_example, t0};

pub const DAY: i64 = 86_400_000;

/// One request as the fake backlog saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body's exact bytes (what a signature covers).
    pub raw: String,
}

/// The fake's memory and its mood.
#[derive(Default)]
pub struct Fake {
    pub seen: Vec<Seen>,
    /// Answer 500 to creations while set.
    pub failing: bool,
    /// Issue numbers (GitHub) or keys (Jira) closed by someone in the backlog.
    pub closed: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

async fn record(
    State(f): State<Shared>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let raw = body;
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let mut fake = f.lock().unwrap();
    fake.seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        headers,
        body,
        raw,
    });
    let n = fake.seen.iter().filter(|s| s.method == "POST").count();
    let path = uri.path().to_string();
    if method == Method::POST && fake.failing {
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream is down").into_response();
    }
    match (method.as_str(), path.as_str()) {
        ("POST", "/repos/acme/ops/issues") => (
            StatusCode::CREATED,
            axum::Json(json!({
                "id": 1000 + n, "number": 40 + n, "state": "open",
                "html_url": format!("https://github.com/acme/ops/issues/{}", 40 + n),
                "title": "…", "labels": [],
            })),
        )
            .into_response(),
        ("GET", p) if p.starts_with("/repos/acme/ops/issues/") => {
            let number = p.rsplit('/').next().unwrap_or_default().to_string();
            let state = if fake.closed.contains(&number) {
                "closed"
            } else {
                "open"
            };
            axum::Json(json!({"number": number.parse::<i64>().unwrap_or(0), "state": state}))
                .into_response()
        }
        ("POST", "/rest/api/2/issue") => (
            StatusCode::CREATED,
            axum::Json(json!({
                "id": format!("{}", 10000 + n), "key": format!("OPS-{n}"),
                "self": format!("https://jira.example/rest/api/2/issue/{}", 10000 + n),
            })),
        )
            .into_response(),
        ("GET", p) if p.starts_with("/rest/api/2/issue/") => {
            let key = p.rsplit('/').next().unwrap_or_default().to_string();
            let (name, category) = if fake.closed.contains(&key) {
                ("Done", "done")
            } else {
                ("In Progress", "indeterminate")
            };
            axum::Json(json!({"key": key, "fields": {"status": {
                "name": name, "statusCategory": {"id": 4, "key": category, "name": name}}}}))
            .into_response()
        }
        _ => (StatusCode::NOT_FOUND, "no such route in the fake").into_response(),
    }
}

/// Starts the fake on a loopback port: its base URL and memory.
pub async fn fake() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new().fallback(record).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}"), shared)
}

/// A server that reads the request and hangs up without answering: the outcome is unknown.
async fn hangs_up() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 65536];
            let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
            drop(sock);
        }
    });
    format!("http://{addr}")
}

/// The backlog a settings file describes.
pub fn backlog_from(toml: &str) -> Backlog {
    let s = tocsin::settings::Settings::from_toml("t.toml", toml).expect("settings");
    Backlog::from_settings(&s.backlog, "https://tocsin.example/", false)
        .expect("client")
        .expect("a backlog")
}

pub fn github(api: &str) -> Backlog {
    backlog_from(&format!(
        "[backlog]\nexport_delay_seconds = 30\n[backlog.github]\napi_url = \"{api}\"\n\
         repo = \"acme/ops\"\ntoken = \"ghp_secret123\"\n"
    ))
}

/// A resolved sev0 incident with a drafted postmortem: its id and a context to act in.
pub async fn postmortem(db: &Db, snaps: &SnapshotCache, title: &str, now: i64) -> i64 {
    let snap = snaps.get(db).await.unwrap();
    let actor = Actor::person(&snap, "jon-doe");
    let ctx = Ctx {
        db,
        snap: &snap,
        now,
        actor: &actor,
        base_url: "https://tocsin.example",
    };
    let d = Declaration {
        title: title.into(),
        severity: Some("sev0".into()),
        services: vec![],
        alerts: vec![],
        summary: String::new(),
        commander: Some("jon-doe".into()),
        channel_kind: None,
        channel_url: None,
    };
    let i = ic::declare(&ctx, &d, "api").await.expect("declare");
    ic::set_status(&ctx, i.id, Status::Resolved, "")
        .await
        .expect("resolve");
    let template = tocsin::postmortems::template::Template::default();
    pc::draft(&ctx, i.id, &template, &[], "")
        .await
        .expect("draft");
    i.id
}

/// Adds an action item to postmortem `id` at `now`.
pub async fn action(
    db: &Db,
    snaps: &SnapshotCache,
    id: i64,
    now: i64,
    (title, kind, owner, team, due): (&str, &str, &str, Option<&str>, Option<i64>),
) -> ActionItem {
    let snap = snaps.get(db).await.unwrap();
    let actor = Actor::person(&snap, "jon-doe");
    let ctx = Ctx {
        db,
        snap: &snap,
        now,
        actor: &actor,
        base_url: "https://tocsin.example",
    };
    let input = ActionInput {
        title: Some(title.into()),
        kind: Some(kind.into()),
        owner: Some(owner.into()),
        team: team.map(str::to_string),
        due_at: due,
        status: None,
    };
    pc::add_action(&ctx, id, &input).await.expect("add action")
}

pub async fn item(db: &Db, aid: i64) -> ActionItem {
    let mut tx = db.begin().await.unwrap();
    tocsin::postmortems::store::actions::get(&mut tx, aid)
        .await
        .unwrap()
}

fn header<'a>(s: &'a Seen, name: &str) -> &'a str {
    s.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn github_export_refresh_and_failures() {
    for t in support::backends().await {
        let db = &t.db;
        seed_example(db).await;
        let snaps = SnapshotCache::default();
        let now = t0().as_millisecond();
        let id = postmortem(db, &snaps, "Checkout down", now).await;
        let due = now + 7 * DAY;
        let a = action(
            db,
            &snaps,
            id,
            now,
            (
                "Add a canary for checkout",
                "prevent",
                "jon-doe",
                None,
                Some(due),
            ),
        )
        .await;
        let (api, fake) = fake().await;
        let b = github(&api);

        // Within the grace period nothing goes out.
        let r = backlog::pass(db, &b, now + 29_000, "o1").await.unwrap();
        assert_eq!(r, backlog::Report::default(), "{}", t.backend);
        assert!(fake.lock().unwrap().seen.is_empty());

        // Another process holds the lease: this one leaves the item alone.
        let at = now + 31_000;
        assert!(
            backlog::store::claim(db, a.id, "other", at, at + LEASE_MS)
                .await
                .unwrap()
        );
        let r = backlog::pass(db, &b, at, "o1").await.unwrap();
        assert_eq!(r.created, 0, "{}", t.backend);
        assert!(fake.lock().unwrap().seen.is_empty());
        backlog::store::release(db, a.id, "other").await.unwrap();

        let r = backlog::pass(db, &b, at, "o1").await.unwrap();
        assert_eq!(r.created, 1, "{}", t.backend);
        let seen = fake.lock().unwrap().seen.clone();
        assert_eq!(seen.len(), 1);
        let s = &seen[0];
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            ("POST", "/repos/acme/ops/issues")
        );
        assert_eq!(header(s, "accept"), "application/vnd.github+json");
        assert_eq!(header(s, "authorization"), "Bearer ghp_secret123");
        assert_eq!(header(s, "x-github-api-version"), "2022-11-28");
        assert!(
            header(s, "user-agent").starts_with("Tocsin/"),
            "{:?}",
            s.headers
        );
        assert_eq!(header(s, "content-type"), "application/json");
        let body = format!(
            "Action item from the postmortem of INC-{id}: Checkout down\n\n\
             - Type: prevent\n- Owner: Jon Doe (jon-doe)\n- Team: sre\n- Due: 2024-06-24\n\
             - Severity: sev0\n\n\
             Postmortem: https://tocsin.example/postmortems/{id}\n\
             Incident: https://tocsin.example/incidents/{id}\n\n\
             Created by Tocsin for action item {}; its state is read back from here.",
            a.id
        );
        assert_eq!(
            s.body,
            json!({"title": "Add a canary for checkout", "body": body,
                   "labels": ["postmortem", "sev0", "prevent"]})
        );
        let got = item(db, a.id).await;
        assert_eq!(got.backlog_kind.as_deref(), Some("github"));
        assert_eq!(got.backlog_key.as_deref(), Some("acme/ops#41"));
        assert_eq!(
            got.backlog_url.as_deref(),
            Some("https://github.com/acme/ops/issues/41")
        );
        assert_eq!(got.backlog_state.as_deref(), Some("open"));
        assert_eq!(got.backlog_error, None);

        // Nothing is due again before the refresh interval: no second issue, no read.
        backlog::pass(db, &b, at + 60_000, "o1").await.unwrap();
        assert_eq!(fake.lock().unwrap().seen.len(), 1);

        // Someone closes the issue; the refresh 15 minutes later reads it closed.
        fake.lock().unwrap().closed.push("41".into());
        let later = at + 15 * 60_000;
        let r = backlog::pass(db, &b, later, "o1").await.unwrap();
        assert_eq!(r.refreshed, 1, "{}", t.backend);
        let s = fake.lock().unwrap().seen[1].clone();
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            ("GET", "/repos/acme/ops/issues/41")
        );
        assert_eq!(header(&s, "authorization"), "Bearer ghp_secret123");
        assert_eq!(header(&s, "x-github-api-version"), "2022-11-28");
        let got = item(db, a.id).await;
        assert_eq!(got.backlog_state.as_deref(), Some("closed"));
        assert!(got.is_done());

        // Failure: the backlog answers 500. The error is stored (no token in it), the item
        // waits a minute, then a second; once the backlog is back, exactly one issue.
        let b2 = action(
            db,
            &snaps,
            id,
            later,
            ("Page on queue depth", "detect", "foo-bar", None, None),
        )
        .await;
        fake.lock().unwrap().failing = true;
        let t1 = later + 61_000;
        let r = backlog::pass(db, &b, t1, "o1").await.unwrap();
        assert_eq!(r.failed, 1, "{}", t.backend);
        let got = item(db, b2.id).await;
        let err = got.backlog_error.clone().unwrap_or_default();
        assert!(err.contains("HTTP 500: upstream is down"), "{err}");
        assert!(!err.contains("ghp_secret123"), "{err}");
        assert_eq!(got.backlog_key, None);
        let posts = |f: &Shared| {
            f.lock()
                .unwrap()
                .seen
                .iter()
                .filter(|s| s.method == "POST")
                .count()
        };
        assert_eq!(posts(&fake), 2);
        backlog::pass(db, &b, t1 + 59_000, "o1").await.unwrap();
        assert_eq!(posts(&fake), 2, "retried before the backoff");
        backlog::pass(db, &b, t1 + 60_000, "o1").await.unwrap();
        assert_eq!(posts(&fake), 3, "retried after a minute");
        fake.lock().unwrap().failing = false;
        backlog::pass(db, &b, t1 + 60_000 + 119_000, "o1")
            .await
            .unwrap();
        assert_eq!(posts(&fake), 3, "the second backoff is two minutes");
        let r = backlog::pass(db, &b, t1 + 60_000 + 120_000, "o1")
            .await
            .unwrap();
        assert_eq!(r.created, 1);
        let got = item(db, b2.id).await;
        assert_eq!(got.backlog_key.as_deref(), Some("acme/ops#44"));
        assert_eq!(got.backlog_error, None);
        // And never again for this item.
        backlog::pass(db, &b, t1 + DAY, "o1").await.unwrap();
        assert_eq!(posts(&fake), 4);
    }
}

#[tokio::test]
async fn an_unknown_outcome_is_stored_and_retried() {
    for t in support::backends().await {
        let db = &t.db;
        seed_example(db).await;
        let snaps = SnapshotCache::default();
        let now = t0().as_millisecond();
        let id = postmortem(db, &snaps, "Search slow", now).await;
        let a = action(
            db,
            &snaps,
            id,
            now,
            ("Cache warm-up", "mitigate", "foo-bar", None, None),
        )
        .await;
        let b = github(&hangs_up().await);
        let r = backlog::pass(db, &b, now + 60_000, "o1").await.unwrap();
        assert_eq!(r.failed, 1, "{}", t.backend);
        let got = item(db, a.id).await;
        let err = got.backlog_error.unwrap_or_default();
        assert!(
            err.starts_with("creating the github item failed: outcome unknown"),
            "{err}"
        );
        assert_eq!(got.backlog_key, None);
        // The lease is released: the retry after the backoff may claim it.
        assert!(
            backlog::store::claim(db, a.id, "x", now + 120_000, now + 130_000)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn jira_export_and_refresh() {
    for t in support::backends().await {
        let db = &t.db;
        seed_example(db).await;
        let snaps = SnapshotCache::default();
        let now = t0().as_millisecond();
        let id = postmortem(db, &snaps, "Payments timeouts", now).await;
        let a = action(
            db,
            &snaps,
            id,
            now,
            (
                "Retry budget for the PSP client",
                "prevent",
                "jane-doe",
                Some("payments"),
                Some(now + 3 * DAY),
            ),
        )
        .await;
        let (api, fake) = fake().await;
        let b = backlog_from(&format!(
            "[backlog.jira]\nbase_url = \"{api}/\"\nproject = \"OPS\"\n\
             email = \"ops@acme.example\"\napi_token = \"jira-api-token\"\n"
        ));
        let r = backlog::pass(db, &b, now + 60_000, "o1").await.unwrap();
        assert_eq!(r.created, 1, "{}", t.backend);
        let s = fake.lock().unwrap().seen[0].clone();
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            ("POST", "/rest/api/2/issue")
        );
        // base64("ops@acme.example:jira-api-token"), computed independently.
        assert_eq!(
            header(&s, "authorization"),
            "Basic b3BzQGFjbWUuZXhhbXBsZTpqaXJhLWFwaS10b2tlbg=="
        );
        assert_eq!(header(&s, "accept"), "application/json");
        assert_eq!(header(&s, "content-type"), "application/json");
        let fields = &s.body["fields"];
        assert_eq!(s.body.as_object().map(|o| o.len()), Some(1));
        assert_eq!(fields["project"], json!({"key": "OPS"}));
        assert_eq!(fields["summary"], "Retry budget for the PSP client");
        assert_eq!(fields["issuetype"], json!({"name": "Task"}));
        assert_eq!(fields["duedate"], "2024-06-20");
        assert_eq!(fields["labels"], json!(["postmortem", "sev0", "prevent"]));
        let desc = fields["description"].as_str().unwrap_or_default();
        assert!(
            desc.contains("- Owner: Jane Doe (jane-doe)\n- Team: payments\n"),
            "{desc}"
        );
        assert!(desc.contains(&format!(
            "Postmortem: https://tocsin.example/postmortems/{id}"
        )));
        assert_eq!(fields.as_object().map(|o| o.len()), Some(6));
        let got = item(db, a.id).await;
        assert_eq!(got.backlog_key.as_deref(), Some("OPS-1"));
        assert_eq!(
            got.backlog_url.as_deref(),
            Some(format!("{api}/browse/OPS-1").as_str())
        );

        // In progress reads open; Done (status category `done`) reads closed.
        backlog::pass(db, &b, now + 60_000 + 15 * 60_000, "o1")
            .await
            .unwrap();
        let s = fake.lock().unwrap().seen[1].clone();
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            ("GET", "/rest/api/2/issue/OPS-1")
        );
        assert_eq!(s.query.as_deref(), Some("fields=status"));
        assert_eq!(item(db, a.id).await.backlog_state.as_deref(), Some("open"));
        fake.lock().unwrap().closed.push("OPS-1".into());
        backlog::pass(db, &b, now + 60_000 + 30 * 60_000, "o1")
            .await
            .unwrap();
        assert_eq!(
            item(db, a.id).await.backlog_state.as_deref(),
            Some("closed")
        );

        // A Data Center personal access token goes as a bearer token.
        let pat = backlog_from(&format!(
            "[backlog.jira]\nbase_url = \"{api}\"\nproject = \"OPS\"\ntoken = \"pat-1\"\n\
             issue_type = \"Bug\"\n"
        ));
        let c = action(
            db,
            &snaps,
            id,
            now,
            ("Runbook for PSP outages", "process", "jane-doe", None, None),
        )
        .await;
        tocsin::postmortems::backlog::sync_now(db, &pat, id, c.id, now + 1000)
            .await
            .unwrap();
        let s = fake.lock().unwrap().seen.last().cloned().unwrap();
        assert_eq!(header(&s, "authorization"), "Bearer pat-1");
        assert_eq!(s.body["fields"]["issuetype"], json!({"name": "Bug"}));
        assert!(s.body["fields"].get("duedate").is_none());
    }
}

#[tokio::test]
async fn webhook_export_is_signed_and_idempotent() {
    let t = support::sqlite().await;
    let db = &t.db;
    seed_example(db).await;
    let snaps = SnapshotCache::default();
    let now = t0().as_millisecond();
    let id = postmortem(db, &snaps, "Login errors", now).await;
    let a = action(
        db,
        &snaps,
        id,
        now,
        ("Alert on 5xx ratio", "detect", "sam-rivera", None, None),
    )
    .await;
    let (api, fake) = fake().await;
    let b = backlog_from(&format!(
        "[backlog.webhook]\nurl = \"{api}/hooks/backlog\"\nsecret = \"whsec_1\"\n"
    ));
    // The fake answers 404 for this path: an error, and nothing stored.
    backlog::pass(db, &b, now + 60_000, "o1").await.unwrap();
    let s = fake.lock().unwrap().seen[0].clone();
    assert_eq!(s.path, "/hooks/backlog");
    assert_eq!(header(&s, "x-tocsin-event"), "action_item.created");
    assert_eq!(
        header(&s, "idempotency-key"),
        format!("action-item-{}", a.id)
    );
    let sig = header(&s, "x-tocsin-signature");
    tocsin::notify::webhook::verify_signature(
        b"whsec_1",
        sig,
        s.raw.as_bytes(),
        now + 60_000,
        tocsin::notify::webhook::DEFAULT_TOLERANCE,
    )
    .expect("signed");
    assert_eq!(s.body["event"], "action_item.created");
    assert_eq!(s.body["action"]["owner_name"], "Sam Rivera");
    assert_eq!(
        s.body["api_url"],
        format!(
            "https://tocsin.example/api/v1/postmortems/{id}/actions/{}",
            a.id
        )
    );
    let got = item(db, a.id).await;
    assert!(got.backlog_error.unwrap_or_default().contains("HTTP 404"));
    assert_eq!(got.backlog_key, None);
}

#[tokio::test]
async fn the_api_exports_on_demand() {
    for t in support::backends().await {
        let db = t.db.clone();
        seed_example(&db).await;
        let snaps = SnapshotCache::default();
        let now = t0().as_millisecond();
        let id = postmortem(&db, &snaps, "Checkout down", now).await;
        let a = action(
            &db,
            &snaps,
            id,
            now,
            ("Add a canary", "prevent", "jon-doe", None, None),
        )
        .await;
        let (api, fake) = fake().await;
        let mut app = TestApp::new(db.clone());
        let settings = tocsin::http::HttpSettings {
            backlog: Some(Arc::new(github(&api))),
            ..Default::default()
        };
        let shared: tocsin::clock::SharedClock = Arc::new(app.clock.clone());
        app.state = tocsin::http::AppState::new(db.clone(), shared, settings, None);
        app.router = tocsin::http::router(app.state.clone());
        let viewer = app.token(Role::Viewer).await;
        let responder = app.token(Role::Responder).await;
        let path = format!("/api/v1/postmortems/{id}/actions/{}/backlog", a.id);
        let (st, body) = app.call("POST", &path, Some(&viewer), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
        assert!(fake.lock().unwrap().seen.is_empty());
        let (st, body) = app.call("POST", &path, Some(&responder), None).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["backlog_key"], "acme/ops#41");
        // Again: the item is there, so this reads its state instead of creating another.
        let (st, body) = app.call("POST", &path, Some(&responder), None).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let seen = fake.lock().unwrap().seen.clone();
        let methods: Vec<&str> = seen.iter().map(|s| s.method.as_str()).collect();
        assert_eq!(methods, ["POST", "GET"], "{}", t.backend);
        // Another postmortem's number, an unknown item, a leased item.
        let wrong = format!("/api/v1/postmortems/{}/actions/{}/backlog", id + 1, a.id);
        assert_eq!(
            app.call("POST", &wrong, Some(&responder), None).await.0,
            StatusCode::NOT_FOUND
        );
        let missing = format!("/api/v1/postmortems/{id}/actions/999999/backlog");
        let (st, body) = app.call("POST", &missing, Some(&responder), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
        assert!(body["error"].is_string());
        let bad = format!("/api/v1/postmortems/{id}/actions/x/backlog");
        assert_eq!(
            app.call("POST", &bad, Some(&responder), None).await.0,
            StatusCode::BAD_REQUEST
        );
        let b = action(
            &db,
            &snaps,
            id,
            now,
            ("Second", "detect", "jon-doe", None, None),
        )
        .await;
        assert!(
            backlog::store::claim(&db, b.id, "other", now, now + LEASE_MS)
                .await
                .unwrap()
        );
        let leased = format!("/api/v1/postmortems/{id}/actions/{}/backlog", b.id);
        let (st, body) = app.call("POST", &leased, Some(&responder), None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{body}");
        assert_eq!(fake.lock().unwrap().seen.len(), 2);
        // Without a backlog configured: 409 naming the setting.
        let plain = TestApp::new(db.clone());
        let (st, body) = plain.call("POST", &path, Some(&responder), None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or_default()
                .contains("[backlog]")
        );
    }
}
