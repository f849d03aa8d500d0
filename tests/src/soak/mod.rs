//! A bounded load soak of a demo server process: many concurrent clients over hundreds of
//! sessions, a client-side model of every acknowledged write, and the server's memory read from
//! `/proc/PID/status` while the load runs.
//!
//! The workload ([`run`]):
//!
//! - [`CLIENTS`] tasks share one keep-alive HTTP client without a cookie jar (each request carries
//!   the `Cookie` header the task writes itself).
//! - Each task owns [`SLOTS_PER_CLIENT`] sessions of its own ("slots") and drives them one request
//!   at a time: `/set` (a value unique to that write, [`VALUE_LEN`] bytes, one of
//!   [`KEYS_PER_SLOT`] keys), `/get` (checked against the model: the last acknowledged value, or a
//!   404), `/login` (the task adopts the id from `Set-Cookie`; the old id must be dead at once and
//!   every key, `user` included, readable under the new one), `/logout` (every key is read back
//!   first; afterwards a `/get` with the old id is a 404, and the slot's next write still sends
//!   the dead id, which must get a fresh id, never the old one back) and `/static`.
//! - [`SHARED_SESSIONS`] sessions are hammered by every task at once, each task on
//!   [`SHARED_KEYS_PER_CLIENT`] keys of its own (distinct keys of one session, concurrently: the
//!   stores apply key-level changes atomically, so no acknowledged write may be lost), with reads
//!   of the task's own keys. Now and then one task takes the session exclusively (the others
//!   wait) to read every key back, then logs it in (a new id, all keys kept) or out (all gone).
//!   The most requests in flight at once on one shared session must be more than one, or the
//!   concurrent writers never overlapped.
//! - Only a 200 acknowledges a write. A non-200 write makes that key's value unknown (it is no
//!   longer checked); any status other than the expected 200 or 404 is an error, a 5xx doubly so.
//! - When the time is up, every acknowledged write of every session that was not logged out is
//!   read back: `missing` counts the values not found or not the last acknowledged one.
//!
//! The number of live sessions is bounded by the design: one per slot and shared session at most
//! (a logout deletes, a login replaces), and each holds at most its keys. So the server's memory
//! must plateau. It is sampled every [`SAMPLE_EVERY`]; the resident size at the end of the run must
//! stay within [`GROWTH_FACTOR`] times plus [`GROWTH_SLACK_MIB`] of the size at half time, and the
//! peak (`VmHWM`) under [`RSS_CAP_MIB`]. Where the store's sessions can be counted from outside
//! (files in the file store's directory, keys in Redis: [`Probe`]), their number must be exactly
//! the number of live sessions in the model.
//!
//! Why these thresholds (debug build, 2 shared cores): the demo idles at about 11 MiB and
//! plateaus at 16-23 MiB within a few seconds (about 220 live sessions of up to 8 values of 8 KiB);
//! over 60-second runs of every store on both frameworks the end-of-run size was at most 1.5 MiB
//! above the half-time size, and at most 1.5 MiB in 8-second runs. The bound allows about 6 MiB at
//! that size, four times the worst seen. A leak of every logged-out session (`SOAK_ABANDON=1`)
//! grows memory by 0.5 (actix-web) to 2.5 (axum) MiB per second here: caught in 8 seconds on axum,
//! in 60 on both (and by the counts at once for files and Redis). The cap is four times the
//! largest peak seen; the same leak passes it within a minute on axum.
//!
//! Environment: `SOAK_SECS` (seconds of load per run, default [`DEFAULT_SECS`]),
//! `SOAK_FRAMEWORKS=all` (every store on both frameworks instead of the one each test names;
//! `axum` or `actix`: every store on that one), `SOAK_TRACE=1` (the resident size second by
//! second after each summary line), and
//! `SOAK_ABANDON=1`, which makes the soak fail on purpose: a logout becomes an abandoned session
//! (the client forgets the id, the server keeps the session for its 24-hour idle timeout), the
//! leak a broken logout would be, so that the memory and count checks can be seen to catch it.
//!
//! The pieces: [`run`] and [`Target`] (the per-store driver, `run.rs`), the client tasks'
//! shared state and checked requests (`client.rs`), the workload on a task's own sessions
//! (`own.rs`) and on the shared ones (`shared.rs`), the client-side model of acknowledged writes
//! (`model.rs`), the server's memory from `/proc` (`sampler.rs`), the store's sessions counted
//! from outside ([`Probe`], `probe.rs`) and the summary line ([`Summary`], `summary.rs`).

use std::time::Duration;

mod client;
mod model;
mod own;
mod probe;
mod run;
mod sampler;
mod shared;
mod summary;

pub use probe::Probe;
pub use run::{Target, run};
pub use summary::Summary;

/// Concurrent client tasks.
pub const CLIENTS: usize = 32;
/// Sessions each task owns and drives alone.
pub const SLOTS_PER_CLIENT: usize = 8;
/// Keys a task's own session may hold (`k0` ..), besides `user`.
pub const KEYS_PER_SLOT: usize = 8;
/// The length of each value written to a task's own sessions.
pub const VALUE_LEN: usize = 8192;
/// Sessions every task writes at once.
pub const SHARED_SESSIONS: usize = 2;
/// Keys each task owns in each shared session.
pub const SHARED_KEYS_PER_CLIENT: usize = 2;
/// Seconds of load per run without `SOAK_SECS`.
pub const DEFAULT_SECS: f64 = 8.0;
/// How often the server's memory is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// The end-of-run resident size may be at most this times the size at half time ...
pub const GROWTH_FACTOR: f64 = 1.1;
/// ... plus this many MiB.
pub const GROWTH_SLACK_MIB: f64 = 4.0;
/// The peak resident size (`VmHWM`) must stay under this many MiB.
pub const RSS_CAP_MIB: f64 = 128.0;
const MIB: f64 = 1024.0 * 1024.0;
/// How long one request may take before the soak fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The frameworks a store's test soaks: `default`, or as `SOAK_FRAMEWORKS` says (`all`, `axum`,
/// `actix`).
pub fn frameworks(default: &'static str) -> Vec<&'static str> {
    match std::env::var("SOAK_FRAMEWORKS").as_deref() {
        Err(_) => vec![default],
        Ok("all" | "both") => vec!["axum", "actix"],
        Ok("axum") => vec!["axum"],
        Ok("actix") => vec!["actix"],
        Ok(other) => panic!("SOAK_FRAMEWORKS={other:?}: expected all, axum or actix"),
    }
}

/// The seconds of load per run: `SOAK_SECS`, or [`DEFAULT_SECS`].
pub fn duration() -> Duration {
    let secs = match std::env::var("SOAK_SECS") {
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .unwrap_or_else(|| panic!("SOAK_SECS={text:?} is not a positive number of seconds")),
        Err(_) => DEFAULT_SECS,
    };
    Duration::from_secs_f64(secs)
}

/// Whether `SOAK_ABANDON` asks for the simulated leak.
fn abandon() -> bool {
    std::env::var("SOAK_ABANDON").is_ok_and(|value| !value.is_empty() && value != "0")
}

/// Whether `SOAK_TRACE` asks for the resident size second by second.
fn trace() -> bool {
    std::env::var_os("SOAK_TRACE").is_some()
}
