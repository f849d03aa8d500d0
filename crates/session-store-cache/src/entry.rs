//! One moka entry of [`MokaCache`](crate::MokaCache).
//!
//! A session changed in place, the deadline moka drops it at, and its place in the index of
//! sessions per subject.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use moka::Expiry;
use session_core::store::{BoundSession, Clock, Key, Record, Timestamp, subject_key};

use crate::cache::Change;
use crate::index::Index;

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
    /// Where the entry is listed, if its record is bound (`None` for an unbound record, which
    /// then costs nothing more than before the index existed).
    listed: Option<Box<Listed>>,
}

/// A bound entry's place in the [`Index`].
struct Listed {
    index: Arc<Index>,
    /// The key the session is stored under.
    key: Key,
    /// The binding's subject and its digest, the index's key.
    subject: Box<str>,
    digest: Key,
}

impl Listed {
    fn remove(&self, entry: *const Entry) {
        self.index.remove(&self.digest, &self.key, entry);
    }
}

impl Entry {
    /// A new entry for `record`, stored under `key`; if the record is bound, it is listed in
    /// `index` before this returns.
    pub(crate) fn new(
        key: Key,
        mut record: Record,
        slack: Duration,
        index: &Arc<Index>,
    ) -> Arc<Self> {
        // Values of its own, so that its weight is what it holds.
        record.unshare_values();
        let listed = record
            .binding
            .as_deref()
            .map(|binding| listing(index, key, &binding.subject));
        let digest = listed.as_ref().map(|listed| listed.digest);
        let entry = Arc::new(Entry {
            deadline: AtomicU64::new(deadline_for(&record, slack)),
            state: Mutex::new(State {
                record,
                ended: false,
                listed,
            }),
            slack,
        });
        // No lock taken for an unbound record.
        if let Some(digest) = digest {
            index.add(digest, key, Arc::downgrade(&entry));
        }
        entry
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

    /// Ends the entry (removed or replaced), taking it out of the index; returns its record if
    /// it had not ended before.
    pub(crate) fn end(&self) -> Option<Record> {
        let mut state = self.state();
        if state.ended {
            return None;
        }
        state.ended = true;
        if let Some(listed) = state.listed.take() {
            listed.remove(self);
        }
        Some(std::mem::replace(
            &mut state.record,
            Record::new(Timestamp::from_millis(0), Timestamp::from_millis(0)),
        ))
    }

    /// Runs `change` on the record stored under `key` if it is live at `now`.
    ///
    /// `None` if it is not, otherwise whether its expiry has now passed the deadline moka knows.
    /// A change of the binding (a `save` of a record bound otherwise; the engine never does it)
    /// moves the entry in `index` before the entry's lock is released.
    pub(crate) fn change(
        self: &Arc<Self>,
        key: Key,
        now: Timestamp,
        change: Change<'_>,
        index: &Arc<Index>,
    ) -> Option<bool> {
        let mut state = self.state();
        if state.ended || state.record.is_expired(now) {
            return None;
        }
        change(&mut state.record);
        let state = &mut *state;
        let rebound = match (&state.listed, &state.record.binding) {
            (None, None) => false,
            (Some(listed), Some(binding)) => *listed.subject != *binding.subject,
            _ => true,
        };
        if rebound {
            self.relist(key, state, index);
        }
        Some(state.record.expires.as_millis() > self.deadline.load(Ordering::Acquire))
    }

    /// Lists the entry under its record's binding now, taking it from where it was listed.
    #[cold]
    fn relist(self: &Arc<Self>, key: Key, state: &mut State, index: &Arc<Index>) {
        if let Some(old) = state.listed.take() {
            old.remove(Arc::as_ptr(self));
        }
        if let Some(binding) = state.record.binding.as_deref() {
            let listed = listing(index, key, &binding.subject);
            index.add(listed.digest, key, Arc::downgrade(self));
            state.listed = Some(listed);
        }
    }

    /// The entry as [`Store::list_subject`](session_core::store::Store::list_subject) lists it:
    /// `None` unless it holds a record bound to `subject` and live at `now`.
    pub(crate) fn listing(&self, key: Key, subject: &str, now: Timestamp) -> Option<BoundSession> {
        let state = self.state();
        if state.ended || state.record.is_expired(now) {
            return None;
        }
        let bound = BoundSession::of(key, &state.record)?;
        (bound.binding.subject == subject).then_some(bound)
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

impl Drop for Entry {
    /// An entry moka dropped (evicted, or dropped past its deadline) leaves the index with it.
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(listed) = state.listed.take() {
            listed.remove(self);
        }
    }
}

/// The listing of an entry stored under `key` and bound to `subject`.
fn listing(index: &Arc<Index>, key: Key, subject: &str) -> Box<Listed> {
    Box::new(Listed {
        index: index.clone(),
        key,
        subject: subject.into(),
        digest: subject_key(subject),
    })
}

fn deadline_for(record: &Record, slack: Duration) -> u64 {
    record.expires.saturating_add(slack).as_millis()
}

/// moka's per-entry expiry: each entry lives until its deadline, by the store's clock, and at
/// most `max_age` after it was handed to moka.
pub(crate) struct UntilDeadline {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_age: Option<Duration>,
}

impl UntilDeadline {
    fn remaining(&self, entry: &Entry) -> Option<Duration> {
        let deadline = Timestamp::from_millis(entry.deadline.load(Ordering::Acquire));
        let remaining = deadline.saturating_since(self.clock.now());
        Some(self.max_age.map_or(remaining, |age| remaining.min(age)))
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
