//! Figures, not a test (nothing is timed against a bound): the latency of writes to one session
//! while hundreds of requests write another session at once, on a multi-thread runtime with
//! Tokio's default blocking pool (512 threads). Run it by hand, optimised:
//!
//! ```text
//! cargo test -p session-store-file --release --test it flood -- --ignored --nocapture
//! ```
//!
//! `FLOOD_WRITERS` (default 900) and `FLOOD_SAMPLES` (default 200) change the sizes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use session_core::Value;
use session_core::store::{Changes, Key, Record, Store};
use session_store_file::FileStore;

use crate::common::{key, live};

fn setting(record: &Record, name: &str) -> Changes {
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.updates.push((
        name.into(),
        Some(Value::from_serialize(name).expect("json")),
    ));
    changes
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `samples` writes to `key`, one after another: their latencies, sorted.
async fn latencies(store: &FileStore, key: Key, record: &Record, samples: usize) -> Vec<Duration> {
    let changes = setting(record, "quiet");
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        assert!(store.apply(&key, &changes).await.expect("apply"));
        out.push(start.elapsed());
    }
    out.sort();
    out
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// `samples` writes to `other` while `writers` tasks keep writing `hot`: their latencies, sorted,
/// and the hot session's writes per second meanwhile.
async fn under_flood(
    store: &FileStore,
    (hot, other): (Key, Key),
    record: &Record,
    writers: usize,
    samples: usize,
) -> (Vec<Duration>, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let hot_writes = Arc::new(AtomicUsize::new(0));
    let flood: Vec<_> = (0..writers)
        .map(|n| {
            let (store, stop, hot_writes) =
                (store.clone(), Arc::clone(&stop), Arc::clone(&hot_writes));
            let changes = setting(record, &format!("w{n}"));
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    assert!(store.apply(&hot, &changes).await.expect("apply"));
                    hot_writes.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Let every flood writer reach the store.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start, before) = (Instant::now(), hot_writes.load(Ordering::Relaxed));
    let measured = latencies(store, other, record, samples).await;
    let rate = (hot_writes.load(Ordering::Relaxed) - before) as f64 / start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for writer in flood {
        writer.await.expect("flood writer");
    }
    (measured, rate)
}

#[test]
#[ignore = "prints figures; run by hand (see the module docs)"]
fn another_sessions_latency_under_a_flood_on_one_session() {
    let writers = env("FLOOD_WRITERS", 900);
    let samples = env("FLOOD_SAMPLES", 200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::open(dir.path()).expect("open");
        let record = live(&[]);
        let keys = (key(1), key(2));
        assert!(store.create(&keys.0, &record).await.expect("create"));
        assert!(store.create(&keys.1, &record).await.expect("create"));

        println!(
            "another session's write (apply), {samples} samples, 2 workers, default blocking pool:"
        );
        let quiet = latencies(&store, keys.1, &record, samples).await;
        println!(
            "  nothing else running:            p50 {:>10.2?}  p99 {:>10.2?}",
            percentile(&quiet, 50),
            percentile(&quiet, 99)
        );
        // One writer on the hot session: the same disk activity (fsyncs of another file)
        // without the crowd, since concurrent fsyncs share journal commits.
        for crowd in [1, writers] {
            let (measured, rate) = under_flood(&store, keys, &record, crowd, samples).await;
            println!(
                "  {crowd:>4} writer(s) on the hot session: p50 {:>10.2?}  p99 {:>10.2?}  (hot: {rate:.0} writes/s)",
                percentile(&measured, 50),
                percentile(&measured, 99)
            );
        }
    });
}
