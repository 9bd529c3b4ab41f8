//! The user's interruption of a run (SIGINT, SIGTERM, SIGHUP), shared by the
//! runner, the HTTP client (a 429's back-off stops waiting) and the cleanups.

use std::sync::Arc;
use std::time::Duration;

/// How long pending cleanups may take once a run is interrupted.
pub const CLEANUP_BUDGET: Duration = Duration::from_secs(30);

/// Set when the user interrupts a run (SIGINT, SIGTERM, SIGHUP): no new step
/// starts, a request under way finishes (within its timeout, and without
/// waiting out a 429 again), so that what it created can be cleaned up, and
/// the pending cleanups run within [`CLEANUP_BUDGET`].
#[derive(Debug, Clone)]
pub struct Interrupt {
    at: Arc<std::sync::OnceLock<std::time::Instant>>,
    /// Wakes whoever waits for the interruption (a 429's back-off).
    fired: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Interrupt {
    fn default() -> Interrupt {
        Interrupt {
            at: Default::default(),
            fired: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

impl Interrupt {
    pub fn trigger(&self) {
        let _ = self.at.set(std::time::Instant::now());
        self.fired.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        self.at.get().is_some()
    }

    /// Completes once triggered (at once if it already was).
    pub async fn triggered(&self) {
        let mut fired = self.fired.subscribe();
        let _ = fired.wait_for(|fired| *fired).await;
    }

    /// The time left for cleanups: unbounded (None) unless interrupted.
    pub(crate) fn cleanup_time_left(&self) -> Option<Duration> {
        self.at
            .get()
            .map(|at| CLEANUP_BUDGET.saturating_sub(at.elapsed()))
    }
}
