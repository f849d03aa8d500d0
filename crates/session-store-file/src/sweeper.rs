//! The background sweeper: a Tokio task making a bounded pass over the directory at each tick.
//!
//! It holds the store weakly: the store's last clone going ends it (at once for the sweeper the
//! builder starts, which the store aborts as it goes; at the next tick for
//! [`FileStore::spawn_cleanup`](crate::FileStore::spawn_cleanup)'s).

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::{Interval, MissedTickBehavior};

use crate::core::Core;

/// The shortest time between two passes.
const MIN_EVERY: Duration = Duration::from_millis(10);

/// A task aborted when this is dropped (with the store).
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the sweeper on the current runtime, its timer made inside the task.
///
/// Must be called inside a Tokio runtime.
pub(crate) fn start(core: &Arc<Core>, every: Duration) -> JoinHandle<()> {
    let weak = Arc::downgrade(core);
    tokio::spawn(async move { run(weak, ticks(every)).await })
}

/// Starts the sweeper on the current runtime, its timer made here: a runtime without its time
/// driver panics at this call rather than in the task.
pub(crate) fn start_now(core: &Arc<Core>, every: Duration) -> JoinHandle<()> {
    let (weak, ticks) = (Arc::downgrade(core), ticks(every));
    tokio::spawn(run(weak, ticks))
}

fn ticks(every: Duration) -> Interval {
    let mut ticks = tokio::time::interval(every.max(MIN_EVERY));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

/// A pass on the blocking pool at each tick after the first (which is immediate), one at a time,
/// until the store is gone.
async fn run(weak: Weak<Core>, mut ticks: Interval) {
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(core) = weak.upgrade() else { return };
        match tokio::task::spawn_blocking(move || core.sweep(core.sweep_batch)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "file store sweeper: a pass failed"),
            Err(error) => tracing::warn!(%error, "file store sweeper: a pass's task failed"),
        }
    }
}
