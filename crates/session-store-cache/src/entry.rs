//! One moka entry of [`MokaCache`](crate::MokaCache).
//!
//! A session changed in place, and the deadline moka drops it at.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use moka::Expiry;
use session_core::store::{Clock, Key, Record, Timestamp};

use crate::cache::Change;

/// A session in the cache.
pub(crate) struct Entry {
    state: Mutex<State>,
    /// When moka may drop the entry (milliseconds since the epoch, by the store's clock).
    ///
    /// The record's expiry plus `slack`, moved (one moka insert) only when a sliding expiry passes
    /// it, so that most writes cost no moka insert.
    deadline: AtomicU64,
    slack: Duration,
}

struct State {
    record: Record,
    /// Removed or replaced: no change may land any more.
    ended: bool,
}

impl Entry {
    pub(crate) fn new(record: Record, slack: Duration) -> Self {
        Entry {
            deadline: AtomicU64::new(deadline_for(&record, slack)),
            state: Mutex::new(State {
                record,
                ended: false,
            }),
            slack,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The lock guards plain data and no code panics while holding it; recover regardless.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of the record, unless the entry has ended.
    pub(crate) fn record(&self) -> Option<Record> {
        let state = self.state();
        (!state.ended).then(|| state.record.clone())
    }

    /// Whether the entry holds a record that is live at `now`.
    pub(crate) fn is_live(&self, now: Timestamp) -> bool {
        let state = self.state();
        !state.ended && !state.record.is_expired(now)
    }

    /// Ends the entry (removed or replaced); returns its record if it had not ended before.
    pub(crate) fn end(&self) -> Option<Record> {
        let mut state = self.state();
        if state.ended {
            return None;
        }
        state.ended = true;
        Some(std::mem::replace(
            &mut state.record,
            Record::new(Timestamp::from_millis(0), Timestamp::from_millis(0)),
        ))
    }

    /// Runs `change` on the record if it is live at `now`.
    ///
    /// `None` if it is not, otherwise whether its expiry has now passed the deadline moka knows.
    pub(crate) fn change(&self, now: Timestamp, change: Change<'_>) -> Option<bool> {
        let mut state = self.state();
        if state.ended || state.record.is_expired(now) {
            return None;
        }
        change(&mut state.record);
        Some(state.record.expires.as_millis() > self.deadline.load(Ordering::Acquire))
    }

    /// Moves the deadline to the record's expiry plus the slack; `false` if the entry ended.
    pub(crate) fn refresh_deadline(&self) -> bool {
        let state = self.state();
        if state.ended {
            return false;
        }
        self.deadline
            .store(deadline_for(&state.record, self.slack), Ordering::Release);
        true
    }

    /// The entry's weight for a byte bound: its keys' and values' lengths plus 128.
    pub(crate) fn weight(&self) -> u32 {
        let state = self.state();
        let data: usize = state
            .record
            .data
            .iter()
            .map(|(key, value)| key.len() + value.as_json().len())
            .sum();
        u32::try_from(data.saturating_add(128)).unwrap_or(u32::MAX)
    }
}

fn deadline_for(record: &Record, slack: Duration) -> u64 {
    record.expires.saturating_add(slack).as_millis()
}

/// moka's per-entry expiry: each entry lives until its deadline, by the store's clock.
pub(crate) struct UntilDeadline(pub(crate) Arc<dyn Clock>);

impl UntilDeadline {
    fn remaining(&self, entry: &Entry) -> Option<Duration> {
        let deadline = Timestamp::from_millis(entry.deadline.load(Ordering::Acquire));
        Some(deadline.saturating_since(self.0.now()))
    }
}

impl Expiry<Key, Arc<Entry>> for UntilDeadline {
    fn expire_after_create(&self, _: &Key, entry: &Arc<Entry>, _: Instant) -> Option<Duration> {
        self.remaining(entry)
    }

    fn expire_after_update(
        &self,
        _: &Key,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(entry)
    }
}
