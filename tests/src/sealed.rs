//! The sealed cookie store (`demo --store cookie`): [`Setup`] options for it, seal keys, and
//! [`Browser`], a client that keeps the latest session cookie as a browser does.
//!
//! With a client-side store the cookie's value is the whole session, sealed: it changes on every
//! write, so a test that wants "the same session" compares the id inside it (`GET /id`), and a
//! client must send back the latest value it was given.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use session_examples::demo::{StateKind, StoreKind};
use session_state_cookie::SealMode;

use crate::{Reply, Setup, TestServer};

/// A fresh random seal key, as `--seal-key` takes it: 64 bytes from the OS, standard base64.
pub fn random_seal_key() -> String {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).expect("the OS random source");
    STANDARD.encode(bytes)
}

impl Setup {
    /// `--store cookie --state cookie` in private mode, with a fresh random `--seal-key`: every
    /// server started from this setup (or a clone) shares the key, as the processes of one
    /// application would.
    pub fn sealed() -> Self {
        let mut setup = Setup::cookie();
        setup.args.store = StoreKind::Cookie;
        setup.args.state = StateKind::Cookie;
        setup.args.seal_key = Some(random_seal_key());
        setup
    }

    /// The same setup with `--seal-key KEY` (base64), the current key.
    pub fn seal_key(mut self, key: &str) -> Self {
        self.args.seal_key = Some(key.to_owned());
        self
    }

    /// The same setup with one more `--seal-old-key KEY` (base64): a key that still opens
    /// sessions, which are then resealed with the current key.
    pub fn old_seal_key(mut self, key: &str) -> Self {
        self.args.seal_old_keys.push(key.to_owned());
        self
    }

    /// The same setup with `--seal-mode`.
    pub fn seal_mode(mut self, mode: SealMode) -> Self {
        self.args.seal_mode = mode;
        self
    }

    /// The same setup with `--session-key NAME` (the cookie's name).
    pub fn session_key(mut self, name: &str) -> Self {
        self.args.session_key = Some(name.to_owned());
        self
    }
}

/// A client of one server that keeps its session cookie as a browser does: it sends the latest
/// value it was given, replaces it with every new `Set-Cookie`, and forgets it on a removal.
#[derive(Debug)]
pub struct Browser<'a> {
    server: &'a TestServer,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser with no cookie yet.
    pub fn new(server: &'a TestServer) -> Self {
        Browser {
            server,
            cookie: None,
        }
    }

    /// A browser holding `cookie` (the session cookie's value).
    pub fn holding(server: &'a TestServer, cookie: &str) -> Self {
        Browser {
            server,
            cookie: Some(cookie.to_owned()),
        }
    }

    /// The session cookie's value it holds.
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// The session cookie's value it holds; a test failure if none.
    #[track_caller]
    pub fn expect_cookie(&self) -> String {
        self.cookie
            .clone()
            .expect("the browser holds a session cookie")
    }

    /// `GET path` with its cookie, if any; keeps what the response sets.
    pub async fn get(&mut self, path: &str) -> Reply {
        let reply = match &self.cookie {
            Some(cookie) => self.server.get_as(path, cookie).await,
            None => self.server.get(path).await,
        };
        if let Some(set) = reply.session_cookie() {
            self.cookie = (!set.is_removal()).then_some(set.value);
        }
        reply
    }

    /// The id sealed in the session it holds (`GET /id`, which saves a new session first).
    pub async fn id(&mut self) -> String {
        let reply = self.get("/id").await;
        reply.assert_ok();
        reply.body
    }
}
