//! [`Shard`]: the sessions under one of the memory store's locks, in least-recently-used order,
//! with their estimated size and a sweep hand.
//!
//! The order is a doubly linked list threaded through a vector of nodes by index (no `unsafe`):
//! using a session moves it to the newest end, eviction takes the oldest, both in O(1).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::id::Key;
use crate::record::{Changes, Record, Timestamp};
use crate::subject::BoundSession;

/// What a session costs besides its value names and texts (see [`estimate`]): its key, index
/// entry, list node and record, and the first node of its value map.
pub(super) const ENTRY_OVERHEAD: usize = 768;
/// What each value costs besides its name and text: its two allocations and its share of the
/// value map's nodes.
pub(super) const VALUE_OVERHEAD: usize = 128;
/// How many sessions a create examines for expiry, wherever the sweep hand stands.
pub(super) const SWEEP_STEP: usize = 8;

/// No node: an end of the list, or a sweep hand about to start over at the newest.
const NIL: usize = usize::MAX;

/// The size a session counts for in the store's bound: its value names and JSON texts, plus
/// [`VALUE_OVERHEAD`] per value and [`ENTRY_OVERHEAD`]; a bound session also its binding's texts
/// and [`BINDING_OVERHEAD`] (the boxed binding, its strings' allocations, its subject list entry).
pub(super) fn estimate(record: &Record) -> usize {
    let binding = record.binding.as_deref().map_or(0, |b| {
        let texts = [b.user_agent.as_deref(), b.address.as_deref()];
        let texts = texts.iter().flatten().map(|t| t.len()).sum::<usize>();
        BINDING_OVERHEAD + b.subject.len() + b.handle.as_str().len() + texts
    });
    record
        .data
        .iter()
        .fold(ENTRY_OVERHEAD + binding, |sum, (name, value)| {
            sum.saturating_add(name.len() + value.as_json().len() + VALUE_OVERHEAD)
        })
}

/// What a binding costs besides its texts: the box (about 110 bytes), four string allocations,
/// and its key in the shard's subject list.
pub(super) const BINDING_OVERHEAD: usize = 192;

/// The most one shard holds.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    /// Estimated bytes ([`estimate`] summed).
    pub(super) bytes: usize,
    /// Sessions.
    pub(super) sessions: usize,
}

/// What a write did: whether it wrote, and how many live sessions it evicted to make room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Wrote {
    pub(super) done: bool,
    pub(super) evicted: usize,
}

impl Wrote {
    const NOTHING: Wrote = Wrote {
        done: false,
        evicted: 0,
    };
}

struct Node {
    key: Key,
    record: Record,
    /// [`estimate`] of `record`.
    bytes: usize,
    newer: usize,
    older: usize,
}

/// Hashes a [`Key`] by taking 8 of its bytes: a key is a SHA-256 digest, uniform already, so
/// hashing it again (SipHash, about 170 instructions per lookup) buys nothing.
///
/// Not a way in for collisions: the index holds only keys of ids the engine generated at random,
/// so a client choosing the ids it sends chooses where a lookup probes, never what it finds
/// there. Its last bytes, since the first byte chose the shard.
#[derive(Default)]
pub(super) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut tail = [0u8; 8];
        let take = bytes.len().min(8);
        tail[..take].copy_from_slice(&bytes[bytes.len() - take..]);
        self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(tail);
    }
}

/// One shard's sessions: an index by key into a list of nodes, newest to oldest.
pub(super) struct Shard {
    index: HashMap<Key, usize, BuildHasherDefault<DigestHasher>>,
    /// The keys of the bound sessions held, by [`subject_key`](crate::subject::subject_key):
    /// kept with the records, so an entry never outlives its session.
    subjects: HashMap<Key, Vec<Key>>,
    nodes: Vec<Node>,
    /// Nodes no longer in the list, for reuse.
    vacant: Vec<usize>,
    newest: usize,
    oldest: usize,
    /// The next node the sweep examines; it walks from the newest to the oldest, then starts over.
    hand: usize,
    bytes: usize,
}

impl Shard {
    pub(super) fn new() -> Self {
        Shard {
            index: HashMap::default(),
            subjects: HashMap::new(),
            nodes: Vec::new(),
            vacant: Vec::new(),
            newest: NIL,
            oldest: NIL,
            hand: NIL,
            bytes: 0,
        }
    }

    /// How many sessions are held, expired ones not yet swept included.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The estimated size of the sessions held.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The live record under `key`, which becomes the most recently used.
    #[inline]
    pub(super) fn load(&mut self, key: &Key, now: Timestamp) -> Option<Record> {
        let at = self.live(key, now)?;
        self.make_newest(at);
        Some(self.nodes[at].record.clone())
    }

    /// Stores `record` under `key` unless a live record is there, making room as `limits` say.
    pub(super) fn create(
        &mut self,
        key: &Key,
        record: &Record,
        now: Timestamp,
        limits: Limits,
    ) -> Wrote {
        if self.live(key, now).is_some() {
            return Wrote::NOTHING;
        }
        self.sweep_step(now);
        let at = self.insert(*key, kept(record));
        Wrote {
            done: true,
            evicted: self.evict(limits, at, now),
        }
    }

    /// Replaces the live record under `key`.
    pub(super) fn save(
        &mut self,
        key: &Key,
        record: &Record,
        now: Timestamp,
        limits: Limits,
    ) -> Wrote {
        let Some(at) = self.live(key, now) else {
            return Wrote::NOTHING;
        };
        if self.nodes[at].record.binding != record.binding {
            self.unlist(at);
            self.nodes[at].record = kept(record);
            self.list(at);
        } else {
            self.nodes[at].record = kept(record);
        }
        self.written(at, limits, now)
    }

    /// Applies `changes` to the live record under `key`.
    #[inline]
    pub(super) fn apply(
        &mut self,
        key: &Key,
        changes: &Changes,
        now: Timestamp,
        limits: Limits,
    ) -> Wrote {
        let Some(at) = self.live(key, now) else {
            return Wrote::NOTHING;
        };
        changes.apply_to(&mut self.nodes[at].record);
        if changes.is_touch() {
            // No value changed, so neither did the size.
            self.make_newest(at);
            return Wrote {
                done: true,
                evicted: 0,
            };
        }
        self.written(at, limits, now)
    }

    /// Removes the record under `key`; whether it was live.
    pub(super) fn delete(&mut self, key: &Key, now: Timestamp) -> bool {
        let Some(&at) = self.index.get(key) else {
            return false;
        };
        let live = !self.nodes[at].record.is_expired(now);
        self.remove(at);
        live
    }

    /// Removes every expired record; how many.
    pub(super) fn sweep(&mut self, now: Timestamp) -> usize {
        let (mut at, mut removed) = (self.oldest, 0);
        while at != NIL {
            let newer = self.nodes[at].newer;
            if self.nodes[at].record.is_expired(now) {
                self.remove(at);
                removed += 1;
            }
            at = newer;
        }
        removed
    }

    /// Examines the next [`SWEEP_STEP`] sessions at the hand, removing the expired ones.
    ///
    /// The hand walks from the newest to the oldest. A session used meanwhile moves behind it (to
    /// the newest end) and a new one starts there, so each pass ends after at most as many steps
    /// as there were sessions when it began, and every session unused for a whole pass is
    /// examined in it: an expired one is gone within two passes, whatever lives beside it.
    fn sweep_step(&mut self, now: Timestamp) {
        for _ in 0..SWEEP_STEP {
            if self.hand == NIL {
                self.hand = self.newest;
            }
            let at = self.hand;
            if at == NIL {
                return;
            }
            self.hand = self.nodes[at].older;
            if self.nodes[at].record.is_expired(now) {
                self.remove(at);
            }
        }
    }

    /// The node of the live record under `key`; an expired one is removed on the way.
    #[inline]
    fn live(&mut self, key: &Key, now: Timestamp) -> Option<usize> {
        let at = *self.index.get(key)?;
        if self.nodes[at].record.is_expired(now) {
            self.remove(at);
            return None;
        }
        Some(at)
    }

    /// After the record at `at` was replaced: its new size, its new place, and room made.
    #[inline]
    fn written(&mut self, at: usize, limits: Limits, now: Timestamp) -> Wrote {
        let node = &mut self.nodes[at];
        let bytes = estimate(&node.record);
        self.bytes = self.bytes - node.bytes + bytes;
        node.bytes = bytes;
        self.make_newest(at);
        Wrote {
            done: true,
            evicted: self.evict(limits, at, now),
        }
    }

    /// Removes the least recently used sessions, never `keep`, until the shard is within
    /// `limits`; how many of them were live.
    fn evict(&mut self, limits: Limits, keep: usize, now: Timestamp) -> usize {
        let mut evicted = 0;
        while (self.bytes > limits.bytes || self.index.len() > limits.sessions)
            && self.oldest != keep
            && self.oldest != NIL
        {
            let oldest = self.oldest;
            if !self.nodes[oldest].record.is_expired(now) {
                evicted += 1;
            }
            self.remove(oldest);
        }
        evicted
    }

    /// Adds a node at the newest end; its index.
    fn insert(&mut self, key: Key, record: Record) -> usize {
        let bytes = estimate(&record);
        let node = Node {
            key,
            record,
            bytes,
            newer: NIL,
            older: self.newest,
        };
        let at = match self.vacant.pop() {
            Some(at) => {
                self.nodes[at] = node;
                at
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.link_newest(at);
        self.index.insert(key, at);
        self.list(at);
        self.bytes += bytes;
        at
    }

    /// The live bound sessions of the subject under `subject` (a
    /// [`subject_key`](crate::subject::subject_key)); expired ones are removed on the way.
    pub(super) fn bound(&mut self, subject: &Key, now: Timestamp) -> Vec<BoundSession> {
        let keys = self.subjects.get(subject).cloned().unwrap_or_default();
        keys.iter()
            .filter_map(|key| {
                let at = self.live(key, now)?;
                BoundSession::of(*key, &self.nodes[at].record)
            })
            .collect()
    }

    /// Adds the node at `at` to its subject's list, if it is bound.
    fn list(&mut self, at: usize) {
        let node = &self.nodes[at];
        if let Some(binding) = &node.record.binding {
            let keys = self.subjects.entry(binding.subject_key()).or_default();
            keys.push(node.key);
        }
    }

    /// Takes the node at `at` out of its subject's list, if it is bound.
    fn unlist(&mut self, at: usize) {
        let node = &self.nodes[at];
        let Some(binding) = &node.record.binding else {
            return;
        };
        let subject = binding.subject_key();
        if let Some(keys) = self.subjects.get_mut(&subject) {
            keys.retain(|key| *key != node.key);
            if keys.is_empty() {
                self.subjects.remove(&subject);
            }
        }
    }

    /// How many subjects have bound sessions listed (for tests).
    #[cfg(test)]
    pub(super) fn subjects_listed(&self) -> usize {
        self.subjects.len()
    }

    /// Takes the node at `at` out of the list and the index, dropping its record.
    fn remove(&mut self, at: usize) {
        self.unlist(at);
        self.unlink(at);
        let node = &mut self.nodes[at];
        self.index.remove(&node.key);
        self.bytes -= node.bytes;
        node.bytes = 0;
        node.record = Record::new(Timestamp::default(), Timestamp::default());
        self.vacant.push(at);
    }

    /// The keys from the newest to the oldest, after checking every link, the index and the
    /// size (for tests).
    #[cfg(test)]
    pub(super) fn order(&self) -> Vec<Key> {
        let (mut keys, mut at, mut newer, mut bytes) = (Vec::new(), self.newest, NIL, 0);
        while at != NIL {
            let node = &self.nodes[at];
            assert_eq!(node.newer, newer, "a broken link");
            assert_eq!(
                self.index.get(&node.key),
                Some(&at),
                "index and list disagree"
            );
            assert_eq!(node.bytes, estimate(&node.record), "a stale size");
            keys.push(node.key);
            bytes += node.bytes;
            (newer, at) = (at, node.older);
        }
        assert_eq!(self.oldest, newer, "the oldest is not the list's end");
        assert_eq!(
            keys.len(),
            self.index.len(),
            "index entries outside the list"
        );
        assert_eq!(
            keys.len() + self.vacant.len(),
            self.nodes.len(),
            "lost nodes"
        );
        assert_eq!(bytes, self.bytes, "the size is off");
        keys
    }

    #[inline]
    fn make_newest(&mut self, at: usize) {
        if self.newest != at {
            self.unlink(at);
            self.nodes[at].older = self.newest;
            self.link_newest(at);
        }
    }

    /// Makes `at`, whose `older` is already the current newest, the newest.
    fn link_newest(&mut self, at: usize) {
        self.nodes[at].newer = NIL;
        match self.newest {
            NIL => self.oldest = at,
            newest => self.nodes[newest].newer = at,
        }
        self.newest = at;
    }

    /// Joins the neighbours of `at`; a sweep hand on it moves on to the older one first.
    fn unlink(&mut self, at: usize) {
        let Node { newer, older, .. } = self.nodes[at];
        if self.hand == at {
            self.hand = older;
        }
        match newer {
            NIL => self.newest = older,
            newer => self.nodes[newer].older = older,
        }
        match older {
            NIL => self.oldest = newer,
            older => self.nodes[older].newer = newer,
        }
    }
}

/// The copy of `record` a shard keeps: its values own their texts (see
/// [`Record::unshare_values`]), so that the bytes the shard counts are the bytes it holds.
fn kept(record: &Record) -> Record {
    let mut kept = record.clone();
    kept.unshare_values();
    kept
}
