//! One writer per session at a time inside the process, waiting without a thread.
//!
//! Each operation that may wait for a session file's lock takes its session's turn here first,
//! asynchronously, and only then goes to the blocking pool: however many requests write one
//! session at once, at most one blocking thread waits on that file's `flock` (for a holder in
//! another process), and the rest wait as futures. A caller's time limit (the engine's
//! `store_timeout`) cancels such a wait cleanly; the blocking pool stays free for other sessions.
//!
//! The table holds an entry only while a session has a holder or waiters: it is removed when the
//! last of them leaves, so it never grows beyond the sessions being written at that moment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use session_core::store::Key;
use tokio::sync::OwnedMutexGuard;

/// Shards of the table, so that writers of different sessions rarely contend on its mutex.
const SHARDS: usize = 16;

/// The sessions being written, each with its async lock and how many hold or want it.
#[derive(Debug, Default)]
pub(crate) struct KeyLocks {
    shards: [Mutex<HashMap<Key, Slot>>; SHARDS],
}

#[derive(Debug)]
struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// The holder and the waiters, each with a [`Ticket`].
    users: usize,
}

/// A session's turn: held until dropped (moved into the blocking job, it lasts as long as the
/// job, even when the request that started it has gone).
#[derive(Debug)]
pub(crate) struct Turn {
    // Declared first, so released before the ticket gives up the entry.
    _guard: OwnedMutexGuard<()>,
    _ticket: Ticket,
}

/// A registration in a session's entry, undone on drop (by a waiter that was cancelled, too).
#[derive(Debug)]
struct Ticket {
    locks: Arc<KeyLocks>,
    key: Key,
}

impl KeyLocks {
    /// Waits for `key`'s turn.
    ///
    /// Cancel-safe: dropping the future before it is ready leaves no trace.
    pub(crate) async fn turn(self: &Arc<Self>, key: Key) -> Turn {
        let (ticket, lock) = {
            let mut shard = self.shard(&key);
            let slot = shard.entry(key).or_insert_with(|| Slot {
                lock: Arc::default(),
                users: 0,
            });
            slot.users += 1;
            let ticket = Ticket {
                locks: Arc::clone(self),
                key,
            };
            (ticket, Arc::clone(&slot.lock))
        };
        Turn {
            _guard: lock.lock_owned().await,
            _ticket: ticket,
        }
    }

    /// The number of sessions with a holder or waiters.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        (0..SHARDS)
            .map(|i| self.shards[i].lock().map_or(0, |m| m.len()))
            .sum()
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, HashMap<Key, Slot>> {
        // The key is a SHA-256 digest: any byte of it is uniform.
        let index = usize::from(key.digest()[0]) % SHARDS;
        // Nothing panics while a shard is locked; were it to, the map is still consistent.
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut shard = self.locks.shard(&self.key);
        if let Some(slot) = shard.get_mut(&self.key) {
            slot.users -= 1;
            if slot.users == 0 {
                shard.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_one_at_a_time_and_entries_go_with_their_last_user() {
        let locks = Arc::new(KeyLocks::default());
        let key = Key::from_digest([7; 32]);
        let first = locks.turn(key).await;
        assert_eq!(locks.len(), 1);
        // A second waiter waits, and leaves nothing behind when it gives up.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), locks.turn(key));
        assert!(waited.await.is_err(), "two turns at once");
        assert_eq!(locks.len(), 1);
        let other = locks.turn(Key::from_digest([8; 32])).await;
        assert_eq!(locks.len(), 2);
        drop((first, other));
        assert_eq!(locks.len(), 0);
        drop(locks.turn(key).await);
        assert_eq!(locks.len(), 0);
    }
}
