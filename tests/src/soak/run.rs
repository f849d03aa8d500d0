//! [`run`]: one soak of one store on one framework ([`Target`]), from the process to the verdict.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{Soak, Stats};
use super::model::Shared;
use super::probe::Probe;
use super::sampler::Sampler;
use super::summary::Summary;
use super::{
    CLIENTS, GROWTH_FACTOR, GROWTH_SLACK_MIB, REQUEST_TIMEOUT, RSS_CAP_MIB, SHARED_SESSIONS,
    abandon, duration, trace,
};
use crate::process::DemoProcess;

/// One soak run: a demo process with these options, on one framework.
#[derive(Clone, Debug)]
pub struct Target {
    /// The test binary's ignored test that serves the demo in the child process, by its full name
    /// (see [`DemoProcess::start`]).
    pub entry: &'static str,
    /// The store's name, for the summary line.
    pub store: &'static str,
    /// `axum` or `actix`.
    pub framework: &'static str,
    /// The demo's options besides `--framework` and `--addr`.
    pub words: Vec<String>,
    /// How to count the store's sessions from outside.
    pub probe: Probe,
}

/// One run at a time in a test binary: each gets the machine to itself, so its figures mean
/// something (the runs would otherwise share the cores, and the timings with them).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs one soak of `target` for [`duration`], prints its summary line (`eprintln!`), and fails
/// unless: no 5xx and no other unexpected answer, nothing missing, every operation exercised,
/// concurrent writers on one shared session, memory bounded, and the store holding exactly the
/// live sessions where that can be counted.
pub async fn run(target: &Target) -> Summary {
    let _alone = ONE_AT_A_TIME.lock().await;
    let secs = duration();
    let abandon = abandon();
    let mut words: Vec<&str> = vec!["--framework", target.framework];
    words.extend(target.words.iter().map(String::as_str));
    let server = DemoProcess::start(target.entry, &words);
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
    let summary = Summary::new(stats, secs.as_secs_f64(), &samples, (live, counted));
    let elapsed = started.elapsed().as_secs_f64();
    let dropped = stats.dropped.load(Ordering::Relaxed);
    eprintln!("{}", summary.line(target, elapsed, abandon, dropped));
    if trace() {
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
    assert!(
        summary.max_concurrent > 1,
        "{what}: at most {} request was ever in flight on one shared session at a time, so the \
         concurrent writers on distinct keys of one session never overlapped and that part of the \
         soak did not happen: {summary:?}",
        summary.max_concurrent
    );
    if let Some(counted) = counted {
        assert_eq!(
            counted, live,
            "{what}: the store holds {counted} sessions, the clients {live}"
        );
    }
    let (rss_warm, rss_end, hwm) = (summary.rss_warm, summary.rss_end, summary.hwm);
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
