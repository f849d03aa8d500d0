//! session-store-file's integration tests, one test binary with a module per concern.
//!
//! - [`conformance`]: the published conformance kit, with each codec.
//! - [`crash`]: a writer process killed with SIGKILL mid-burst never leaves a torn file.
//! - [`cross_process`]: two processes on one directory lose no write; a racing delete is final;
//!   one ends the sessions per subject the other made.
//! - [`expiry`]: expiry judged on every load, the sweeper, blocking work off the async workers.
//! - [`flood`]: figures (ignored): another session's latency under a flood on one session.
//! - [`hostile`]: bad directories and files give a safe outcome.
//! - [`props`]: property tests of key-level change sets on `FileStore`.
//! - [`subjects`]: sessions per subject: bindings kept, older files read, the index's names and
//!   order, two stores on one directory.
//! - [`subject_sweep`]: the index does not pile up; hostile index entries are never followed.
//! - [`swapped`]: a directory renamed away and replaced while the store runs is never used.
//! - [`common`]: records, keys, and this binary started again as a child process.
//!
//! The child processes of [`crash`] and [`cross_process`] are this binary run again with one
//! ignored test selected by its full name (`crash::crash_writer`, `cross_process::apply_writer`,
//! `cross_process::bound_writer`):
//! moving or renaming those tests means changing the names their parents pass.

mod common;
mod conformance;
mod crash;
mod cross_process;
mod expiry;
mod flood;
mod hostile;
mod props;
mod subject_sweep;
mod subjects;
mod swapped;
