//! session-core's integration tests, one test binary with a module per concern.
//!
//! - [`engine`]: the request lifecycle, through the engine.
//! - [`late`]: late store and per-request cookie options, through the engine.
//! - [`memory`]: what `MemoryStore` reports (the first eviction).
//! - [`observe`]: (feature `metrics`) the counters and the store latency histogram; the
//!   `tracing` spans are checked in `tests/spans.rs`, a binary of their own.
//! - [`props`]: property tests of codecs, change sets, ids and `Key` hex.
//! - [`subjects`]: sessions per subject, through the engine.

mod engine;
mod late;
mod memory;
mod observe;
mod props;
#[cfg(feature = "metrics")]
#[path = "../common/requests.rs"]
mod requests;
mod subjects;

/// The warnings a closure's run emits (`tracing`, any target), as text.
pub(crate) fn warnings_of(run: impl FnOnce()) -> String {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    let bytes = buffer.0.lock().expect("buffer").clone();
    String::from_utf8(bytes).expect("utf-8")
}
