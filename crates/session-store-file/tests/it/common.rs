//! Helpers shared by the integration tests: records, keys, and re-running this test binary as a
//! child process (a second server process, a writer to kill).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use session_core::Value;
use session_core::store::{Clock, Codec, Key, Record, SystemClock, Timestamp};

/// A full sweep of `store` ([`FileStore::cleanup`]) on the blocking pool, as an application runs it.
pub(crate) async fn cleanup(store: &session_store_file::FileStore) -> session_store_file::Cleanup {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.cleanup())
        .await
        .expect("the cleanup task")
        .expect("cleanup")
}

/// The environment variable that turns a `#[ignore]`d child entry point on, naming the directory.
pub(crate) const CHILD_DIR: &str = "SESSION_STORE_FILE_CHILD_DIR";
/// Which child process this is (0, 1, ...).
pub(crate) const CHILD_INDEX: &str = "SESSION_STORE_FILE_CHILD_INDEX";

/// Starts this test binary again as a child running only the ignored test `entry` (its full name
/// in this binary, module path included: it is matched with `--exact`), with the session directory
/// and an index in its environment. Its stdout is piped.
///
/// A name that matches no test runs nothing: the child exits without saying `ready`, and the
/// caller's [`wait_for_ready`] is `false`.
pub(crate) fn spawn_child(entry: &str, dir: &Path, index: usize) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    Command::new(exe)
        .args([
            entry,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_INDEX, index.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start a child process")
}

/// Reads the child's output (the test harness's lines first) until it prints `ready`; `false` if
/// it ended first.
pub(crate) fn wait_for_ready(output: &mut impl std::io::BufRead) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match output.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line.trim_end().ends_with("ready") => return true,
            Ok(_) => {}
        }
    }
}

/// The child's directory and index, if this process is a child.
pub(crate) fn child_env() -> Option<(std::path::PathBuf, usize)> {
    let dir = std::env::var_os(CHILD_DIR)?;
    let index = std::env::var(CHILD_INDEX).ok()?.parse().ok()?;
    Some((dir.into(), index))
}

/// The key numbered `n`.
pub(crate) fn key(n: u8) -> Key {
    Key::from_digest([n; 32])
}

/// A record live for an hour holding `data`.
pub(crate) fn live(data: &[(&str, &str)]) -> Record {
    let now = SystemClock.now();
    let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
    for (k, v) in data {
        record
            .data
            .insert((*k).to_owned(), Value::from_serialize(v).expect("json"));
    }
    record
}

/// A record that expired a minute ago.
pub(crate) fn expired() -> Record {
    let now = SystemClock.now().as_millis();
    Record::new(
        Timestamp::from_millis(now - 120_000),
        Timestamp::from_millis(now - 60_000),
    )
}

/// Strictly decodes a session file's bytes: the documented header (magic, expiry, length) and
/// the codec's payload, with no "treat as no session" fallback.
pub(crate) fn decode_strict(bytes: &[u8], codec: &dyn Codec) -> Result<Record, String> {
    if bytes.len() < 16 || &bytes[..4] != b"SSF1" {
        return Err(format!("bad header ({} bytes)", bytes.len()));
    }
    let expires = u64::from_le_bytes(bytes[4..12].try_into().expect("8 bytes"));
    let len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    if len + 16 != bytes.len() {
        return Err(format!("length {len} + 16 != file size {}", bytes.len()));
    }
    let record = codec
        .decode(&bytes[16..])
        .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))?;
    if record.expires.as_millis() != expires {
        return Err("header and record disagree on expiry".into());
    }
    Ok(record)
}
