//! The file store reading an arbitrary session file, then serving what it read to a request.
//!
//! Two `FileStore`s on private temporary directories (created once per process, on the fixed
//! clock): bincode (first input byte < 0x80) and JSON (≥ 0x80). The rest of the input becomes the
//! file of a fixed key (`KNOWN_ID`'s: named `key.to_hex()`, mode 0600, where the store keeps it),
//! framed by the first byte's low two bits so the fuzzer gets past the 16-byte header: 0 and 3 as
//! it is, 1 behind a valid header (the payload's own expiry when it decodes, else tomorrow), 2
//! behind a header whose expiry is the next 8 bytes (little-endian). Then `load`.
//!
//! Checked: `load` never fails or panics on a file's content; it returns exactly the record an
//! independent oracle expects (header as the store builds it, payload decoded by the same codec,
//! matching expiry, not expired), else `None`; a file that is no live session is removed (the
//! crate docs: "treated as no session: logged, removed, never a panic nor an error page"), a live
//! one kept. A record it returns is then served to a request (`CookieState` over a
//! `MemoryStore`): every value reads back as stored, typed reads may fail but never panic, a
//! write and the commit succeed, and the write is stored.

#![no_main]

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::sync::OnceLock;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use session_core::state::RequestView;
use session_core::store::{BincodeCodec, Codec, JsonCodec, Record, Store, Timestamp};
use session_core::{Engine, MemoryStore};
use session_fuzz::{KNOWN_ID, NOW_MS, block_on, clock, key_of};
use session_state_cookie::CookieState;
use session_store_file::FileStore;
use session_store_file::fuzzing::{HEADER_LEN, header};

/// The bincode store and the JSON store.
fn stores() -> &'static [FileStore; 2] {
    static STORES: OnceLock<[FileStore; 2]> = OnceLock::new();
    STORES.get_or_init(|| {
        let bincode = FileStore::builder()
            .codec(BincodeCodec::default())
            .clock(clock())
            .temporary()
            .expect("a private directory");
        let json = FileStore::builder()
            .json()
            .clock(clock())
            .temporary()
            .expect("a private directory");
        [bincode, json]
    })
}

/// What `load` must return for a file holding `bytes`, judged without the store's own reader.
fn oracle(codec: &dyn Codec, bytes: &[u8]) -> Option<Record> {
    let (head, payload) = (bytes.get(..HEADER_LEN)?, bytes.get(HEADER_LEN..)?);
    let record = codec.decode(payload).ok()?;
    (head == header(record.expires, payload.len())
        && record.expires > Timestamp::from_millis(NOW_MS))
    .then_some(record)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let json = first >= 0x80;
    let store = &stores()[usize::from(json)];
    let codec: &dyn Codec = if json {
        &JsonCodec::default()
    } else {
        &BincodeCodec::default()
    };
    let file = match first & 3 {
        1 => {
            let expires = codec
                .decode(rest)
                .map_or(Timestamp::from_millis(NOW_MS + 86_400_000), |record| {
                    record.expires
                });
            [&header(expires, rest.len())[..], rest].concat()
        }
        2 => {
            let (expires, payload) = rest.split_at(rest.len().min(8));
            let mut millis = [0u8; 8];
            millis[..expires.len()].copy_from_slice(expires);
            let expires = Timestamp::from_millis(u64::from_le_bytes(millis));
            [&header(expires, payload.len())[..], payload].concat()
        }
        _ => rest.to_vec(),
    };

    let key = key_of(KNOWN_ID);
    let path = store.file_for(&key);
    assert!(path.ends_with(key.to_hex()));
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(&file))
        .expect("write the session file");

    let expected = oracle(codec, &file);
    let loaded = store
        .blocking()
        .load(&key)
        .expect("a file's content never makes load fail");
    assert_eq!(loaded, expected, "load disagrees with the oracle");
    let kept = std::fs::symlink_metadata(&path).is_ok();
    assert_eq!(
        kept,
        expected.is_some(),
        "a dead file is removed, a live one kept"
    );

    if let Some(record) = loaded {
        serve(record);
    }
});

/// Serves a record the file store returned to a request, as the known session.
fn serve(record: Record) {
    block_on(async {
        let memory = MemoryStore::default().clock(clock());
        let key = key_of(KNOWN_ID);
        assert_eq!(memory.create(&key, &record).await.ok(), Some(true));
        let engine = Engine::builder(CookieState::default(), memory.clone())
            .clock(clock())
            .build();
        let mut headers = HeaderMap::new();
        let cookie = HeaderValue::from_str(&format!("id={KNOWN_ID}")).expect("a header");
        headers.insert(COOKIE, cookie);
        let session = engine.start(&RequestView::new(&headers, None));
        let keys = session.keys().await.expect("keys");
        assert!(
            keys.iter().eq(record.data.keys()),
            "the session holds the record's keys"
        );
        for (name, value) in &record.data {
            let read = session.get_value(name).await.expect("get_value");
            assert_eq!(read.as_ref(), Some(value));
            // A value of another type is an error, never a panic.
            let _ = session.get::<bool>(name).await;
            let _ = session.get::<serde_json::Value>(name).await;
        }
        session.insert("fuzz", true).await.expect("insert");
        let commit = engine
            .commit(&session, StatusCode::OK)
            .await
            .expect("commit on a memory store");
        commit.apply_to(&mut HeaderMap::new());
        let lives = record.lifetime.is_none_or(|l| !l.idle_timeout().is_zero());
        if lives {
            let stored = memory.load(&key).await.expect("load").expect("still live");
            assert_eq!(
                stored.data.len(),
                record.data.len() + usize::from(!record.data.contains_key("fuzz"))
            );
            assert_eq!(stored.data.get("fuzz").map(|v| v.as_json()), Some("true"));
        }
    });
}
