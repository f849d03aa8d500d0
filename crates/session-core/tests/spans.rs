//! What a request's session tells a `tracing` subscriber: its `session` span (outcome, load and
//! commit times) and a `session.store` span per store call, never the id.
//!
//! A test binary of its own, with one test under a global subscriber: `tracing` caches per
//! callsite whether anyone listens, and subscribers set per thread by tests running in parallel
//! can leave that cache saying no.

#[path = "common/buffer.rs"]
mod buffer;
#[path = "common/requests.rs"]
mod requests;

use buffer::Buffer;
use requests::{block_on, create_write_read_logout};

/// A create, a counter write, a read and a logout: each request closes a `session` span with
/// its outcome and times, each store call a `session.store` span under it; no line holds the id
/// or its digest. (An adapter starts a request's session only when the handler asks for it, so a
/// request that never does has no span at all.)
#[test]
fn each_request_and_store_call_has_its_span_and_no_id() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let id = block_on(create_write_read_logout());
    let out = buffer.text();
    let closes: Vec<&str> = out.lines().filter(|l| l.contains(" close ")).collect();
    let request_spans: Vec<&str> = closes
        .iter()
        .copied()
        .filter(|l| !l.contains("session.store"))
        .collect();
    let outcomes: Vec<&str> = request_spans
        .iter()
        .map(|l| {
            let start = l.find("outcome=\"").expect("an outcome") + 9;
            &l[start..start + l[start..].find('"').expect("quoted")]
        })
        .collect();
    assert_eq!(
        outcomes,
        ["created", "written", "unchanged", "ended"],
        "{out}"
    );
    assert!(request_spans[1].contains("load_us=") && request_spans[1].contains("commit_us="));
    let store_ops: Vec<&str> = closes
        .iter()
        .filter(|l| l.contains("session.store"))
        .map(|l| {
            let start = l.find("op=\"").expect("an op") + 4;
            &l[start..start + l[start..].find('"').expect("quoted")]
        })
        .collect();
    assert_eq!(
        store_ops,
        ["create", "load", "apply", "load", "delete"],
        "{out}"
    );
    assert!(
        closes
            .iter()
            .filter(|l| l.contains("session.store"))
            .all(|l| l.contains("ok=true") && l.contains("latency_us=")),
        "{out}"
    );
    let key = session_core::store::Key::from_digest(sha_of(&id)).to_hex();
    assert!(
        !out.contains(&id) && !out.contains(&key),
        "the id leaked: {out}"
    );
}

fn sha_of(id: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(id.as_bytes()).into()
}
