//! What the fuzz targets share.
//!
//! A fixed clock, one known live session, a sealing key, a runtime, and the checks a request and a
//! codec must pass.
//!
//! Everything here is deterministic (the clock never moves, the known session and the key are
//! constants), so a crash found once replays the same way.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use session_core::state::{DefaultIds, IdScheme, RequestView, State};
use session_core::store::{Codec, Key, ManualClock, Record, Store, Timestamp};
use session_core::{Engine, MemoryStore, Value};
use sha2::{Digest, Sha256};

/// The engines' and stores' fixed time: 2026-01-01T00:00:00Z, in milliseconds since the epoch.
pub const NOW_MS: u64 = 1_767_225_600_000;

/// The id of the one live session every server-side target pre-populates.
///
/// A valid 43-character id of the default scheme; the seeds and dictionaries hold it, so the fuzzer
/// reaches the "known session" path.
pub const KNOWN_ID: &str = "fuzz-known-session-id-AAAAAAAAAAAAAAAAAAAAA";

/// The known session's `owner` value (as JSON text) and its counter `n`.
pub const KNOWN_OWNER: &str = "\"fuzz\"";
/// The known session's counter before a request increments it.
pub const KNOWN_N: u64 = 7;

/// The fixed key the sealed-cookie targets seal with (fuzzing only: never a real key).
pub const SEAL_KEY: [u8; 64] = {
    let mut key = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        key[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
        i += 1;
    }
    key
};

/// The only user the sealed seeds carry.
///
/// A session opened from a sealed cookie holds this or nothing, since nothing else was ever sealed
/// with [`SEAL_KEY`].
pub const SEALED_USER: &str = "alice";

/// A clock stopped at [`NOW_MS`].
pub fn clock() -> ManualClock {
    ManualClock::new(Timestamp::from_millis(NOW_MS))
}

/// The store key of an id's text: its SHA-256 digest, as core computes it.
pub fn key_of(id: &str) -> Key {
    Key::from_digest(Sha256::digest(id.as_bytes()).into())
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs `future` to completion on this thread's current-thread Tokio runtime.
///
/// The runtime is built once per thread, with its blocking pool; no timers are needed.
pub fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread Tokio runtime");
    }
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// The known session's record: created an hour ago, used a minute ago, alive for another day.
pub fn known_record() -> Record {
    let mut record = Record::new(
        Timestamp::from_millis(NOW_MS - 3_600_000),
        Timestamp::from_millis(NOW_MS + 86_400_000),
    );
    record.last_active = Timestamp::from_millis(NOW_MS - 60_000);
    record.data.insert("owner".into(), json(KNOWN_OWNER));
    record.data.insert("n".into(), json(&KNOWN_N.to_string()));
    record
}

fn json(text: &str) -> Value {
    Value::from_json(text.to_owned()).expect("valid JSON")
}

/// A server-side engine over `state` and a fresh [`MemoryStore`] holding only the known session.
///
/// Both on the fixed clock. Built per input, so every input starts from the same store.
pub fn server_engine(state: impl State) -> (Arc<MemoryStore>, Engine) {
    let store = Arc::new(MemoryStore::default().clock(clock()));
    let created = block_on(store.create(&key_of(KNOWN_ID), &known_record()));
    assert_eq!(created.ok(), Some(true), "the known session is stored");
    let engine = Engine::builder(state, Arc::clone(&store))
        .clock(clock())
        .build();
    (store, engine)
}

/// What one request did to its session.
#[derive(Debug)]
pub struct Served {
    /// Whether the request's session was the known one.
    pub known: bool,
    /// The id `Session::save` returned (when asked for), before the commit.
    pub saved_id: Option<String>,
    /// The response headers the commit added.
    pub response: http::HeaderMap,
}

/// Runs one request through `engine`.
///
/// Start, read, increment the counter `n`, optionally `Session::save`, commit with 200. `sent` is
/// everything the client sent (the raw fuzz input).
///
/// Checks on the way: the session is either the known one (and then the client really sent the
/// known id) or empty and new; reading and writing never fail on a memory store; the commit
/// succeeds.
pub fn serve(engine: &Engine, request: &RequestView<'_>, sent: &[u8], save: bool) -> Served {
    block_on(async {
        let session = engine.start(request);
        let owner = session
            .get_value("owner")
            .await
            .expect("get on a memory store");
        let known = owner.is_some();
        let id = session.id().await.expect("id on a memory store");
        let n = session.get::<u64>("n").await.expect("n is ours: a u64");
        if known {
            assert_eq!(owner.as_ref().map(Value::as_json), Some(KNOWN_OWNER));
            assert_eq!(id.as_ref().map(|id| id.as_str()), Some(KNOWN_ID));
            assert!(
                contains(sent, KNOWN_ID.as_bytes()),
                "the known session loaded without its id in the request"
            );
            assert_eq!(n, Some(KNOWN_N));
        } else {
            assert!(
                id.is_none(),
                "a session that is not the known one has an id"
            );
            assert!(
                session
                    .is_empty()
                    .await
                    .expect("is_empty on a memory store"),
                "a session that is not the known one holds data"
            );
            assert_eq!(n, None);
        }
        session
            .insert("n", n.unwrap_or(0) + 1)
            .await
            .expect("insert on a memory store");
        let saved_id = if save {
            let id = session.save().await.expect("save on a memory store");
            Some(id.as_str().to_owned())
        } else {
            None
        };
        let commit = engine
            .commit(&session, StatusCode::OK)
            .await
            .expect("commit on a memory store");
        let mut response = http::HeaderMap::new();
        commit.apply_to(&mut response);
        Served {
            known,
            saved_id,
            response,
        }
    })
}

/// Checks the id a request's session ended with and what the store holds under it.
///
/// Either the known id with its counter incremented, or a fresh id (one the default scheme
/// generates, that the client did not send) holding a new session with only `n = 1`.
pub fn check_outcome(store: &MemoryStore, served: &Served, id: &str, sent: &[u8]) {
    let stored = block_on(store.load(&key_of(id))).expect("load on a memory store");
    let record = stored.expect("the session the response names is stored");
    if served.known {
        assert_eq!(id, KNOWN_ID, "the known session changed its id");
        let mut expected = known_record().data;
        expected.insert("n".into(), json(&(KNOWN_N + 1).to_string()));
        assert_eq!(record.data, expected);
    } else {
        assert_ne!(id, KNOWN_ID, "a new session took the known id");
        assert!(DefaultIds.is_valid(id), "a generated id the scheme refuses");
        assert!(
            !contains(sent, id.as_bytes()),
            "a new session took an id the client sent"
        );
        assert_eq!(record.data.len(), 1);
        assert_eq!(record.data.get("n").map(Value::as_json), Some("1"));
    }
    assert!(record.expires > Timestamp::from_millis(NOW_MS));
    assert!(
        record.expires
            <= Timestamp::from_millis(NOW_MS).saturating_add(Duration::from_secs(86_400))
    );
}

/// Splits the input into `Cookie` header values at each `\n` (a byte no header value may hold).
///
/// Parts `HeaderValue::from_bytes` refuses are skipped.
pub fn cookie_headers(data: &[u8]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for part in data.split(|&b| b == b'\n') {
        if let Ok(value) = http::HeaderValue::from_bytes(part) {
            headers.append(http::header::COOKIE, value);
        }
    }
    headers
}

/// Runs `codec.decode` on arbitrary bytes, as a store does on every record it reads.
///
/// The codec targets' whole check.
///
/// Checked: never a panic; every value of an accepted record is JSON text (`Value`'s invariant);
/// an accepted input re-encodes, and decoding that gives an equal `Record` (round trip on accepted
/// inputs).
pub fn check_codec(codec: &dyn Codec, data: &[u8]) {
    let Ok(record) = codec.decode(data) else {
        return;
    };
    for value in record.data.values() {
        assert!(
            Value::from_json(value.as_json().to_owned()).is_ok(),
            "a decoded value is not JSON"
        );
    }
    let again = codec
        .encode(&record)
        .expect("an accepted record re-encodes");
    let back = codec.decode(&again).expect("a re-encoded record decodes");
    assert_eq!(back, record, "an accepted record does not round-trip");
}
