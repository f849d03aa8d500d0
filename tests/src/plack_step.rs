//! Plack's nine-step scenario, step by step: each step is one request to `App::Scenario`'s
//! `/scenario/N` route, whose JSON body tells what the session held before and after.

use serde_json::Value;

use crate::{Reply, TestServer};

/// One step's answer: the reply and its JSON body.
#[derive(Debug)]
pub struct Step {
    /// The HTTP reply.
    pub reply: Reply,
    /// Its body, parsed.
    pub json: Value,
}

impl Step {
    /// The session id the body reports (the id sealed inside, for a sealed cookie).
    pub fn id(&self) -> Option<&str> {
        self.json["id"].as_str()
    }

    /// Checks `foo` as the step found it and the session's data after the step.
    #[track_caller]
    pub fn check(&self, n: u8, foo_before: Option<&str>, data: Value) {
        assert_eq!(
            self.json["foo"].as_str(),
            foo_before,
            "step {n}: foo before"
        );
        assert_eq!(self.json["data"], data, "step {n}: data after");
    }

    /// The new cookie this step sent; a test failure if none.
    #[track_caller]
    pub fn cookie(&self, n: u8) -> String {
        self.reply
            .new_id()
            .unwrap_or_else(|| panic!("step {n}: no new cookie: {:?}", self.reply.headers))
    }

    /// Checks that a step on an existing session kept its sealed id and sent a new value.
    #[track_caller]
    pub fn rewritten(&self, n: u8, id: &str, cookie: &str) -> String {
        assert_eq!(self.id(), Some(id), "step {n}: the sealed id changed");
        let new = self.cookie(n);
        assert_ne!(new, cookie, "step {n}: a write sent the same value");
        new
    }

    /// Checks that a read-only step kept the sealed id and sent nothing.
    #[track_caller]
    pub fn read_only(&self, n: u8, id: &str) {
        assert_eq!(self.id(), Some(id), "step {n}: the sealed id changed");
        assert!(
            !self.reply.has_set_cookie(),
            "step {n}: a read sent a cookie: {:?}",
            self.reply.headers
        );
    }
}

/// Runs step `n`, carrying `carrying` (an id, or a sealed cookie) if any; the reply must be a 200
/// with a JSON body.
pub async fn step(server: &TestServer, n: u8, carrying: Option<&str>) -> Step {
    let path = format!("/scenario/{n}");
    let reply = match carrying {
        Some(cookie) => server.get_as(&path, cookie).await,
        None => server.get(&path).await,
    };
    reply.assert_ok();
    let json = serde_json::from_str(&reply.body)
        .unwrap_or_else(|e| panic!("step {n}: body {:?} is not JSON: {e}", reply.body));
    Step { reply, json }
}
