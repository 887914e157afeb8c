//! The database layer: one `Db` handle over a concrete SQLite or PostgreSQL pool.
//!
//! Every store writes its SQL once, in the dialect both backends share (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT`, integer milliseconds for instants), and runs it through
//! [`on_db!`], which compiles the body once per backend. This module is the only place that
//! knows which backend is in use; the few statements that must differ are explicit here.

mod error;
mod writer;

pub use error::StoreError;
pub use writer::{WriteTx, Writer};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A connection pool to one of the two supported backends. SQLite's is a pool of readers
/// and the one connection every write transaction takes in turn (see [`Db::begin`]).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Writer),
    Postgres(PgPool),
}

/// An open transaction on either backend; commit it or drop it to roll back. A SQLite write
/// transaction holds the one writer connection until it ends.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A SQLite transaction: a snapshot on a reader, or a write on the writer connection.
pub enum SqliteTx {
    Read(sqlx::Transaction<'static, sqlx::Sqlite>),
    Write(WriteTx),
}

impl SqliteTx {
    pub fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        match self {
            Self::Read(t) => t,
            Self::Write(w) => w.conn(),
        }
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool (or connection) of whichever backend
/// `$db` holds. The body is type-checked once per backend, so the same SQL string serves both.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_db!`] for a transaction: `$conn` is `&mut` the backend's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = t.conn();
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Which backend a database URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Reads the scheme of a database URL; anything else is a clear error, not a guess.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database URL must start with sqlite:// or postgres://, got {url:?}"
            )))
        }
    }
}

/// How long a SQLite writer waits for its turn before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// SQLite reads the database through a memory map of up to this size: the pages come from
/// the OS cache without a `pread` copy each, and every connection of the pool shares them.
/// Reads of b-tree pages were the writer's largest cost under ingestion (`BENCHMARKS.md`).
const MMAP_BYTES: i64 = 1 << 30;
/// The writer connection's page cache, in KiB (negative, as SQLite takes it): 32 MiB instead
/// of the default 2 MiB, so an ingest batch finds the indexes it inserts into in memory.
const CACHE_KIB: i64 = -32 * 1024;
/// WAL pages before an automatic checkpoint (default 1,000): a checkpoint copies each page
/// once however often it changed, so a larger WAL writes hot index pages back less often.
const CHECKPOINT_PAGES: i64 = 10_000;

impl Db {
    /// Opens a pool for `url`, creating a SQLite file on first use (WAL mode, set explicitly).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        match Backend::from_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // NORMAL is durable across process crashes in WAL mode; only an OS crash
                    // can lose the last commits. FULL would halve ingestion throughput.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(BUSY_TIMEOUT)
                    .pragma("wal_autocheckpoint", CHECKPOINT_PAGES.to_string())
                    .pragma("mmap_size", MMAP_BYTES.to_string());
                // Readers keep SQLite's default page cache: theirs is emptied after every
                // write anyway, and emptying a large one costs more than it saves.
                // A connection to a local file cannot go stale, and sqlx's check before each
                // acquire is a round trip to the connection's worker thread.
                let readers = SqlitePoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .connect_with(options.clone())
                    .await?;
                let writer =
                    Writer::open(&options.pragma("cache_size", CACHE_KIB.to_string())).await?;
                Ok(Self::Sqlite(readers, writer))
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                Self::connect_postgres(options).await
            }
        }
    }

    /// Opens a PostgreSQL pool with explicit options (tests use this to pin a schema).
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self::Postgres(pool))
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pool, _) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(..) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction that may write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails
    /// with SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out, whenever another connection
    /// committed in between. SQLite serialises writers anyway; this makes them queue.
    ///
    /// They queue first for this process's one writer connection, then on SQLite's lock
    /// (held only by other processes, or by a single write statement outside a transaction).
    /// A writer that finds SQLite's lock taken polls it with sleeps of 1, 2, 5, 10… ms; the
    /// engine's short transactions between ingest batches kept the ingest writer asleep more
    /// than busy (`BENCHMARKS.md`). One connection also keeps its page cache: SQLite empties a
    /// connection's cache whenever another connection has written since its last
    /// transaction, and the ingest writer then read every index page back from the WAL. The
    /// wait is bounded like the busy timeout, so a transaction that (wrongly) opens another
    /// one fails instead of hanging.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Self::Sqlite(_, writer) => {
                Tx::Sqlite(SqliteTx::Write(writer.begin(BUSY_TIMEOUT).await?))
            }
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Starts a read-only transaction: one consistent snapshot, taking no write lock.
    pub async fn begin_read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Self::Sqlite(pool, _) => Tx::Sqlite(SqliteTx::Read(pool.begin().await?)),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Whether `sql`, a `select 1 from … where … limit 1` whose only parameter `$1` is `now`,
    /// finds a row. Every claim asks this first: a claim is an `update`, and on SQLite an
    /// update takes the one write lock even when nothing is due, so an idle claim used to
    /// queue behind each ingest batch and then hold the next one up (`BENCHMARKS.md`). A
    /// read takes no lock in WAL mode; the claim that follows re-checks under its own.
    pub async fn any_due(&self, sql: &'static str, now: i64) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = on_db!(self, |p| sqlx::query_as(sql)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row.is_some())
    }

    /// A trivial round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query("select 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(readers, writer) => {
                writer.close().await;
                readers.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Bind parameters per statement stay under both backends' limits (SQLite 32,766; PostgreSQL
/// 65,535) with room to spare.
pub const MAX_BINDS: usize = 10_000;

impl Tx {
    /// Inserts `rows` into `target` (`"table (col, …)"`) as multi-row statements: each row is
    /// `prefix` followed by its own text values, and the row's position in `rows` when
    /// `with_position` (list order is data: dependencies, links, memberships). One statement per
    /// few thousand rows instead of one per row: on SQLite each statement is a round trip to
    /// the connection's worker thread, which dominates bulk writes.
    pub async fn insert_rows(
        &mut self,
        target: &'static str,
        prefix: &[&str],
        rows: &[Vec<&str>],
        with_position: bool,
    ) -> Result<(), StoreError> {
        let width = prefix.len() + rows.first().map_or(0, Vec::len) + usize::from(with_position);
        let per_statement = (MAX_BINDS / width.max(1)).max(1);
        for (chunk_index, chunk) in rows.chunks(per_statement).enumerate() {
            let offset = chunk_index * per_statement;
            let head = format!("insert into {target} ");
            on_tx!(self, |c| {
                let mut q = sqlx::QueryBuilder::new(head);
                q.push_values(chunk.iter().enumerate(), |mut b, (i, row)| {
                    for v in prefix.iter().chain(row) {
                        b.push_bind(*v);
                    }
                    if with_position {
                        b.push_bind(i64::try_from(offset + i).unwrap_or(i64::MAX));
                    }
                });
                q.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(SqliteTx::Read(t)) => t.commit().await?,
            Self::Sqlite(SqliteTx::Write(t)) => t.commit().await?,
            Self::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
