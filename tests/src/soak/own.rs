//! The workload on a task's own sessions: writes, reads, logins and logouts, one at a time.

use std::sync::atomic::Ordering;

use http::StatusCode;

use super::client::{Rng, Soak};
use super::model::{Expect, Slot, value};
use super::{KEYS_PER_SLOT, VALUE_LEN};

impl Soak {
    /// One operation on a task's own session.
    pub(super) async fn slot_op(&self, slot: &mut Slot, task: usize, seq: u64, rng: &mut Rng) {
        let dice = rng.below(100);
        if slot.id.is_none() || dice < 45 {
            let key = format!("k{}", rng.below(KEYS_PER_SLOT));
            self.slot_set(slot, &key, &value(task, seq, VALUE_LEN))
                .await;
        } else if dice < 70 {
            let key = match rng.below(KEYS_PER_SLOT + 1) {
                KEYS_PER_SLOT => "user".to_owned(),
                n => format!("k{n}"),
            };
            let id = slot.id.clone();
            self.check(id.as_deref(), &key, slot.expect(&key)).await;
        } else if dice < 78 {
            self.slot_login(slot).await;
        } else if dice < 98 {
            self.slot_logout(slot).await;
        } else {
            let reply = self.get("/static", None).await;
            self.expect_status(&reply, StatusCode::OK, "/static");
        }
    }

    /// `/set/KEY/VALUE` on a task's own session.
    async fn slot_set(&self, slot: &mut Slot, key: &str, value: &str) {
        let sent = slot.id.clone().or_else(|| slot.dead.take());
        let reply = self
            .get(&format!("/set/{key}/{value}"), sent.as_deref())
            .await;
        if !self.expect_status(&reply, StatusCode::OK, "/set") {
            slot.data.remove(key);
            slot.unknown.insert(key.to_owned());
            return;
        }
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        let given = reply.new_id();
        match (&slot.id, given) {
            (None, Some(given)) => {
                if sent.as_deref() == Some(given.as_str()) {
                    self.error("a logged-out id was given back by a write".into());
                }
                slot.id = Some(given);
            }
            (None, None) => {
                self.error("the first write of a session set no cookie".into());
                return;
            }
            (Some(id), Some(given)) if *id != given => {
                // The server started over: everything acknowledged before is lost.
                self.lost(
                    slot.data.len(),
                    "a write to a live session got a new id".into(),
                );
                slot.data.clear();
                slot.unknown.clear();
                slot.id = Some(given);
            }
            (Some(_), _) => {}
        }
        slot.data.insert(key.to_owned(), value.to_owned());
    }

    /// `/login` on a task's own session: a new id, the old one dead, the data kept.
    async fn slot_login(&self, slot: &mut Slot) {
        let old = slot.id.clone().expect("a live session");
        let reply = self.get("/login", Some(&old)).await;
        if !self.expect_status(&reply, StatusCode::OK, "/login") {
            *slot = Slot::default();
            return;
        }
        let Some(new) = reply.new_id().filter(|new| *new != old) else {
            self.error(format!("a login gave no new id: {:?}", reply.headers));
            *slot = Slot::default();
            return;
        };
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        slot.id = Some(new);
        slot.data.insert("user".into(), "demo-user".into());
        slot.unknown.remove("user");
        self.check(Some(&old), "user", Expect::Nothing).await;
        self.verify_slot(slot).await;
    }

    /// `/logout` on a task's own session, after reading every key back; afterwards nothing is
    /// left under the old id. With `SOAK_ABANDON`, the session is forgotten instead.
    async fn slot_logout(&self, slot: &mut Slot) {
        self.verify_slot(slot).await;
        let old = slot.id.take().expect("a live session");
        let probe_key = slot.data.keys().next().cloned();
        let bytes: usize = slot.data.values().map(String::len).sum();
        self.stats
            .dropped
            .fetch_add(bytes as u64, Ordering::Relaxed);
        slot.data.clear();
        slot.unknown.clear();
        if self.abandon {
            self.stats.logouts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let reply = self.get("/logout", Some(&old)).await;
        if !self.expect_status(&reply, StatusCode::OK, "/logout") {
            return;
        }
        if !reply.session_cookie().is_some_and(|c| c.is_removal()) {
            self.error(format!(
                "a logout sent no removal cookie: {:?}",
                reply.headers
            ));
        }
        self.stats.logouts.fetch_add(1, Ordering::Relaxed);
        let key = probe_key.unwrap_or_else(|| "user".into());
        self.check(Some(&old), &key, Expect::Nothing).await;
        slot.dead = Some(old);
    }

    /// Reads every key of a task's session back.
    pub(super) async fn verify_slot(&self, slot: &Slot) {
        let Some(id) = slot.id.as_deref() else { return };
        for (key, value) in &slot.data {
            self.check(Some(id), key, Expect::Value(value)).await;
        }
    }
}
