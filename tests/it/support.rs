//! Shared test harness: databases on both backends, an app with a fixed clock, and requests.
//!
//! Every store-level test runs on a fresh SQLite file and, when `TOCSIN_TEST_POSTGRES_URL` is
//! set, on a fresh PostgreSQL schema; without it the PostgreSQL half is skipped with a notice.

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use tocsin::auth::Role;
use tocsin::clock::{FakeClock, SharedClock};
use tocsin::db::Db;
use tocsin::http::{AppState, HttpSettings};
use tower::ServiceExt;

/// A migrated database and what it runs on; the temp dir lives as long as it does.
pub struct TestDb {
    pub db: Db,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    /// (server URL, schema) of a PostgreSQL test schema, dropped with the TestDb.
    pg_schema: Option<(String, String)>,
}

impl Drop for TestDb {
    /// Drops the test's PostgreSQL schema so repeated runs don't pile schemas up in the shared
    /// database. Drop cannot await, so a short-lived thread with its own runtime does it.
    fn drop(&mut self) {
        let Some((url, schema)) = self.pg_schema.take() else {
            return;
        };
        // The test's own pool is left to its runtime (closing it from here would wait on that
        // runtime while it waits on us); its idle connections hold no locks the drop needs.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(Db::Postgres(admin)) = Db::connect(&url).await {
                    // A rollback the blocked test runtime has not run yet may still hold locks:
                    // give up after a moment and leave the schema to `.ci/run`'s cleanup.
                    let sql =
                        format!("set lock_timeout = '3s'; drop schema if exists {schema} cascade");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&admin)
                        .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A fresh SQLite database in a temp file.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
    let db = tocsin::app::open_db(&url).await.expect("open sqlite");
    TestDb {
        db,
        backend: "sqlite",
        _dir: Some(dir),
        pg_schema: None,
    }
}

/// A fresh PostgreSQL schema, or None (with a printed notice) when no server is configured.
pub async fn postgres() -> Option<TestDb> {
    let Ok(url) = std::env::var("TOCSIN_TEST_POSTGRES_URL") else {
        eprintln!("notice: TOCSIN_TEST_POSTGRES_URL is not set; skipping the PostgreSQL run");
        return None;
    };
    let schema = format!("t_{}", tocsin::auth::new_secret("")[..16].to_lowercase());
    let admin = Db::connect(&url)
        .await
        .expect("connect to TOCSIN_TEST_POSTGRES_URL");
    if let Db::Postgres(pool) = &admin {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create schema {schema}")))
            .execute(pool)
            .await
            .expect("create schema");
    }
    admin.close().await;
    let options = PgConnectOptions::from_str(&url)
        .expect("postgres url")
        .options([("search_path", schema.as_str())]);
    let db = Db::connect_postgres(options)
        .await
        .expect("connect to schema");
    db.migrate().await.expect("migrate postgres");
    Some(TestDb {
        db,
        backend: "postgres",
        _dir: None,
        pg_schema: Some((url, schema)),
    })
}

/// SQLite always, PostgreSQL when configured.
pub async fn backends() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

/// 2024-06-17T09:00:00Z, a Monday: the seed calendar's first week.
pub fn t0() -> jiff::Timestamp {
    "2024-06-17T09:00:00Z".parse().expect("timestamp")
}

/// The example organisation loaded into `db`.
pub async fn seed_example(db: &Db) {
    let current = tocsin::catalog::store::load(db).await.expect("load");
    let loaded =
        tocsin::config::load(tocsin::cli::example_sources(), &current).expect("example is valid");
    tocsin::config::apply::apply(db, t0().as_millisecond(), "test", &loaded.catalog, false)
        .await
        .expect("apply example");
}

/// An app over a database, with a fake clock, driven in-process with `Router::oneshot`.
pub struct TestApp {
    pub db: Db,
    pub clock: FakeClock,
    pub router: Router,
    pub state: AppState,
}

impl TestApp {
    pub fn new(db: Db) -> Self {
        let clock = FakeClock::at(t0());
        let shared: SharedClock = Arc::new(clock.clone());
        let state = AppState::new(db.clone(), shared, HttpSettings::default(), None);
        Self {
            db,
            clock,
            router: tocsin::http::router(state.clone()),
            state,
        }
    }

    /// A new API token with `role`; returns its secret.
    pub async fn token(&self, role: Role) -> String {
        let name = format!("test-{}", role.as_str());
        tocsin::auth::accounts::create_token(&self.db, &name, role, "test", t0().as_millisecond())
            .await
            .expect("create token")
            .1
    }

    /// Sends a request; `token` as a bearer token, `body` as JSON when given.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).expect("request")).await
    }

    /// Sends a prepared request; the body is parsed as JSON when it is JSON, else a string.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let (status, bytes) = self.raw(req).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// Sends a prepared request and returns the raw body.
    pub async fn raw(&self, mut req: Request<Body>) -> (StatusCode, Vec<u8>) {
        // Handlers that read the client address (login) need ConnectInfo.
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                9,
            ))));
        let response = self.router.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, bytes)
    }
}
