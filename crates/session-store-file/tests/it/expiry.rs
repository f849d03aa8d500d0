//! Expiry judged from the record on every load, the sweeper, and blocking work kept off the async
//! workers.

use std::time::Duration;

use session_core::store::{ManualClock, Store};
use session_store_file::FileStore;

use crate::common::{cleanup, expired, key, live};

#[tokio::test]
async fn expiry_is_judged_on_load_and_expired_files_are_reclaimed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .open(dir.path())
        .expect("open");
    let record = live(&[("a", "1")]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(record.clone())
    );
    // The file's time (mtime) plays no part: only the record's expiry, on the store's clock.
    clock.set(record.expires);
    assert_eq!(store.load(&key(1)).await.expect("load"), None);
    assert!(
        !store.file_for(&key(1)).exists(),
        "an expired hit is reclaimed"
    );
    assert!(
        !store
            .apply(&key(1), &Default::default())
            .await
            .expect("apply")
    );
}

#[tokio::test]
async fn cleanup_removes_expired_and_stale_temp_files_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::builder()
        .stale_temp_after(Duration::from_secs(3600))
        .open(dir.path())
        .expect("open");
    for n in 0..5 {
        assert!(store.create(&key(n), &live(&[])).await.expect("create"));
    }
    for n in 5..8 {
        assert!(store.create(&key(n), &expired()).await.expect("create"));
    }
    // A temporary file left by a writer that died an hour ago, and one being written right now.
    let stale = store.dir().join(".tmp-stale");
    let fresh = store.dir().join(".tmp-fresh");
    std::fs::write(&stale, b"partial").expect("write");
    std::fs::write(&fresh, b"partial").expect("write");
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3700);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .and_then(|f| f.set_modified(an_hour_ago))
        .expect("age the file");

    let report = store.cleanup().expect("cleanup");
    assert_eq!(
        (report.expired, report.stale_temp, report.damaged),
        (3, 1, 0),
        "{report:?}"
    );
    assert!(!stale.exists() && fresh.exists());
    for n in 0..5 {
        assert!(store.file_for(&key(n)).exists(), "a live session was swept");
    }
    for n in 5..8 {
        assert!(
            !store.file_for(&key(n)).exists(),
            "an expired session stayed"
        );
    }
    assert_eq!(store.cleanup().expect("cleanup").expired, 0, "nothing left");
}

#[tokio::test]
async fn spawn_cleanup_runs_and_ends_with_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .background_sweeper(false)
        .open(dir.path())
        .expect("open");
    let record = live(&[]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    let sweeper = store.spawn_cleanup(Duration::from_millis(20));
    clock.set(record.expires.saturating_add(Duration::from_secs(1)));
    let path = store.file_for(&key(1));
    // Waits for the sweeper (a generous bound, not a speed check).
    for _ in 0..3000 {
        if !path.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!path.exists(), "the sweeper removed the expired file");
    drop(store);
    sweeper
        .await
        .expect("the sweeper ends once the store is gone");
}

/// Waits (a generous bound, not a speed check) until the sweeper thread has removed `path`,
/// blocking this thread: the sweeper needs nothing from the test's runtime.
fn swept_by_the_thread(path: &std::path::Path) -> bool {
    for _ in 0..3000 {
        if !path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    !path.exists()
}

/// A store built inside a Tokio runtime sweeps its directory by itself (nothing started by the
/// application). That the sweeper ends with the store is a unit test (`sweeper_thread_ends_...`).
#[tokio::test]
async fn a_store_built_in_a_runtime_sweeps_by_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .sweep_every(Duration::from_millis(20))
        .open(dir.path())
        .expect("open");
    let record = live(&[]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    clock.set(record.expires);
    assert!(
        swept_by_the_thread(&store.file_for(&key(1))),
        "nothing swept the expired file"
    );
}

/// The sweeper needs no runtime timer: a store built on a runtime without one (`enable_time` off)
/// still sweeps, and nothing panics.
#[test]
fn a_store_built_on_a_runtime_without_a_timer_sweeps_too() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime without its timer");
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::starting_now();
    let store = runtime.block_on(async {
        FileStore::builder()
            .clock(clock.clone())
            .sweep_every(Duration::from_millis(20))
            .open(dir.path())
            .expect("open")
    });
    let record = live(&[]);
    assert!(store.blocking().create(&key(1), &record).expect("create"));
    clock.set(record.expires);
    assert!(
        swept_by_the_thread(&store.file_for(&key(1))),
        "nothing swept the expired file"
    );
}

/// The background sweeper can be turned off: an expired file then stays until something removes
/// it.
#[tokio::test]
async fn the_background_sweeper_can_be_turned_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .sweep_every(Duration::from_millis(10))
        .background_sweeper(false)
        .open(dir.path())
        .expect("open");
    let record = live(&[]);
    assert!(store.create(&key(1), &record).await.expect("create"));
    clock.set(record.expires);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        store.file_for(&key(1)).exists(),
        "swept with the sweeper off"
    );
    assert_eq!(store.cleanup().expect("cleanup").expired, 1);
}

/// A session locked by another holder (another process, here this thread) makes `apply` wait,
/// and on a single-threaded runtime the wait must not stall the runtime: the task that releases
/// the lock still runs. Were the I/O done on the worker, this would deadlock (caught by the
/// watchdog below rather than hanging).
#[test]
fn blocking_io_stays_off_the_async_worker() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = FileStore::open(dir.path()).expect("open");
            assert!(store.create(&key(1), &live(&[])).await.expect("create"));
            let holder = std::fs::File::open(store.file_for(&key(1))).expect("open");
            holder.lock().expect("lock");
            let applying = tokio::spawn({
                let store = store.clone();
                async move { store.apply(&key(1), &Default::default()).await }
            });
            // Give the apply time to reach the lock; then release it from this (async) task.
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(holder);
            applying.await.expect("task").expect("apply")
        });
        let _ = done.send(outcome);
    });
    let applied = finished
        .recv_timeout(Duration::from_secs(120))
        .expect("the runtime stalled: the store blocked its only worker");
    assert!(applied);
}

/// A load never waits for a lock: an expired file whose lock another writer holds is reported
/// as no session at once and left for later; the sweeper removes it once the lock is free.
#[tokio::test(flavor = "multi_thread")]
async fn a_load_never_waits_for_a_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .open(dir.path())
        .expect("open");
    let record = live(&[("a", "1")]);
    store.create(&key(9), &record).await.expect("create");
    clock.set(record.expires);
    // Another writer (here: this test) holds the file's lock.
    let held = std::fs::File::open(store.file_for(&key(9))).expect("open");
    held.lock().expect("lock");
    let loaded = tokio::time::timeout(Duration::from_secs(10), store.load(&key(9)))
        .await
        .expect("the load waited for the lock");
    assert_eq!(loaded.expect("load"), None);
    assert!(store.file_for(&key(9)).exists(), "left for later");
    drop(held);
    let report = cleanup(&store).await;
    assert_eq!(report.expired, 1, "{report:?}");
    assert!(!store.file_for(&key(9)).exists());
}

/// With `loads_in_place`, loads from a multi-thread runtime's tasks give the same answers.
#[tokio::test(flavor = "multi_thread")]
async fn loads_in_place_give_the_same_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::builder()
        .loads_in_place(true)
        .open(dir.path())
        .expect("open");
    let record = live(&[("a", "1")]);
    store.create(&key(10), &record).await.expect("create");
    let task = tokio::spawn({
        let store = store.clone();
        async move { store.load(&key(10)).await }
    });
    assert_eq!(task.await.expect("task").expect("load"), Some(record));
    assert_eq!(store.load(&key(11)).await.expect("load"), None);
}
