//! The sweepers: bounded passes over the directory, one every so often.
//!
//! The one the builder starts is a thread of its own, which needs no runtime (and so no runtime
//! timer, whose absence would panic a task); [`FileStore::spawn_cleanup`]'s is a Tokio task.
//! Both hold the store weakly: the store's last clone going ends them (at once for the thread,
//! which the store wakes as it goes; at the next tick for the task).
//!
//! [`FileStore::spawn_cleanup`]: crate::FileStore::spawn_cleanup

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle as ThreadHandle;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use crate::core::Core;

/// The shortest time between two passes.
const MIN_EVERY: Duration = Duration::from_millis(10);

/// The sweeper thread the builder started: dropped with the store, it wakes the thread, which
/// then ends.
#[derive(Debug)]
pub(crate) struct SweeperThread {
    _stop: mpsc::Sender<()>,
}

/// Starts the sweeper thread: a pass every `every`, until the store (or the returned
/// [`SweeperThread`]) is gone.
pub(crate) fn start_thread(
    core: &Arc<Core>,
    every: Duration,
) -> std::io::Result<(SweeperThread, ThreadHandle<()>)> {
    let weak = Arc::downgrade(core);
    let (stop, stopped) = mpsc::channel::<()>();
    let every = every.max(MIN_EVERY);
    let thread = std::thread::Builder::new()
        .name("file-sweeper".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let Some(core) = weak.upgrade() else { return };
                if let Err(error) = core.sweep(core.sweep_batch) {
                    tracing::warn!(%error, "file store sweeper: a pass failed");
                }
            }
        })?;
    Ok((SweeperThread { _stop: stop }, thread))
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
