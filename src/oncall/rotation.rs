//! Pure schedule resolution: who is on call at an instant, and the shifts over a range.
//! No clock reads: every function takes the instants it needs.

use super::{Override, Schedule, Shift};

/// Why a schedule cannot be resolved (validation rejects these before they are stored).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    #[error("layer {layer:?}: {message}")]
    Layer { layer: String, message: String },
}

/// The person on call on `schedule` at `at` (ms since the epoch), overrides included.
pub fn on_call_at(
    schedule: &Schedule,
    overrides: &[Override],
    at: i64,
) -> Result<Option<String>, ResolveError> {
    let _ = (schedule, overrides, at);
    Err(ResolveError::TimeZone("not implemented yet".into()))
}

/// The contiguous, ordered shifts covering [from, to), overrides included; adjacent ranges
/// with the same person are merged, and gaps are shifts with `person: None`.
pub fn shifts(
    schedule: &Schedule,
    overrides: &[Override],
    from: i64,
    to: i64,
) -> Result<Vec<Shift>, ResolveError> {
    let _ = (schedule, overrides, from, to);
    Err(ResolveError::TimeZone("not implemented yet".into()))
}
