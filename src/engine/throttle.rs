//! The per-person throttle: a storm on one service must not page someone hundreds of times.
//!
//! Each person gets at most [`MAX_DIRECT`] separate pages about one service's still
//! unacknowledged alerts within [`WINDOW_MS`]; further pages about that service go into one
//! *bundle* message, sent
//! [`BUNDLE_DELAY_MS`] after the first of them and listing every alert still open by then.
//! The count is per (person, service) on purpose: a new alert on another service is unrelated
//! to the storm and pages at once, however loud the storm is. Bundling delays, it never
//! drops: every throttled alert is in a bundle, and escalation to the next level runs as usual.

/// Separate pages per person and service per window.
pub const MAX_DIRECT: i64 = 3;
/// The window the count covers.
pub const WINDOW_MS: i64 = 10 * 60_000;
/// How long a bundle collects before it goes out.
pub const BUNDLE_DELAY_MS: i64 = 2 * 60_000;

/// How one page reaches its person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Its own message (or messages, one per channel).
    Direct,
    /// Into the waiting bundle with this row id.
    JoinBundle(i64),
    /// Into a new bundle sent at this instant.
    NewBundle { send_at: i64 },
}

/// Decides for a page at `now`, given how many direct pages the person had about the service
/// in the window, and the bundle waiting for them on this channel, if any.
pub fn route(direct_in_window: i64, waiting_bundle: Option<i64>, now: i64) -> Route {
    if direct_in_window < MAX_DIRECT {
        return Route::Direct;
    }
    match waiting_bundle {
        Some(id) => Route::JoinBundle(id),
        None => Route::NewBundle {
            send_at: now.saturating_add(BUNDLE_DELAY_MS),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_direct_pages_then_one_bundle_collects_the_rest() {
        assert_eq!(route(0, None, 0), Route::Direct);
        assert_eq!(route(2, Some(9), 0), Route::Direct);
        assert_eq!(
            route(3, None, 1_000),
            Route::NewBundle {
                send_at: 1_000 + BUNDLE_DELAY_MS
            }
        );
        assert_eq!(route(40, Some(9), 0), Route::JoinBundle(9));
    }
}
