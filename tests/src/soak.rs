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

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;
use session_store_redis::redis;

use crate::Reply;
use crate::process::DemoProcess;

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

/// Where the store's sessions can be counted from outside the server.
#[derive(Clone, Debug)]
pub enum Probe {
    /// Nothing to count (memory, cache: inside the server process).
    None,
    /// The file store's directory: one file named by 64 hex digits per session.
    Files(PathBuf),
    /// The Redis at this URL: one key per session.
    Redis(String),
}

impl Probe {
    /// How many sessions the store holds, if it can be counted.
    async fn count(&self) -> Option<usize> {
        match self {
            Probe::None => None,
            Probe::Files(dir) => Some(
                std::fs::read_dir(dir)
                    .expect("read the session directory")
                    .filter_map(Result::ok)
                    .filter(|entry| {
                        let name = entry.file_name();
                        let name = name.to_string_lossy();
                        name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
                    })
                    .count(),
            ),
            Probe::Redis(url) => {
                let mut connection = crate::redis::connection(url).await;
                let size: usize = redis::cmd("DBSIZE")
                    .query_async(&mut connection)
                    .await
                    .expect("DBSIZE");
                Some(size)
            }
        }
    }

    /// What is measured, for the summary line.
    fn label(&self) -> &'static str {
        match self {
            Probe::None => "",
            Probe::Files(_) => " files=",
            Probe::Redis(_) => " redis_keys=",
        }
    }
}

/// One soak run: a demo process with these options, on one framework.
#[derive(Clone, Debug)]
pub struct Target {
    /// The store's name, for the summary line.
    pub store: &'static str,
    /// `axum` or `actix`.
    pub framework: &'static str,
    /// The demo's options besides `--framework` and `--addr`.
    pub words: Vec<String>,
    /// How to count the store's sessions from outside.
    pub probe: Probe,
}

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

/// One run at a time in a test binary: each gets the machine to itself, so its figures mean
/// something (the runs would otherwise share the cores, and the timings with them).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The seconds of load.
    pub secs: f64,
    /// Requests sent during the load and the final check.
    pub requests: u64,
    /// Writes answered 200.
    pub writes: u64,
    /// Logins answered 200.
    pub logins: u64,
    /// Logouts answered 200 (abandoned sessions with `SOAK_ABANDON`).
    pub logouts: u64,
    /// Acknowledged values not read back as the last acknowledged value.
    pub missing: u64,
    /// Values found where none was expected (e.g. after a logout).
    pub phantom: u64,
    /// Unexpected statuses and protocol anomalies (5xx included).
    pub errors: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// The most requests in flight at once on one shared session.
    pub max_concurrent: usize,
    /// Resident size at half time, MiB.
    pub rss_warm: f64,
    /// Resident size at the end of the load, MiB.
    pub rss_end: f64,
    /// Peak resident size (`VmHWM`) at the end of the load, MiB.
    pub hwm: f64,
    /// Sessions the model holds at the end, and what the probe counted.
    pub live: (usize, Option<usize>),
}

/// Runs one soak of `target` for [`duration`], prints its summary line (`eprintln!`), and fails
/// unless: no 5xx and no other unexpected answer, nothing missing, memory bounded, and the store
/// holding exactly the live sessions where that can be counted.
pub async fn run(target: &Target) -> Summary {
    let _alone = ONE_AT_A_TIME.lock().await;
    let secs = duration();
    let abandon = abandon();
    let mut words: Vec<&str> = vec!["--framework", target.framework];
    words.extend(target.words.iter().map(String::as_str));
    let server = DemoProcess::start(&words);
    let sampler = Sampler::start(server.pid());
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(2 * CLIENTS)
        // Under actix-web's keep-alive (5 s): a connection the server is closing for idleness
        // just as a request goes out on it would fail that request (an HTTP/1.1 race, not the
        // server's fault).
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .expect("a client");
    let soak = Arc::new(Soak {
        server,
        client,
        stats: Stats::default(),
        shared: (0..SHARED_SESSIONS).map(|_| Shared::default()).collect(),
        abandon,
        notes: Mutex::new(Vec::new()),
    });

    let started = Instant::now();
    let deadline = started + secs;
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..CLIENTS {
        let soak = soak.clone();
        tasks.spawn(async move { soak.client_task(task, deadline).await });
    }
    let mut live = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(slots_alive) => live += slots_alive,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("a client task: {error}"),
        }
    }
    for shared in &soak.shared {
        live += usize::from(soak.verify_shared(shared).await);
    }
    let samples = sampler.stop();
    let counted = target.probe.count().await;

    let stats = &soak.stats;
    let load_end = secs.as_secs_f64();
    let rss_warm = samples.rss_near(load_end / 2.0);
    let rss_end = samples.rss_near(load_end);
    let hwm = samples.hwm_until(load_end);
    let summary = Summary {
        secs: load_end,
        requests: stats.requests.load(Ordering::Relaxed),
        writes: stats.writes.load(Ordering::Relaxed),
        logins: stats.logins.load(Ordering::Relaxed),
        logouts: stats.logouts.load(Ordering::Relaxed),
        missing: stats.missing.load(Ordering::Relaxed),
        phantom: stats.phantom.load(Ordering::Relaxed),
        errors: stats.errors.load(Ordering::Relaxed),
        server_errors: stats.server_errors.load(Ordering::Relaxed),
        max_concurrent: stats.max_concurrent.load(Ordering::Relaxed),
        rss_warm,
        rss_end,
        hwm,
        live: (live, counted),
    };
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "soak store={} framework={} secs={:.0} requests={} req/s={:.0} writes_acked={} \
         logins={} logouts={}{} logged_out_data={:.1}MiB missing={} phantom={} errors={} (5xx={}) \
         max_writers_on_one_session={} live_sessions={}{}{} rss_warm={:.1}MiB \
         rss_end={:.1}MiB vm_hwm={:.1}MiB",
        target.store,
        target.framework,
        summary.secs,
        summary.requests,
        summary.requests as f64 / elapsed,
        summary.writes,
        summary.logins,
        summary.logouts,
        if abandon { " (abandoned)" } else { "" },
        stats.dropped.load(Ordering::Relaxed) as f64 / MIB,
        summary.missing,
        summary.phantom,
        summary.errors,
        summary.server_errors,
        summary.max_concurrent,
        live,
        target.probe.label(),
        counted.map_or_else(String::new, |n| n.to_string()),
        rss_warm,
        rss_end,
        hwm,
    );
    if std::env::var_os("SOAK_TRACE").is_some() {
        eprintln!(
            "soak store={} rss by second: {}",
            target.store,
            samples.show()
        );
    }
    let notes = soak.notes.lock().expect("notes").join("\n  ");
    let what = format!("{} on {}", target.store, target.framework);
    assert_eq!(summary.server_errors, 0, "{what}: 5xx answers:\n  {notes}");
    assert_eq!(summary.errors, 0, "{what}: unexpected answers:\n  {notes}");
    assert_eq!(
        summary.missing, 0,
        "{what}: acknowledged writes lost:\n  {notes}"
    );
    assert_eq!(
        summary.phantom, 0,
        "{what}: data that should be gone:\n  {notes}"
    );
    assert!(
        summary.writes > 0 && summary.logins > 0 && summary.logouts > 0,
        "{what}: the load did not exercise every operation: {summary:?}"
    );
    if let Some(counted) = counted {
        assert_eq!(
            counted, live,
            "{what}: the store holds {counted} sessions, the clients {live}"
        );
    }
    let bound = GROWTH_FACTOR * rss_warm + GROWTH_SLACK_MIB;
    assert!(
        rss_end <= bound,
        "{what}: the server's memory grew from {rss_warm:.1} MiB at half time to {rss_end:.1} MiB \
         at the end (bound {bound:.1} MiB); samples (s, MiB): {}",
        samples.show()
    );
    assert!(
        hwm <= RSS_CAP_MIB,
        "{what}: the server's peak memory {hwm:.1} MiB is over {RSS_CAP_MIB} MiB"
    );
    summary
}

/// Counters shared by the client tasks.
#[derive(Debug, Default)]
struct Stats {
    requests: AtomicU64,
    writes: AtomicU64,
    logins: AtomicU64,
    logouts: AtomicU64,
    /// Bytes of values in the sessions logged out (what a leak of them would keep).
    dropped: AtomicU64,
    missing: AtomicU64,
    phantom: AtomicU64,
    errors: AtomicU64,
    server_errors: AtomicU64,
    max_concurrent: AtomicUsize,
}

/// A session one task drives alone, and what the server acknowledged of it.
#[derive(Debug, Default)]
struct Slot {
    /// The live id, if the slot has a session.
    id: Option<String>,
    /// The id logged out last, sent with the next write (it must not be adopted).
    dead: Option<String>,
    /// Key -> last acknowledged value.
    data: HashMap<String, String>,
    /// Keys whose last write was not acknowledged: their value is unknown.
    unknown: HashSet<String>,
}

/// A session every task writes at once.
#[derive(Debug, Default)]
struct Shared {
    /// The id: writers hold it shared, a login or logout exclusively.
    id: tokio::sync::RwLock<Slot>,
    /// Key -> last acknowledged value (each key is written by one task only).
    data: Mutex<HashMap<String, String>>,
    /// Keys whose value is unknown.
    unknown: Mutex<HashSet<String>>,
    /// Requests in flight on this session.
    in_flight: AtomicUsize,
}

/// What the client tasks share.
#[derive(Debug)]
struct Soak {
    server: DemoProcess,
    client: reqwest::Client,
    stats: Stats,
    shared: Vec<Shared>,
    abandon: bool,
    /// The first anomalies, for the failure message.
    notes: Mutex<Vec<String>>,
}

/// What a read of one key should find.
enum Expect<'a> {
    Value(&'a str),
    Nothing,
    Unknown,
}

impl Soak {
    /// One client task until `deadline`, then a read back of its sessions; returns how many of
    /// its sessions are alive.
    async fn client_task(&self, task: usize, deadline: Instant) -> usize {
        let mut rng = Rng::new();
        let mut slots: Vec<Slot> = (0..SLOTS_PER_CLIENT).map(|_| Slot::default()).collect();
        let mut seq = 0u64;
        while Instant::now() < deadline {
            seq += 1;
            if rng.below(100) < 35 {
                let shared = &self.shared[rng.below(SHARED_SESSIONS)];
                self.shared_op(shared, task, seq, &mut rng).await;
            } else {
                let slot = &mut slots[rng.below(SLOTS_PER_CLIENT)];
                self.slot_op(slot, task, seq, &mut rng).await;
            }
        }
        for slot in &slots {
            self.verify_slot(slot).await;
        }
        slots.iter().filter(|slot| slot.id.is_some()).count()
    }

    /// One operation on a task's own session.
    async fn slot_op(&self, slot: &mut Slot, task: usize, seq: u64, rng: &mut Rng) {
        let dice = rng.below(100);
        if slot.id.is_none() || dice < 45 {
            let key = format!("k{}", rng.below(KEYS_PER_SLOT));
            self.slot_set(slot, &key, &value(task, seq, VALUE_LEN))
                .await;
        } else if dice < 70 {
            let key = match rng.below(KEYS_PER_SLOT + 1) {
                KEYS_PER_SLOT => "user".to_owned(),
                n => format!("k{n}"),
            };
            let id = slot.id.clone();
            self.check(id.as_deref(), &key, slot.expect(&key)).await;
        } else if dice < 78 {
            self.slot_login(slot).await;
        } else if dice < 98 {
            self.slot_logout(slot).await;
        } else {
            let reply = self.get("/static", None).await;
            self.expect_status(&reply, StatusCode::OK, "/static");
        }
    }

    /// `/set/KEY/VALUE` on a task's own session.
    async fn slot_set(&self, slot: &mut Slot, key: &str, value: &str) {
        let sent = slot.id.clone().or_else(|| slot.dead.take());
        let reply = self
            .get(&format!("/set/{key}/{value}"), sent.as_deref())
            .await;
        if !self.expect_status(&reply, StatusCode::OK, "/set") {
            slot.data.remove(key);
            slot.unknown.insert(key.to_owned());
            return;
        }
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        let given = reply.new_id();
        match (&slot.id, given) {
            (None, Some(given)) => {
                if sent.as_deref() == Some(given.as_str()) {
                    self.error("a logged-out id was given back by a write".into());
                }
                slot.id = Some(given);
            }
            (None, None) => {
                self.error("the first write of a session set no cookie".into());
                return;
            }
            (Some(id), Some(given)) if *id != given => {
                // The server started over: everything acknowledged before is lost.
                self.lost(
                    slot.data.len(),
                    "a write to a live session got a new id".into(),
                );
                slot.data.clear();
                slot.unknown.clear();
                slot.id = Some(given);
            }
            (Some(_), _) => {}
        }
        slot.data.insert(key.to_owned(), value.to_owned());
    }

    /// `/login` on a task's own session: a new id, the old one dead, the data kept.
    async fn slot_login(&self, slot: &mut Slot) {
        let old = slot.id.clone().expect("a live session");
        let reply = self.get("/login", Some(&old)).await;
        if !self.expect_status(&reply, StatusCode::OK, "/login") {
            *slot = Slot::default();
            return;
        }
        let Some(new) = reply.new_id().filter(|new| *new != old) else {
            self.error(format!("a login gave no new id: {:?}", reply.headers));
            *slot = Slot::default();
            return;
        };
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        slot.id = Some(new);
        slot.data.insert("user".into(), "demo-user".into());
        slot.unknown.remove("user");
        self.check(Some(&old), "user", Expect::Nothing).await;
        self.verify_slot(slot).await;
    }

    /// `/logout` on a task's own session, after reading every key back; afterwards nothing is
    /// left under the old id. With `SOAK_ABANDON`, the session is forgotten instead.
    async fn slot_logout(&self, slot: &mut Slot) {
        self.verify_slot(slot).await;
        let old = slot.id.take().expect("a live session");
        let probe_key = slot.data.keys().next().cloned();
        let bytes: usize = slot.data.values().map(String::len).sum();
        self.stats
            .dropped
            .fetch_add(bytes as u64, Ordering::Relaxed);
        slot.data.clear();
        slot.unknown.clear();
        if self.abandon {
            self.stats.logouts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let reply = self.get("/logout", Some(&old)).await;
        if !self.expect_status(&reply, StatusCode::OK, "/logout") {
            return;
        }
        if !reply.session_cookie().is_some_and(|c| c.is_removal()) {
            self.error(format!(
                "a logout sent no removal cookie: {:?}",
                reply.headers
            ));
        }
        self.stats.logouts.fetch_add(1, Ordering::Relaxed);
        let key = probe_key.unwrap_or_else(|| "user".into());
        self.check(Some(&old), &key, Expect::Nothing).await;
        slot.dead = Some(old);
    }

    /// Reads every key of a task's session back.
    async fn verify_slot(&self, slot: &Slot) {
        let Some(id) = slot.id.as_deref() else { return };
        for (key, value) in &slot.data {
            self.check(Some(id), key, Expect::Value(value)).await;
        }
    }

    /// One operation on a shared session: a write or a read of this task's own key under the
    /// shared lock, or now and then a read back and a login or logout under the exclusive one.
    async fn shared_op(&self, shared: &Shared, task: usize, seq: u64, rng: &mut Rng) {
        let key = format!("t{task}s{}", rng.below(SHARED_KEYS_PER_CLIENT));
        let dice = rng.below(1000);
        if dice < 4 {
            let mut session = shared.id.write().await;
            if self.verify_shared_locked(shared, &session).await && !self.abandon {
                if dice.is_multiple_of(2) {
                    self.shared_login(shared, &mut session).await;
                } else {
                    self.shared_logout(shared, &mut session).await;
                }
            }
            return;
        }
        let session = shared.id.read().await;
        let Some(id) = session.id.clone() else {
            drop(session);
            // No session yet: the first write creates it, alone.
            let mut session = shared.id.write().await;
            if session.id.is_none() {
                self.shared_create(shared, &mut session, &key, &value(task, seq, 24))
                    .await;
            }
            return;
        };
        let now = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.max_concurrent.fetch_max(now, Ordering::Relaxed);
        if dice < 800 {
            let value = value(task, seq, 24);
            let reply = self.get(&format!("/set/{key}/{value}"), Some(&id)).await;
            if self.expect_status(&reply, StatusCode::OK, "/set (shared)") {
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
                if reply.new_id().is_some_and(|given| given != id) {
                    self.error("a write to a live shared session got a new id".into());
                }
                shared.data.lock().expect("model").insert(key, value);
            } else {
                shared.data.lock().expect("model").remove(&key);
                shared.unknown.lock().expect("model").insert(key);
            }
        } else {
            let expected = shared.data.lock().expect("model").get(&key).cloned();
            let unknown = shared.unknown.lock().expect("model").contains(&key);
            let expect = match (&expected, unknown) {
                (Some(value), _) => Expect::Value(value),
                (None, true) => Expect::Unknown,
                (None, false) => Expect::Nothing,
            };
            self.check(Some(&id), &key, expect).await;
        }
        shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The first write of a shared session (under the exclusive lock).
    async fn shared_create(&self, shared: &Shared, session: &mut Slot, key: &str, value: &str) {
        let sent = session.dead.take();
        let reply = self
            .get(&format!("/set/{key}/{value}"), sent.as_deref())
            .await;
        if !self.expect_status(&reply, StatusCode::OK, "/set (new shared)") {
            return;
        }
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        match reply.new_id() {
            Some(given) if sent.as_deref() == Some(given.as_str()) => {
                self.error("a logged-out shared id was given back by a write".into());
            }
            Some(given) => {
                session.id = Some(given);
                let mut data = shared.data.lock().expect("model");
                data.clear();
                data.insert(key.to_owned(), value.to_owned());
                shared.unknown.lock().expect("model").clear();
            }
            None => self.error("the first write of a shared session set no cookie".into()),
        }
    }

    /// `/login` on a shared session (under the exclusive lock).
    async fn shared_login(&self, shared: &Shared, session: &mut Slot) {
        let Some(old) = session.id.clone() else {
            return;
        };
        let reply = self.get("/login", Some(&old)).await;
        if !self.expect_status(&reply, StatusCode::OK, "/login (shared)") {
            session.id = None;
            return;
        }
        let Some(new) = reply.new_id().filter(|new| *new != old) else {
            self.error("a shared login gave no new id".into());
            session.id = None;
            return;
        };
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        session.id = Some(new);
        shared
            .data
            .lock()
            .expect("model")
            .insert("user".into(), "demo-user".into());
        self.check(Some(&old), "user", Expect::Nothing).await;
        self.verify_shared_locked(shared, session).await;
    }

    /// `/logout` on a shared session (under the exclusive lock).
    async fn shared_logout(&self, shared: &Shared, session: &mut Slot) {
        let Some(old) = session.id.take() else {
            return;
        };
        let reply = self.get("/logout", Some(&old)).await;
        shared.data.lock().expect("model").clear();
        shared.unknown.lock().expect("model").clear();
        if !self.expect_status(&reply, StatusCode::OK, "/logout (shared)") {
            return;
        }
        self.stats.logouts.fetch_add(1, Ordering::Relaxed);
        self.check(Some(&old), "user", Expect::Nothing).await;
        session.dead = Some(old);
    }

    /// Reads every key of a shared session back (the caller holds its lock, so nobody writes);
    /// returns whether the session is alive.
    async fn verify_shared_locked(&self, shared: &Shared, session: &Slot) -> bool {
        let Some(id) = session.id.as_deref() else {
            return false;
        };
        let data = shared.data.lock().expect("model").clone();
        for (key, value) in &data {
            self.check(Some(id), key, Expect::Value(value)).await;
        }
        true
    }

    /// The final read back of a shared session; returns whether it is alive.
    async fn verify_shared(&self, shared: &Shared) -> bool {
        let session = shared.id.read().await;
        self.verify_shared_locked(shared, &session).await
    }

    /// `/get/KEY` with `id`, compared with what the model expects.
    async fn check(&self, id: Option<&str>, key: &str, expect: Expect<'_>) {
        let reply = self.get(&format!("/get/{key}"), id).await;
        match (expect, reply.status) {
            (Expect::Value(value), StatusCode::OK) if reply.body == value => {}
            (Expect::Value(value), StatusCode::OK | StatusCode::NOT_FOUND) => self.lost(
                1,
                format!(
                    "{key}: expected {}, got {} {}",
                    short(value),
                    reply.status,
                    short(&reply.body)
                ),
            ),
            (Expect::Nothing, StatusCode::NOT_FOUND) => {}
            (Expect::Nothing, StatusCode::OK) => {
                self.stats.phantom.fetch_add(1, Ordering::Relaxed);
                self.note(format!(
                    "{key}: expected nothing, got {}",
                    short(&reply.body)
                ));
            }
            (Expect::Unknown, StatusCode::OK | StatusCode::NOT_FOUND) => {}
            (_, status) => self.error(format!("/get/{key}: {status} {}", short(&reply.body))),
        }
    }

    /// `GET path` with the session cookie `id`, counted; a 5xx is counted and noted here.
    async fn get(&self, path: &str, id: Option<&str>) -> Reply {
        let reply = self.server.get(&self.client, path, id).await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if reply.status.is_server_error() {
            self.stats.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        reply
    }

    /// Whether `reply` has the status `expected`; an error otherwise.
    fn expect_status(&self, reply: &Reply, expected: StatusCode, what: &str) -> bool {
        if reply.status == expected {
            return true;
        }
        self.error(format!("{what}: {} {}", reply.status, short(&reply.body)));
        false
    }

    fn error(&self, what: String) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        self.note(what);
    }

    fn lost(&self, count: usize, what: String) {
        self.stats
            .missing
            .fetch_add(count as u64, Ordering::Relaxed);
        self.note(what);
    }

    /// Keeps the first anomalies for the failure message.
    fn note(&self, what: String) {
        let mut notes = self.notes.lock().expect("notes");
        if notes.len() < 20 {
            notes.push(what);
        }
    }
}

impl Slot {
    /// What a read of `key` should find.
    fn expect(&self, key: &str) -> Expect<'_> {
        match self.data.get(key) {
            Some(value) => Expect::Value(value),
            None if self.unknown.contains(key) => Expect::Unknown,
            None => Expect::Nothing,
        }
    }
}

/// A value unique to this write (task and sequence number), padded to `len` bytes.
fn value(task: usize, seq: u64, len: usize) -> String {
    let mut value = String::with_capacity(len);
    let _ = write!(value, "{task}-{seq}-");
    while value.len() < len {
        value.push(char::from(b'a' + (value.len() % 26) as u8));
    }
    value
}

/// The start of `text`, for messages.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A small pseudo-random generator (splitmix64), seeded differently for every task.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Rng(RandomState::new().hash_one(0u8))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n as u64) as usize
    }
}

/// The server's memory, sampled from `/proc/PID/status` on a thread of its own.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Samples>>,
}

/// (seconds since the start, VmRSS MiB, VmHWM MiB).
struct Samples(Vec<(f64, f64, f64)>);

impl Sampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                if let Some((rss, hwm)) = status(pid) {
                    samples.push((started.elapsed().as_secs_f64(), rss, hwm));
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            Samples(samples)
        });
        Sampler {
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("a running sampler");
        thread.join().expect("the sampler")
    }
}

impl Drop for Sampler {
    /// Stops the thread when a run fails before [`Sampler::stop`].
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Samples {
    /// The median resident size of the samples in the second before `at` (seconds).
    fn rss_near(&self, at: f64) -> f64 {
        let mut near: Vec<f64> = self
            .0
            .iter()
            .filter(|(t, _, _)| *t <= at && *t >= at - 1.0)
            .map(|(_, rss, _)| *rss)
            .collect();
        assert!(!near.is_empty(), "no memory sample near {at:.1} s");
        near.sort_by(f64::total_cmp);
        near[near.len() / 2]
    }

    /// The peak resident size up to `at` (seconds).
    fn hwm_until(&self, at: f64) -> f64 {
        self.0
            .iter()
            .filter(|(t, _, _)| *t <= at)
            .map(|(_, _, hwm)| *hwm)
            .fold(0.0, f64::max)
    }

    /// Every second's sample, for a failure message.
    fn show(&self) -> String {
        let mut text = String::new();
        let mut next = 0.0;
        for (t, rss, _) in &self.0 {
            if *t >= next {
                let _ = write!(text, "{t:.0}:{rss:.1} ");
                next = t.floor() + 1.0;
            }
        }
        text
    }
}

/// `VmRSS` and `VmHWM` of `pid` in MiB, if the process is there.
fn status(pid: u32) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = text.lines().find(|line| line.starts_with(name))?;
        let kib: f64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
