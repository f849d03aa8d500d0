//! [`Soak`]: what the client tasks share, a task's loop, and requests checked against the model.

use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use http::StatusCode;

use super::model::{Expect, Shared, Slot};
use super::{SHARED_SESSIONS, SLOTS_PER_CLIENT};
use crate::Reply;
use crate::process::DemoProcess;

/// Counters shared by the client tasks.
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub(super) requests: AtomicU64,
    pub(super) writes: AtomicU64,
    pub(super) logins: AtomicU64,
    pub(super) logouts: AtomicU64,
    /// Bytes of values in the sessions logged out (what a leak of them would keep).
    pub(super) dropped: AtomicU64,
    pub(super) missing: AtomicU64,
    pub(super) phantom: AtomicU64,
    pub(super) errors: AtomicU64,
    pub(super) server_errors: AtomicU64,
    pub(super) max_concurrent: AtomicUsize,
}

/// What the client tasks share.
#[derive(Debug)]
pub(super) struct Soak {
    pub(super) server: DemoProcess,
    pub(super) client: reqwest::Client,
    pub(super) stats: Stats,
    pub(super) shared: Vec<Shared>,
    pub(super) abandon: bool,
    /// The first anomalies, for the failure message.
    pub(super) notes: Mutex<Vec<String>>,
}

impl Soak {
    /// One client task until `deadline`, then a read back of its sessions; returns how many of
    /// its sessions are alive.
    pub(super) async fn client_task(&self, task: usize, deadline: Instant) -> usize {
        let mut rng = Rng::new();
        let mut slots: Vec<Slot> = (0..SLOTS_PER_CLIENT).map(|_| Slot::default()).collect();
        let mut seq = 0u64;
        while Instant::now() < deadline {
            seq += 1;
            if rng.below(100) < 35 {
                let shared = &self.shared[rng.below(SHARED_SESSIONS)];
                self.shared_op(shared, task, seq, &mut rng).await;
            } else {
                let slot = &mut slots[rng.below(SLOTS_PER_CLIENT)];
                self.slot_op(slot, task, seq, &mut rng).await;
            }
        }
        for slot in &slots {
            self.verify_slot(slot).await;
        }
        slots.iter().filter(|slot| slot.id.is_some()).count()
    }

    /// `/get/KEY` with `id`, compared with what the model expects.
    pub(super) async fn check(&self, id: Option<&str>, key: &str, expect: Expect<'_>) {
        let reply = self.get(&format!("/get/{key}"), id).await;
        match (expect, reply.status) {
            (Expect::Value(value), StatusCode::OK) if reply.body == value => {}
            (Expect::Value(value), StatusCode::OK | StatusCode::NOT_FOUND) => self.lost(
                1,
                format!(
                    "{key}: expected {}, got {} {}",
                    short(value),
                    reply.status,
                    short(&reply.body)
                ),
            ),
            (Expect::Nothing, StatusCode::NOT_FOUND) => {}
            (Expect::Nothing, StatusCode::OK) => {
                self.stats.phantom.fetch_add(1, Ordering::Relaxed);
                self.note(format!(
                    "{key}: expected nothing, got {}",
                    short(&reply.body)
                ));
            }
            (Expect::Unknown, StatusCode::OK | StatusCode::NOT_FOUND) => {}
            (_, status) => self.error(format!("/get/{key}: {status} {}", short(&reply.body))),
        }
    }

    /// `GET path` with the session cookie `id`, counted; a 5xx is counted and noted here.
    pub(super) async fn get(&self, path: &str, id: Option<&str>) -> Reply {
        let reply = self.server.get(&self.client, path, id).await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if reply.status.is_server_error() {
            self.stats.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        reply
    }

    /// Whether `reply` has the status `expected`; an error otherwise.
    pub(super) fn expect_status(&self, reply: &Reply, expected: StatusCode, what: &str) -> bool {
        if reply.status == expected {
            return true;
        }
        self.error(format!("{what}: {} {}", reply.status, short(&reply.body)));
        false
    }

    pub(super) fn error(&self, what: String) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        self.note(what);
    }

    pub(super) fn lost(&self, count: usize, what: String) {
        self.stats
            .missing
            .fetch_add(count as u64, Ordering::Relaxed);
        self.note(what);
    }

    /// Keeps the first anomalies for the failure message.
    fn note(&self, what: String) {
        let mut notes = self.notes.lock().expect("notes");
        if notes.len() < 20 {
            notes.push(what);
        }
    }
}

/// The start of `text`, for messages.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A small pseudo-random generator (splitmix64), seeded differently for every task.
pub(super) struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Rng(RandomState::new().hash_one(0u8))
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n as u64) as usize
    }
}
