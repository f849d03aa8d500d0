#![cfg_attr(docsrs, feature(doc_cfg))]
//! FileStore: HTTP sessions in files, one per session, shared by the processes of one machine.
//!
//! [`FileStore`] is the successor of Plack's `Store::File`, without its flaws:
//!
//! - **Names**: Plack names files by the raw session id; here, by the id's SHA-256 digest
//!   ([`Key::to_hex`](session_core::store::Key::to_hex)): a leaked directory yields no usable cookie.
//! - **Directory**: Plack defaults to the shared temp directory; here, a directory you name,
//!   created 0700 if missing, or a private 0700 one ([`FileStore::temporary`]). A directory
//!   writable by others or owned by another user is refused when the store is built, and the
//!   directory checked is the one used: the store keeps it open and names every file relative
//!   to it (`openat`, `renameat`, `unlinkat`), so renaming the directory away and putting another
//!   directory or a symbolic link in its place redirects nothing.
//! - **Writes**: Plack writes in place, so a crash leaves a torn file; here, a temporary file in
//!   the same directory is written, `fsync`ed and renamed into place, then the directory is
//!   `fsync`ed: a reader sees the old record or the new one, never a mix.
//! - **Concurrency**: with Plack, two overlapping requests lose a write; here, key-level changes
//!   ([`Store::apply`](session_core::store::Store::apply)) are applied under an exclusive lock on the
//!   session file, across processes.
//! - **Expiry**: Plack's expired files stay forever; here, expiry is checked on every load, expired
//!   files found are removed, and a sweeper the store starts by itself on a Tokio runtime removes
//!   the rest, in bounded passes ([Expiry and the sweeper](#expiry-and-the-sweeper)).
//!
//! # Files
//!
//! - `<64 hex digits>`: one session, mode 0600 (0400 if bound to a subject). A 16-byte header (magic `SSF1`, the expiry as
//!   milliseconds since the epoch, the payload length, little-endian) then the codec's bytes.
//!   The header lets `save`, `delete` and the sweeper judge a file without decoding it, and
//!   catches a truncated or foreign file even when a lenient codec would not.
//! - `.tmp-*`: a write in progress (or one whose writer died; the sweeper removes those older
//!   than ten minutes).
//! - `subjects/`: the index of sessions per subject ([below](#sessions-per-subject)).
//! - Anything else is left alone and never read.
//!
//! # Codecs
//!
//! bincode 2 by default (Plack's Storable analogue; feature `bincode`, on by default), JSON with
//! [`FileStoreBuilder::json`], or any [`Codec`](session_core::store::Codec) of your own (Plack's
//! `serializer` / `deserializer`) with [`FileStoreBuilder::codec`]. A file's size is checked
//! against the store's limit (1 MiB by default) before it is read. A file that is too large, has
//! a bad header, or does not decode is treated as no session: logged (`warn`), removed, never a
//! panic nor an error page. Changing the codec of an existing directory therefore drops its
//! sessions (their users sign in again).
//!
//! # Concurrency and crash safety
//!
//! Each operation that replaces or removes a file locks **that file** (`File::lock`, i.e.
//! `flock(2)`), then checks it is still the one its name points to (same inode): a writer
//! renames the new file over the old one while holding the old one's lock, so a writer that
//! waited wakes on a file that has been replaced and starts again on the current one. A lock on
//! the session file itself needs no lock files to create or clean up. Consequences:
//!
//! - `apply` and `touch` are atomic per session across threads and processes
//!   ([`applies_atomically`](session_core::store::Store::applies_atomically) is `true`): two requests
//!   (in two server processes) writing different keys of one session keep both. Two requests
//!   writing the same key: the later commit wins.
//! - A `save`, `apply` or `touch` that waited behind a `delete` finds nothing and writes nothing:
//!   a logged-out session is never brought back.
//! - `create` never overwrites a live session: the new file is moved into place with a no-clobber
//!   rename (`renameat2(RENAME_NOREPLACE)`, or link + unlink where that is missing); only an
//!   expired or unreadable file under that name is replaced, under its lock.
//! - `load` takes no lock and does one `open` and one `read`.
//! - A process killed in the middle of a write leaves at most a temporary file, never a torn
//!   session file.
//!
//! Symbolic links are never followed: session files are opened with `O_NOFOLLOW` (a link under a
//! session's name is no session), and the sweeper looks at entries without following them.
//!
//! # Async
//!
//! The [`Store`](session_core::store::Store) methods keep file I/O off the async workers: they run on
//! Tokio's blocking pool (`spawn_blocking`), so a slow disk or a waited-for lock never stalls an
//! async worker; outside a Tokio runtime they run inline. Encoding happens before the hop, so
//! only bytes move. A load waits for no lock (a dead file it finds is removed only if its lock is
//! free at once; otherwise the sweeper or a later load removes it), so on a multi-thread runtime
//! [`FileStoreBuilder::loads_in_place`] can run loads in `block_in_place` instead, saving the
//! blocking pool's thread hand-over (about 20 µs of a 22 µs load).
//! [`FileStore::blocking`] gives the same operations as plain blocking calls.
//!
//! Writers of one session take turns before the hop: `create`, `save`, `apply`, `touch` and
//! `delete` first wait, as futures, for the session's turn in the store (shared by its clones),
//! and only the writer whose turn it is takes a blocking thread. However many requests write one
//! session at once, at most one thread waits on its file lock (held, say, by another process),
//! and the blocking pool stays free for every other session. A waiter cut off by a time limit
//! (the engine's `store_timeout`) leaves nothing behind; a blocking job already running keeps
//! the session's turn until it ends. Without such a limit the waiters wait as long as the lock is
//! held: they take no thread, but each holds its request, so set `store_timeout` in production.
//!
//! # Expiry and the sweeper
//!
//! Expiry is judged on every load, from the record's own expiry and the store's clock (never the
//! file's time), and an expired file found is removed. The rest (sessions nobody comes back for,
//! temporary files of writers that died) is the sweeper's:
//!
//! - A store built inside a Tokio runtime starts one: a thread of its own (named
//!   `file-sweeper`, so it needs nothing from the runtime, not even its timer) that makes a pass
//!   every [`DEFAULT_SWEEP_EVERY`] ([`FileStoreBuilder::sweep_every`]). A pass examines at most
//!   [`DEFAULT_SWEEP_BATCH`] entries ([`FileStoreBuilder::sweep_batch`]) and the next continues
//!   where it stopped; it never waits for a lock (a busy session is left for the next pass),
//!   never follows a link, and reads at most a session file's 16-byte header (a dead file
//!   marked bound is read whole, for its index entry). The thread ends as soon as the store's
//!   last clone is dropped.
//! - [`FileStoreBuilder::background_sweeper`]`(false)` turns it off: when the directory is swept
//!   otherwise ([`FileStore::cleanup`] from a scheduled job or another process, or
//!   [`FileStore::spawn_cleanup`], a Tokio task on a runtime of your choice).
//! - A store built outside a runtime (a script, a tool) has none: call [`FileStore::cleanup`].
//!
//! # Sessions per subject
//!
//! The store keeps an index per subject ([`lists_subjects`](session_core::store::Store::lists_subjects)
//! is `true`), on which the engine lists a user's sessions, revokes one and logs out everywhere
//! ([`session_core::subject`]).
//!
//! - **Layout**: `subjects/<subject key>/<session key>`: a directory (0700) per subject, named by
//!   [`subject_key`](session_core::store::subject_key)`(subject).to_hex()`, a digest, never the
//!   user id; in it an empty file per bound session, named like the session's file. A bound
//!   record's own file is written 0400 instead of 0600, so `delete` and the removal of a dead
//!   file see from the metadata they already have that an entry is to be removed: an unbound
//!   session costs what it did before subjects existed.
//! - **Durability**: `create` of a bound record writes its entry and `fsync`s it, its directory
//!   and `subjects/` before it writes the record: once `create` has returned, a listing in any
//!   process shows the session, after a crash too. A listing reads each entry's record and shows
//!   the live ones bound to the subject. Entries of sessions deleted, expired, or bound elsewhere
//!   are removed by `delete`, by listings and by the sweeper, which walks the index after the
//!   session files (in the same bounded passes, reading at most a header per entry) and removes
//!   subject directories left empty. An entry whose session file is missing is removed once older
//!   than [`stale_temp_after`](FileStoreBuilder::stale_temp_after), as a `create` writes it a
//!   moment before the record. Names the store does not make, links and directories in the index
//!   are skipped, never followed; a link or file where a directory of the index belongs is
//!   replaced by a `create` and shows nothing to a listing.
//! - **Older releases**: unbound sessions are written as before (bincode keeps the old layout),
//!   so older and newer processes share them. A bound record is another matter. With bincode (the
//!   default) an older release cannot decode it (one more field): it treats it as a damaged file,
//!   logs a warning, removes it and goes on with a fresh session, so the user is signed out (the
//!   entry left behind is removed by this release); its sweeper leaves bound files and
//!   `subjects/` alone. With JSON an older release reads a bound record without its binding, and
//!   its next write of the session drops the binding: the session stays signed in but leaves its
//!   subject's list, out of reach of "log out everywhere".
//! - **Rollout**: upgrade every process that shares the directory before any of them calls
//!   `Session::bind`; going back to an older release afterwards signs out (bincode) or unlists
//!   (JSON) the bound sessions.
//!
//! # Platform
//!
//! Unix only (Linux, macOS, the BSDs): the store relies on Unix permissions, inode numbers,
//! `O_NOFOLLOW` and the `*at` calls. The path is resolved once, when the store is built: its
//! parents must not be writable by others at that moment, as for any configuration path; after
//! that the store works on the directory it opened, whatever happens to the path.
//! [`FileStore::dir`] and [`FileStore::file_for`] give paths by name, for the application to
//! look at.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use session_core::{Engine, ParamState};
//! use session_core::state::RequestView;
//! use session_store_file::FileStore;
//!
//! # tokio::runtime::Runtime::new().expect("runtime").block_on(async {
//! let dir = tempfile::tempdir().expect("a temporary directory");
//! let sessions = dir.path().join("sessions");
//! let engine = Engine::new(ParamState::default(), FileStore::open(&sessions)?);
//! let no_headers = HeaderMap::new();
//!
//! let session = engine.start(&RequestView::new(&no_headers, None));
//! session.insert("user", "alice").await?;
//! let id = session.save().await?;
//! engine.commit(&session, StatusCode::OK).await?;
//!
//! // A new store on the same directory (a restarted server, another process) sees the session.
//! let engine = Engine::new(ParamState::default(), FileStore::open(&sessions)?);
//! let query = format!("plack_session={}", id.as_str());
//! let session = engine.start(&RequestView::new(&no_headers, Some(&query)));
//! assert_eq!(session.get::<String>("user").await?.as_deref(), Some("alice"));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).expect("the example runs");
//! ```

#[cfg(not(unix))]
compile_error!("session-store-file supports Unix platforms only");

mod blocking;
mod builder;
mod cleanup;
mod core;
mod dir;
mod error;
mod format;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod index;
mod judge;
mod listing;
mod locks;
mod store;
mod sweep_index;
mod sweeper;
mod temp;
#[cfg(test)]
mod tests;

pub use blocking::Blocking;
pub use builder::{
    DEFAULT_STALE_TEMP_AFTER, DEFAULT_SWEEP_BATCH, DEFAULT_SWEEP_EVERY, FileStoreBuilder,
};
pub use cleanup::Cleanup;
pub use error::FileStoreError;
pub use store::FileStore;
