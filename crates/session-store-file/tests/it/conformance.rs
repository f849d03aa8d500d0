//! The published conformance kit against the file store, with each codec: bincode (the default),
//! JSON, and a codec of the application's own (Plack's custom serializer / deserializer).

use std::fmt;

use session_conformance::check_store;
use session_core::store::{Codec, CodecError, JsonCodec, Record};
use session_store_file::FileStore;

/// One store shared by every check (as a server shares it), default codec (bincode).
#[tokio::test(flavor = "multi_thread")]
async fn default_codec_keeps_every_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path().join("sessions")).expect("open");
    check_store(move || store.clone())
        .await
        .assert_nothing_skipped();
}

/// A fresh store (a fresh open of the same directory, as another process would) for each check.
#[tokio::test(flavor = "multi_thread")]
async fn json_codec_with_a_store_per_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sessions");
    let report = check_store(|| FileStore::builder().json().open(&path).expect("open")).await;
    report.assert_nothing_skipped();
}

/// A user codec: a version line, then JSON. Anything else is refused, as a user codec must.
#[derive(Debug, Default)]
struct VersionedJson;

const VERSION_LINE: &[u8] = b"my-app-sessions v1\n";

#[derive(Debug)]
struct WrongVersion;

impl fmt::Display for WrongVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a my-app v1 session")
    }
}

impl std::error::Error for WrongVersion {}

impl Codec for VersionedJson {
    fn encode(&self, record: &Record) -> Result<Vec<u8>, CodecError> {
        let mut out = VERSION_LINE.to_vec();
        out.extend(JsonCodec::default().encode(record)?);
        Ok(out)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Record, CodecError> {
        let json = bytes
            .strip_prefix(VERSION_LINE)
            .ok_or_else(|| CodecError::new(WrongVersion))?;
        JsonCodec::default().decode(json)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_codec_keeps_every_contract_and_is_what_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::builder()
        .codec(VersionedJson)
        .open(dir.path())
        .expect("open");
    let shared = store.clone();
    check_store(move || shared.clone())
        .await
        .assert_nothing_skipped();
    // The files on disk are the user codec's bytes after the 16-byte header (beside them, the
    // subject index's directory).
    let mut seen = 0;
    for entry in std::fs::read_dir(store.dir()).expect("list") {
        let entry = entry.expect("entry");
        if entry.file_name() == "subjects" {
            continue;
        }
        let bytes = std::fs::read(entry.path()).expect("read");
        assert!(bytes[16..].starts_with(VERSION_LINE));
        seen += 1;
    }
    assert!(seen > 0, "the kit left records behind");
}
