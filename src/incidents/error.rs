//! What an incident command can refuse, told apart from our own faults so the HTTP edge, the
//! CLI and the chat command can each say it plainly.

use crate::db::StoreError;
use crate::http::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("no such incident")]
    NotFound,
    /// The request names something that does not exist or breaks a rule (422).
    #[error("{0}")]
    Invalid(String),
    /// The incident's state does not allow it (409).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for IncidentError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(c) => Self::Conflict(c),
            e => Self::Store(e),
        }
    }
}

impl From<IncidentError> for AppError {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::NotFound => AppError::NotFound,
            IncidentError::Invalid(m) => AppError::invalid(m),
            IncidentError::Conflict(m) => AppError::Conflict(m),
            IncidentError::Store(s) => s.into(),
        }
    }
}

pub fn invalid(m: impl Into<String>) -> IncidentError {
    IncidentError::Invalid(m.into())
}
