//! Requests a `"hold": true` fault rule keeps waiting until a test lets
//! them go (`POST /__emulator/faults/release`), so that a test can act
//! while a call is known to be in flight at "iProov" instead of hoping a
//! delay outlasts what it does meanwhile.
//!
//! A hold is bounded: it ends on release, when the rules are cleared or the
//! emulator reset, or after its rule's `hold_ms` (at most [`MAX_HOLD_MS`],
//! 60 s), whichever comes first; a forgotten hold never hangs a client.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// The longest a request is held (and the default `hold_ms`).
pub const MAX_HOLD_MS: u64 = 60_000;

/// The requests being held and the signal that releases them.
#[derive(Debug)]
pub struct Holds {
    /// Bumped by each release; every hold waits for a change.
    release: watch::Sender<u64>,
    /// Requests waiting now.
    held: AtomicUsize,
}

impl Default for Holds {
    fn default() -> Self {
        Self {
            release: watch::Sender::new(0),
            held: AtomicUsize::new(0),
        }
    }
}

/// Counts a waiting request for as long as it waits, however the wait ends
/// (a client that gives up drops the request's future).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Holds {
    /// Waits until the next release, or `hold_ms` (capped at
    /// [`MAX_HOLD_MS`]). A request counts in [`Holds::held`] from before it
    /// can miss a release: a test that saw it held and then releases
    /// always lets it go.
    pub async fn hold(&self, hold_ms: u64) {
        let mut release = self.release.subscribe();
        self.held.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.held);
        let limit = Duration::from_millis(hold_ms.min(MAX_HOLD_MS));
        // Released, or the limit: either way the request goes on.
        let _ = tokio::time::timeout(limit, release.changed()).await;
    }

    /// Lets every held request go; returns how many were held.
    pub fn release(&self) -> usize {
        let held = self.held();
        self.release.send_modify(|generation| *generation += 1);
        held
    }

    /// Requests held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_release_lets_every_held_request_go() {
        let holds = Arc::new(Holds::default());
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let holds = holds.clone();
                tokio::spawn(async move { holds.hold(MAX_HOLD_MS).await })
            })
            .collect();
        while holds.held() < 3 {
            tokio::task::yield_now().await;
        }
        assert!(tasks.iter().all(|t| !t.is_finished()));
        assert_eq!(holds.release(), 3);
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("released")
                .unwrap();
        }
        assert_eq!(holds.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_ends_by_itself_at_its_limit_and_never_after_sixty_seconds() {
        let holds = Holds::default();
        let start = tokio::time::Instant::now();
        holds.hold(250).await;
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        holds.hold(u64::MAX).await;
        assert_eq!(start.elapsed(), Duration::from_millis(250 + MAX_HOLD_MS));
        assert_eq!(holds.held(), 0);
    }
}
