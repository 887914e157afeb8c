//! The store layer's error: what a caller can act on (not found, conflict) versus our faults.

/// Errors from any `store.rs`. Unique and foreign-key violations become `Conflict` so the HTTP
/// edge can answer 409 instead of 500; matching on `kind()` keeps this portable (only the
/// PostgreSQL driver reports constraint names).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Sqlx(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(d) => match d.kind() {
                ErrorKind::UniqueViolation => Self::Conflict("already exists".into()),
                ErrorKind::ForeignKeyViolation => {
                    Self::Conflict("refers to or is referred to by another record".into())
                }
                _ => Self::Sqlx(e),
            },
            _ => Self::Sqlx(e),
        }
    }
}
