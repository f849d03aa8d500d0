//! [`Buffer`]: where a test's `tracing` subscriber writes, to be read back as text.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A shared byte buffer a subscriber writes to (`with_writer(move || buffer.clone())`).
#[derive(Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// What was written so far, as text.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().expect("buffer").clone();
        String::from_utf8(bytes).expect("utf-8")
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
