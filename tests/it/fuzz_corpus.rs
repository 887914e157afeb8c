//! The fuzzers' corpora replayed over HTTP (reliability.md T10): every file under
//! `fuzz/corpus/<parser>/` is posted to that parser's endpoint on a real `tocsin serve`, with
//! a valid integration key, and must get an answer below 500; the server must not log a
//! panic. PagerDuty bodies carry their key inside, so each is also sent with its
//! `routing_key` replaced by a valid one, to reach the store and not just the key check.
//! On SQLite and, when configured, PostgreSQL (which refuses some text SQLite takes).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::blocking::Client;
use serde_json::Value;

use crate::crash::{Proc, Site, free_port};
use crate::serve::run_ok;

/// (corpus directory, endpoint, integration type).
const TARGETS: [(&str, &str, &str); 5] = [
    ("alertmanager", "/ingest/alertmanager", "alertmanager"),
    ("grafana", "/ingest/grafana", "grafana"),
    ("alertmanager_api", "/api/v2/alerts", "alertmanager_api"),
    ("generic", "/ingest/generic", "generic"),
    ("pagerduty", "/v2/enqueue", "pagerduty"),
];

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn key_for(site: &Site, kind: &str) -> String {
    let out = run_ok(
        &[
            "integration",
            "--database-url",
            &site.url,
            "create",
            "--service",
            "api",
            "--type",
            kind,
        ],
        "",
    );
    out.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.contains(' '))
        .expect("key printed")
        .to_string()
}

/// A PagerDuty body with its routing key swapped for `key`, when it is a JSON object.
fn with_routing_key(body: &[u8], key: &str) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    v.as_object_mut()?
        .insert("routing_key".into(), Value::String(key.into()));
    serde_json::to_vec(&v).ok()
}

fn replay(site: &Site) {
    let b = site.backend;
    let client = Client::new();
    let mut server = Proc::start(site, free_port(), "serve");
    server.wait_ready(&client);
    let mut sent = 0;
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for (target, path, kind) in TARGETS {
        let key = key_for(site, kind);
        let files = corpus(target);
        assert!(!files.is_empty(), "fuzz/corpus/{target} is empty");
        for file in files {
            let body = std::fs::read(&file).expect("read corpus file");
            let mut bodies = vec![body.clone()];
            if target == "pagerduty" {
                bodies.extend(with_routing_key(&body, &key));
            }
            for body in bodies {
                let r = client
                    .post(format!("{}{path}", server.base))
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .unwrap_or_else(|e| panic!("{b}: {}: {e}", file.display()));
                let status = r.status();
                *by_status.entry(status.as_u16()).or_default() += 1;
                sent += 1;
                if status.is_server_error() {
                    let log = std::fs::read_to_string(site.dir.path().join("serve.log"));
                    panic!(
                        "{b}: {} -> {status}: {}\nserver log:\n{}",
                        file.display(),
                        r.text().unwrap_or_default(),
                        log.unwrap_or_default()
                    );
                }
            }
        }
    }
    server.wait_ready(&client);
    drop(server);
    let log = std::fs::read_to_string(site.dir.path().join("serve.log")).unwrap_or_default();
    assert!(
        !log.contains("panicked"),
        "{b}: the server panicked:\n{log}"
    );
    eprintln!("{b}: {sent} corpus bodies replayed, answers by status: {by_status:?}");
}

#[test]
fn the_fuzz_corpora_replayed_over_http_never_get_a_5xx() {
    let rt = Arc::new(tokio::runtime::Runtime::new().expect("runtime"));
    let pg = Site::postgres(&rt).map(|site| std::thread::spawn(move || replay(&site)));
    replay(&Site::sqlite());
    if let Some(pg) = pg {
        pg.join().expect("postgres run");
    }
}
