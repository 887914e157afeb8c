//! Live incident pages: every committed change to an incident is announced here, in process,
//! and each open page (a server-sent event stream) hears of it and fetches what is new. The
//! database stays the truth: a page that misses a signal (another instance wrote the change,
//! the channel lagged) catches up from the timeline ids it has, on the next signal or its
//! periodic check.

use tokio::sync::broadcast;

/// Signals "incident N changed" to every listener of this process.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<i64>,
}

impl Default for Live {
    fn default() -> Self {
        // A slow page that falls this far behind gets a Lagged error and simply re-reads.
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
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
}
