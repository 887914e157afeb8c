//! What a postmortem command can refuse, told apart from our own faults, so the HTTP edge and
//! the CLI say it plainly: 404, 422 for a request that breaks a rule, 409 for one the
//! postmortem's state does not allow, 403 for someone who may not do it.

use crate::db::StoreError;
use crate::http::error::AppError;
use crate::incidents::IncidentError;

#[derive(Debug, thiserror::Error)]
pub enum PostmortemError {
    #[error("no such postmortem")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PostmortemError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(c) => Self::Conflict(c),
            e => Self::Store(e),
        }
    }
}

impl From<IncidentError> for PostmortemError {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::NotFound => Self::Invalid("no such incident".into()),
            IncidentError::Invalid(m) => Self::Invalid(m),
            IncidentError::Conflict(m) => Self::Conflict(m),
            IncidentError::Store(s) => Self::Store(s),
        }
    }
}

impl From<PostmortemError> for AppError {
    fn from(e: PostmortemError) -> Self {
        match e {
            PostmortemError::NotFound => AppError::NotFound,
            PostmortemError::Invalid(m) => AppError::invalid(m),
            PostmortemError::Conflict(m) => AppError::Conflict(m),
            PostmortemError::Forbidden(m) => AppError::Denied(m),
            PostmortemError::Store(s) => s.into(),
        }
    }
}

pub fn invalid(m: impl Into<String>) -> PostmortemError {
    PostmortemError::Invalid(m.into())
}

pub fn conflict(m: impl Into<String>) -> PostmortemError {
    PostmortemError::Conflict(m.into())
}
