//! session-core's integration tests, one test binary with a module per concern.
//!
//! - [`engine`]: the request lifecycle, through the engine.
//! - [`late`]: late store and per-request cookie options, through the engine.
//! - [`memory`]: what `MemoryStore` reports (the first eviction).
//! - [`observe`]: (feature `metrics`) the counters and the store latency histogram; the
//!   `tracing` spans are checked in `tests/spans.rs`, a binary of their own.
//! - [`props`]: property tests of codecs, change sets, ids and `Key` hex.
//! - [`subjects`]: sessions per subject, through the engine.

#[path = "../common/buffer.rs"]
mod buffer;
mod engine;
mod late;
mod memory;
mod observe;
mod props;
#[cfg(feature = "metrics")]
#[path = "../common/requests.rs"]
mod requests;
mod subjects;

use buffer::Buffer;

/// The warnings a closure's run emits (`tracing`, any target), as text.
pub(crate) fn warnings_of(run: impl FnOnce()) -> String {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    buffer.text()
}
