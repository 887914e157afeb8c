//! SQLite's write side: one connection, held for the life of the process, that every write
//! transaction takes in turn.
//!
//! Why not a pool of one: sqlx returns a pooled connection through a spawned task that pings
//! it first, so each transaction's end cost two more hand-offs to the connection's worker
//! thread before the next writer could begin, and those hand-offs, not SQL, were most of a
//! small ingest batch's time (`BENCHMARKS.md`). Why one connection at all: SQLite empties a
//! connection's page cache whenever another connection has written since its last
//! transaction, so writers spread over a pool read their index pages back again and again.

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use sqlx_core::sql_str::SqlSafeStr;
use sqlx_core::transaction::TransactionManager;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::StoreError;

type Manager = <sqlx::Sqlite as sqlx::Database>::TransactionManager;

/// The writer connection (None once closed), shared by every clone of the `Db`.
#[derive(Clone, Debug)]
pub struct Writer(Arc<Mutex<Option<SqliteConnection>>>);

impl Writer {
    pub async fn open(options: &SqliteConnectOptions) -> Result<Self, StoreError> {
        let conn = options.connect().await?;
        Ok(Self(Arc::new(Mutex::new(Some(conn)))))
    }

    /// Waits up to `wait` for the connection, then starts `BEGIN IMMEDIATE` on it.
    pub async fn begin(&self, wait: Duration) -> Result<WriteTx, StoreError> {
        let mut conn = tokio::time::timeout(wait, self.0.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Sqlx(sqlx::Error::PoolTimedOut))?;
        let Some(c) = conn.as_mut() else {
            return Err(StoreError::Sqlx(sqlx::Error::PoolClosed));
        };
        // A transaction whose begin or commit was cancelled half-way may still be open on
        // the worker: end it before starting ours.
        if Manager::get_transaction_depth(c) > 0 {
            Manager::rollback(c).await?;
        }
        Manager::begin(c, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
        Ok(WriteTx { conn, open: true })
    }

    /// Closes the connection once the transaction holding it (if any) has ended.
    pub async fn close(&self) {
        if let Some(conn) = self.0.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

/// A write transaction on the writer connection. Dropped without [`WriteTx::commit`], it is
/// rolled back: the rollback is queued on the connection's worker at once, before the next
/// transaction can take the connection.
pub struct WriteTx {
    conn: OwnedMutexGuard<Option<SqliteConnection>>,
    open: bool,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a write transaction holds an open connection")
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        Manager::commit(self.conn()).await?;
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open
            && let Some(c) = self.conn.as_mut()
        {
            Manager::start_rollback(c);
        }
    }
}
