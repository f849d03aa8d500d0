//! The workload on the shared sessions: every task writes its own keys of one session at once.

use std::sync::atomic::Ordering;

use http::StatusCode;

use super::SHARED_KEYS_PER_CLIENT;
use super::client::{Rng, Soak};
use super::model::{Expect, Shared, Slot, value};

impl Soak {
    /// One operation on a shared session: a write or a read of this task's own key under the
    /// shared lock, or now and then a read back and a login or logout under the exclusive one.
    pub(super) async fn shared_op(&self, shared: &Shared, task: usize, seq: u64, rng: &mut Rng) {
        let key = format!("t{task}s{}", rng.below(SHARED_KEYS_PER_CLIENT));
        let dice = rng.below(1000);
        if dice < 4 {
            let mut session = shared.id.write().await;
            if self.verify_shared_locked(shared, &session).await && !self.abandon {
                if dice.is_multiple_of(2) {
                    self.shared_login(shared, &mut session).await;
                } else {
                    self.shared_logout(shared, &mut session).await;
                }
            }
            return;
        }
        let session = shared.id.read().await;
        let Some(id) = session.id.clone() else {
            drop(session);
            // No session yet: the first write creates it, alone.
            let mut session = shared.id.write().await;
            if session.id.is_none() {
                self.shared_create(shared, &mut session, &key, &value(task, seq, 24))
                    .await;
            }
            return;
        };
        let now = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.max_concurrent.fetch_max(now, Ordering::Relaxed);
        if dice < 800 {
            let value = value(task, seq, 24);
            let reply = self.get(&format!("/set/{key}/{value}"), Some(&id)).await;
            if self.expect_status(&reply, StatusCode::OK, "/set (shared)") {
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
                if reply.new_id().is_some_and(|given| given != id) {
                    self.error("a write to a live shared session got a new id".into());
                }
                shared.data.lock().expect("model").insert(key, value);
            } else {
                shared.data.lock().expect("model").remove(&key);
                shared.unknown.lock().expect("model").insert(key);
            }
        } else {
            let expected = shared.data.lock().expect("model").get(&key).cloned();
            let unknown = shared.unknown.lock().expect("model").contains(&key);
            let expect = match (&expected, unknown) {
                (Some(value), _) => Expect::Value(value),
                (None, true) => Expect::Unknown,
                (None, false) => Expect::Nothing,
            };
            self.check(Some(&id), &key, expect).await;
        }
        shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The first write of a shared session (under the exclusive lock).
    async fn shared_create(&self, shared: &Shared, session: &mut Slot, key: &str, value: &str) {
        let sent = session.dead.take();
        let reply = self
            .get(&format!("/set/{key}/{value}"), sent.as_deref())
            .await;
        if !self.expect_status(&reply, StatusCode::OK, "/set (new shared)") {
            return;
        }
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        match reply.new_id() {
            Some(given) if sent.as_deref() == Some(given.as_str()) => {
                self.error("a logged-out shared id was given back by a write".into());
            }
            Some(given) => {
                session.id = Some(given);
                let mut data = shared.data.lock().expect("model");
                data.clear();
                data.insert(key.to_owned(), value.to_owned());
                shared.unknown.lock().expect("model").clear();
            }
            None => self.error("the first write of a shared session set no cookie".into()),
        }
    }

    /// `/login` on a shared session (under the exclusive lock).
    async fn shared_login(&self, shared: &Shared, session: &mut Slot) {
        let Some(old) = session.id.clone() else {
            return;
        };
        let reply = self.get("/login", Some(&old)).await;
        if !self.expect_status(&reply, StatusCode::OK, "/login (shared)") {
            session.id = None;
            return;
        }
        let Some(new) = reply.new_id().filter(|new| *new != old) else {
            self.error("a shared login gave no new id".into());
            session.id = None;
            return;
        };
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        session.id = Some(new);
        shared
            .data
            .lock()
            .expect("model")
            .insert("user".into(), "demo-user".into());
        self.check(Some(&old), "user", Expect::Nothing).await;
        self.verify_shared_locked(shared, session).await;
    }

    /// `/logout` on a shared session (under the exclusive lock).
    async fn shared_logout(&self, shared: &Shared, session: &mut Slot) {
        let Some(old) = session.id.take() else {
            return;
        };
        let reply = self.get("/logout", Some(&old)).await;
        shared.data.lock().expect("model").clear();
        shared.unknown.lock().expect("model").clear();
        if !self.expect_status(&reply, StatusCode::OK, "/logout (shared)") {
            return;
        }
        self.stats.logouts.fetch_add(1, Ordering::Relaxed);
        self.check(Some(&old), "user", Expect::Nothing).await;
        session.dead = Some(old);
    }

    /// Reads every key of a shared session back (the caller holds its lock, so nobody writes);
    /// returns whether the session is alive.
    async fn verify_shared_locked(&self, shared: &Shared, session: &Slot) -> bool {
        let Some(id) = session.id.as_deref() else {
            return false;
        };
        let data = shared.data.lock().expect("model").clone();
        for (key, value) in &data {
            self.check(Some(id), key, Expect::Value(value)).await;
        }
        true
    }

    /// The final read back of a shared session; returns whether it is alive.
    pub(super) async fn verify_shared(&self, shared: &Shared) -> bool {
        let session = shared.id.read().await;
        self.verify_shared_locked(shared, &session).await
    }
}
