//! The short crash test (`bench/crash.py` is the long one): the real `tocsin serve` takes
//! alerts from concurrent senders while it is killed with SIGKILL and restarted five times.
//! Then every alert that got a 2xx must exist exactly once, no dedup key may have two open
//! alerts, and every page that fell due (level 0: two people at once) must be recorded, once. On SQLite and, when configured, on PostgreSQL (a fresh schema).
//!
//! Also the process harness `ha.rs` shares: [`Site`] (a database set up through the CLI on
//! either backend) and [`Proc`] (a server on a fixed port that can be killed and restarted).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use tocsin::alerts::lifecycle::Alert;
use tocsin::alerts::store::{self as alert_store, Filter};
use tocsin::db::Db;
use tocsin::engine::store as engine_store;

use crate::serve::{run_ok, tocsin_command};

/// p1 and p2 paged at once, p3 a minute later (after the test is over).
pub const CATALOG: &str = "\
tiers: [{level: 0, name: Tier 0, description: Critical}]
domains: [{id: core, name: Core, description: Core}]
teams: [{id: ops, name: Ops, description: Ops, escalation_policy: crash}]
people:
  - {id: p1, name: Pat One, email: p1@example.com, time_zone: UTC, title: SRE, teams: [ops]}
  - {id: p2, name: Pat Two, email: p2@example.com, time_zone: UTC, title: SRE, teams: [ops]}
  - {id: p3, name: Pat Three, email: p3@example.com, time_zone: UTC, title: SRE, teams: [ops]}
escalation_policies:
  - id: crash
    name: Crash test
    description: Two people at once, a third after a minute.
    levels:
      - {targets: [{person: p1}, {person: p2}], escalate_after_minutes: 1}
      - {targets: [{person: p3}], escalate_after_minutes: 1}
    repeat: 0
services:
  - {id: api, name: API, description: Under test, type: rest-api, stateful: false,
     owner_team: ops, tier: 0, domain: core}
";

const CYCLES: usize = 5;
const SENDERS: usize = 8;
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A database set up through the CLI (catalog applied, one generic integration key): a
/// SQLite file, or a fresh schema on the test PostgreSQL server, dropped with the Site.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub backend: &'static str,
    pub key: String,
    pg: Option<crate::support::TestDb>,
}

impl Site {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
        Self::setup(dir, url, "sqlite", None)
    }

    /// None (with the harness's notice) without `TOCSIN_TEST_POSTGRES_URL`.
    pub fn postgres(rt: &tokio::runtime::Runtime) -> Option<Self> {
        let pg = rt.block_on(crate::support::postgres())?;
        let schema = pg
            .pg_schema()
            .expect("a postgres test db has a schema")
            .to_string();
        let server = std::env::var("TOCSIN_TEST_POSTGRES_URL").expect("checked by postgres()");
        let sep = if server.contains('?') { '&' } else { '?' };
        // The processes see only the test's schema, as the harness's own pool does.
        let url = format!("{server}{sep}options=-c%20search_path%3D{schema}");
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Self::setup(dir, url, "postgres", Some(pg)))
    }

    fn setup(
        dir: tempfile::TempDir,
        url: String,
        backend: &'static str,
        pg: Option<crate::support::TestDb>,
    ) -> Self {
        let catalog = dir.path().join("catalog.yaml");
        std::fs::write(&catalog, CATALOG).expect("write catalog");
        let catalog = catalog.display().to_string();
        run_ok(&["apply", "--database-url", &url, &catalog], "");
        let out = run_ok(
            &[
                "integration",
                "--database-url",
                &url,
                "create",
                "--service",
                "api",
                "--type",
                "generic",
            ],
            "",
        );
        let key = out
            .lines()
            .find(|l| l.starts_with("tcn_"))
            .expect("key printed")
            .to_string();
        Self {
            dir,
            url,
            backend,
            key,
            pg,
        }
    }

    /// A pool of the test's own on the same database, for reading the outcome.
    pub async fn db(&self) -> Db {
        match &self.pg {
            Some(pg) => pg.db.clone(),
            None => tocsin::app::open_db(&self.url).await.expect("open sqlite"),
        }
    }
}

/// A free loopback port (bound and released; the server takes it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// `tocsin serve` on a fixed port, logging to a file in the site's directory.
pub struct Proc {
    child: Child,
    pub base: String,
}

impl Proc {
    pub fn start(site: &Site, port: u16, name: &str) -> Self {
        let log = File::options()
            .create(true)
            .append(true)
            .open(site.dir.path().join(format!("{name}.log")))
            .expect("log file");
        let child = tocsin_command(&[
            "serve",
            "--database-url",
            &site.url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn tocsin serve");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits for `/readyz` 200; how long it took.
    pub fn wait_ready(&mut self, client: &Client) -> Duration {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("tocsin serve exited with {status}");
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send()
                && r.status().is_success()
            {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("tocsin serve not ready within {READY_TIMEOUT:?}");
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Every alert in the database, by id (the list API pages newest first, 500 at a time).
pub async fn all_alerts(db: &Db) -> BTreeMap<String, Alert> {
    let mut all = BTreeMap::new();
    let mut before = None;
    loop {
        let f = Filter {
            before,
            limit: 500,
            ..Filter::default()
        };
        let page = alert_store::list(db, &f).await.expect("list alerts");
        // Alerts created in the same millisecond may straddle a page boundary: step back to
        // just after the oldest one seen and let the map drop the repeats.
        let oldest = page.last().map(|a| a.created_at);
        let before_len = all.len();
        all.extend(page.into_iter().map(|a| (a.id.clone(), a)));
        if all.len() == before_len {
            return all;
        }
        before = oldest.map(|t| t + 1);
    }
}

/// Sends alerts with unique dedup keys until `stop`, retrying a key until it gets a 2xx (a
/// request committed just before a kill is retried into a dedup, as a real sender would).
fn sender(idx: usize, base: String, key: String, stop: Arc<AtomicBool>) -> BTreeSet<String> {
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut acked = BTreeSet::new();
    let mut n = 0;
    'keys: while !stop.load(Ordering::Relaxed) {
        let dedup = format!("s{idx}-{n}");
        let body = serde_json::json!({"summary": format!("crash {dedup}"), "dedup_key": dedup});
        while !stop.load(Ordering::Relaxed) {
            match client
                .post(format!("{base}/ingest/generic"))
                .bearer_auth(&key)
                .json(&body)
                .send()
            {
                Ok(r) if r.status().is_success() => {
                    acked.insert(dedup);
                    n += 1;
                    continue 'keys;
                }
                Ok(r) => panic!("{dedup}: {} {}", r.status(), r.text().unwrap_or_default()),
                // Connection refused or reset: the server is down; try again.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    acked
}

fn crash_cycles(site: &Site, rt: &tokio::runtime::Runtime) {
    let b = site.backend;
    let client = Client::new();
    let port = free_port();
    let mut proc = Proc::start(site, port, "serve");
    proc.wait_ready(&client);
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|i| {
            let (base, key, stop) = (proc.base.clone(), site.key.clone(), Arc::clone(&stop));
            std::thread::spawn(move || sender(i, base, key, stop))
        })
        .collect();
    let ready = Arc::new(Mutex::new(Vec::new()));
    // Kill points vary with the clock: early in start-up, or mid-load.
    for cycle in 0..CYCLES {
        let up = 100 + (cycle as u64 * 277 + u64::from(proc.pid())) % 700;
        std::thread::sleep(Duration::from_millis(if cycle == 2 { 5 } else { up }));
        proc.kill9();
        proc = Proc::start(site, port, "serve");
        let took = proc.wait_ready(&client);
        ready.lock().unwrap().push(took);
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let acked: BTreeSet<String> = senders
        .into_iter()
        .flat_map(|h| h.join().expect("sender"))
        .collect();
    assert!(
        acked.len() >= 50,
        "{b}: only {} alerts accepted",
        acked.len()
    );

    rt.block_on(async {
        let db = site.db().await;
        // Drain: level 0 is due at once; wait until every escalation has paged it. A step
        // the last kill interrupted waits for its lease to expire (engine::LEASE_MS).
        let lease = Duration::from_millis(tocsin::engine::LEASE_MS.unsigned_abs());
        let deadline = Instant::now() + lease + Duration::from_secs(10);
        let (alerts, pending) = loop {
            let alerts = all_alerts(&db).await;
            let mut pending = Vec::new();
            for id in alerts.keys() {
                let e = engine_store::escalation(&db, id).await.unwrap();
                if e.is_none_or(|e| e.cursor.level == 0) {
                    pending.push(id.clone());
                }
            }
            if pending.is_empty() || Instant::now() > deadline {
                break (alerts, pending);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert!(
            pending.is_empty(),
            "{b}: level 0 never paged for {pending:?}"
        );

        let mut per_key: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
        for a in alerts.values() {
            per_key.entry(a.dedup_key.as_str()).or_default().push(a);
        }
        let missing: Vec<_> = acked
            .iter()
            .filter(|k| !per_key.contains_key(k.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{b}: acknowledged but lost: {missing:?}"
        );
        let doubled: Vec<_> = per_key.iter().filter(|(_, v)| v.len() > 1).collect();
        assert!(doubled.is_empty(), "{b}: stored twice: {doubled:?}");
        // Since the per-person throttle, a page is a message of its own or joins a bundle,
        // so pages are counted where each step records them: one `page` entry in the
        // alert's log per level paged, never two (a redone step would add a second).
        for (id, a) in &alerts {
            let (_, log) = alert_store::get(&db, id).await.unwrap();
            let paged = log.iter().filter(|l| l.kind == "page").count();
            assert_eq!(paged, 1, "{b}: level 0 of {} ({id}): {log:?}", a.dedup_key);
        }
        eprintln!(
            "{b}: {CYCLES} kill -9 cycles, {} alerts acknowledged, {} stored and paged once, \
             restart to ready {:?}",
            acked.len(),
            alerts.len(),
            ready.lock().unwrap()
        );
        if b == "sqlite" {
            db.close().await;
        }
    });
    drop(proc);
    if b == "sqlite" {
        integrity_check(site);
    }
}

/// `PRAGMA integrity_check` through the `sqlite3` shell (an independent reader), when
/// installed. Retried briefly: the test's own pool may still be closing its connections.
fn integrity_check(site: &Site) {
    let path = site.url.trim_start_matches("sqlite://");
    let mut last = String::new();
    for _ in 0..20 {
        match std::process::Command::new("sqlite3")
            .args([path, "pragma integrity_check"])
            .output()
        {
            Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "ok" => return,
            Ok(out) => {
                last = format!(
                    "{} {}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Err(_) => {
                eprintln!("notice: sqlite3 not installed; integrity check skipped");
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("integrity_check: {last}");
}

#[test]
fn kill_9_while_ingesting_loses_no_accepted_alert_and_no_due_page() {
    let rt = Arc::new(tokio::runtime::Runtime::new().expect("runtime"));
    // The backends run side by side: most of the time is the wait for a killed owner's lease.
    let pg = Site::postgres(&rt).map(|site| {
        let rt = Arc::clone(&rt);
        std::thread::spawn(move || crash_cycles(&site, &rt))
    });
    crash_cycles(&Site::sqlite(), &rt);
    if let Some(pg) = pg {
        pg.join().expect("postgres run");
    }
}
