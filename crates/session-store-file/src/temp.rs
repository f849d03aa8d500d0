//! A temporary file in the session directory: written, `fsync`ed, then renamed into place.
//!
//! Removed if it is dropped before it is placed (a write that failed half-way).

use std::hash::BuildHasher;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::Mode;
use rustix::io::Errno;

use crate::FileStoreError;
use crate::dir::SessionDir;

/// The prefix of temporary files (never a valid session file name).
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// `.tmp-` and 16 hex digits.
const NAME_LEN: usize = TEMP_PREFIX.len() + 16;

/// How many names are tried before giving up (each taken name is a 1 in 2^64 collision, or junk
/// someone planted).
const ATTEMPTS: usize = 16;

/// A temporary file written in full and `fsync`ed, not yet renamed into place.
pub(crate) struct TempFile<'a> {
    dir: &'a SessionDir,
    name: [u8; NAME_LEN],
    /// Renamed into place: nothing left to remove.
    placed: bool,
}

impl<'a> TempFile<'a> {
    /// Creates a new temporary file with the permissions `mode` in `dir`, writes `parts` to it
    /// and `fsync`s it.
    pub(crate) fn write(
        dir: &'a SessionDir,
        mode: Mode,
        parts: [&[u8]; 2],
    ) -> Result<TempFile<'a>, FileStoreError> {
        let mut attempt = 0;
        let (mut file, temp) = loop {
            let name = random_name();
            match dir.create_new(as_str(&name), mode) {
                Ok(file) => {
                    let temp = TempFile {
                        dir,
                        name,
                        placed: false,
                    };
                    break (file, temp);
                }
                Err(e) if Errno::from_io_error(&e) == Some(Errno::EXIST) && attempt < ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(FileStoreError::io("create a temporary file")(e)),
            }
        };
        parts
            .iter()
            .try_for_each(|part| file.write_all(part))
            .map_err(FileStoreError::io("write a temporary file"))?;
        file.sync_all()
            .map_err(FileStoreError::io("fsync a temporary file"))?;
        Ok(temp)
    }

    fn name(&self) -> &str {
        as_str(&self.name)
    }

    /// Renames the file over `name`, replacing what is there.
    pub(crate) fn place(mut self, name: &str) -> io::Result<()> {
        self.dir.rename(self.name(), name)?;
        self.placed = true;
        Ok(())
    }

    /// Renames the file to `name` unless something has that name; `false` (and the file is kept)
    /// if something does.
    pub(crate) fn place_if_absent(&mut self, name: &str) -> io::Result<bool> {
        let placed = self.dir.rename_noclobber(self.name(), name)?;
        self.placed = placed;
        Ok(placed)
    }
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        if !self.placed {
            let _ = self.dir.remove(self.name());
        }
    }
}

/// A name made by [`random_name`] as a `str`.
fn as_str(name: &[u8; NAME_LEN]) -> &str {
    // `.tmp-` and hex digits: ASCII.
    std::str::from_utf8(name).unwrap_or_default()
}

/// `.tmp-` and 64 random bits in hex.
///
/// The bits come from the standard library's randomly keyed hasher, fed a process-wide counter:
/// unpredictable and unique within the process; `O_EXCL` settles the rest.
fn random_name() -> [u8; NAME_LEN] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = std::collections::hash_map::RandomState::new()
        .hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut name = [0u8; NAME_LEN];
    name[..TEMP_PREFIX.len()].copy_from_slice(TEMP_PREFIX.as_bytes());
    for (i, digit) in name[TEMP_PREFIX.len()..].iter_mut().enumerate() {
        *digit = HEX[((bits >> (60 - 4 * i)) & 0xf) as usize];
    }
    name
}
