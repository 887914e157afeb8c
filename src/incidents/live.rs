//! Live incident pages: every committed change to an incident is announced here, in process,
//! and each open page (a server-sent event stream) hears of it and fetches what is new. The
//! database stays the truth: a page that misses a signal (another instance wrote the change,
//! the channel lagged) catches up from the timeline ids it has, on the next signal or its
//! periodic check.

use tokio::sync::{broadcast, watch};

/// Signals "incident N changed" to every listener of this process, and "the server is
/// stopping" so open streams end and a graceful shutdown does not wait on them forever.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<i64>,
    stopping: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        // A slow page that falls this far behind gets a Lagged error and simply re-reads.
        let (tx, _) = broadcast::channel(1024);
        let (stopping, _) = watch::channel(false);
        Self { tx, stopping }
    }
}

impl Live {
    /// Announces a change to incident `id` (after its transaction committed).
    pub fn changed(&self, id: i64) {
        // No listener is not an error: nobody has the page open.
        let _ = self.tx.send(id);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.tx.subscribe()
    }

    /// Ends every open stream (the server is shutting down; browsers reconnect elsewhere).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Becomes true when the server is stopping.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}
