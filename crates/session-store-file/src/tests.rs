//! Unit tests that look inside the store: how many threads wait on one session file's lock, and
//! how far a sweeper pass goes.

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use session_core::Value;
use session_core::store::{Changes, Clock, Key, Record, Store, SystemClock};

use crate::FileStore;

/// A count of threads inside a call, and the most seen at once.
#[derive(Debug, Default)]
pub(crate) struct Gauge {
    pub(crate) now: std::sync::atomic::AtomicUsize,
    pub(crate) max: std::sync::atomic::AtomicUsize,
}

impl Gauge {
    pub(crate) fn enter(&self) {
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.max.fetch_max(now, SeqCst);
    }

    pub(crate) fn leave(&self) {
        self.now.fetch_sub(1, SeqCst);
    }
}

/// Writers of the hot session (Tokio's blocking pool has 512 threads by default: more than this).
const WRITERS: usize = 300;

fn key(n: u8) -> Key {
    Key::from_digest([n; 32])
}

fn live() -> Record {
    let now = SystemClock.now();
    Record::new(now, now.saturating_add(Duration::from_secs(3600)))
}

/// A change setting `name` to `n`.
fn set(record: &Record, name: String, n: usize) -> Changes {
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes
        .updates
        .push((name, Some(Value::from_serialize(&n).expect("json"))));
    changes
}

/// A store with one session (`key(1)`, its record) whose file this test holds locked, as another
/// process would; the directory lives as long as the first element.
async fn locked_session() -> (tempfile::TempDir, FileStore, Key, Record, std::fs::File) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path()).expect("open");
    let hot = key(1);
    let record = live();
    assert!(store.create(&hot, &record).await.expect("create"));
    let holder = std::fs::File::open(store.file_for(&hot)).expect("open");
    holder.lock().expect("lock");
    (dir, store, hot, record, holder)
}

/// Waits (a generous bound, not a speed check) until `done` holds.
async fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..2000 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    done()
}

/// Hundreds of concurrent writers of one session, whose file another process holds locked (here:
/// this test), park at most one blocking thread on that lock; the others wait without a thread.
/// Once the lock is free, every write lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_of_one_session_park_at_most_one_thread_on_its_lock() {
    let (_dir, store, hot, record, holder) = locked_session().await;

    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            let (store, changes) = (store.clone(), set(&record, format!("k{n}"), n));
            tokio::spawn(async move { store.apply(&hot, &changes).await })
        })
        .collect();
    let gauge = &store.core().in_flock;
    assert!(
        wait_until(|| gauge.now.load(SeqCst) >= 1).await,
        "no writer reached the lock"
    );
    // Time for every writer to reach the lock, were each to take a thread.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another session is not held up meanwhile.
    assert!(store.create(&key(2), &record).await.expect("create"));
    let parked = gauge.max.load(SeqCst);

    drop(holder);
    for writer in writers {
        assert!(
            writer.await.expect("task").expect("apply"),
            "the session vanished"
        );
    }
    assert!(
        parked <= 1,
        "{parked} blocking threads waited on one session's lock at once"
    );
    let found = store.load(&hot).await.expect("load").expect("the session");
    let lost: Vec<_> = (0..WRITERS)
        .map(|n| format!("k{n}"))
        .filter(|k| !found.data.contains_key(k))
        .collect();
    assert!(lost.is_empty(), "{} writes lost: {lost:?}", lost.len());
}

/// A time limit on each call (what the engine's `store_timeout` sets) cuts off the writers waiting
/// for their turn and the one whose blocking job waits on the lock: they all fail at the limit and
/// leave nothing behind but that job, which keeps the session's turn until it ends, then writes
/// (as a timed-out write always could). The next writer goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_cut_off_by_a_time_limit_leave_nothing_behind() {
    const CUT_OFF: usize = 20;
    let (_dir, store, hot, record, holder) = locked_session().await;

    let writers: Vec<_> = (0..CUT_OFF)
        .map(|n| {
            let (store, changes) = (store.clone(), set(&record, format!("k{n}"), n));
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(300), store.apply(&hot, &changes)).await
            })
        })
        .collect();
    for writer in writers {
        assert!(
            writer.await.expect("task").is_err(),
            "a writer went through"
        );
    }
    let gauge = &store.core().in_flock;
    assert_eq!(
        gauge.now.load(SeqCst),
        1,
        "the job that had a thread waits on"
    );
    assert_eq!(store.locks().len(), 1, "only that job's turn is left");

    drop(holder);
    assert!(
        wait_until(|| store.locks().len() == 0).await,
        "the turn outlived its job"
    );
    assert_eq!(gauge.now.load(SeqCst), 0);
    assert!(
        store
            .apply(&hot, &set(&record, "next".into(), 0))
            .await
            .expect("apply")
    );
    let found = store.load(&hot).await.expect("load").expect("the session");
    let landed = (0..CUT_OFF)
        .filter(|n| found.data.contains_key(&format!("k{n}")))
        .count();
    assert_eq!(landed, 1, "only the job already running writes");
    assert!(found.data.contains_key("next"));
    assert!(gauge.max.load(SeqCst) <= 1);
}

/// A background pass examines at most its batch of entries, and the next pass continues where it
/// stopped; at the end of the directory the pass stops, and the next starts again from the top.
#[test]
fn a_sweeper_pass_is_bounded_and_the_next_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = session_core::store::ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .open(dir.path())
        .expect("open");
    let record = live();
    for n in 0..10 {
        assert!(store.blocking().create(&key(n), &record).expect("create"));
    }
    clock.set(record.expires);
    let files = || std::fs::read_dir(dir.path()).expect("list").count();
    let mut passes = Vec::new();
    for _ in 0..5 {
        let report = store.core().sweep(3).expect("pass");
        passes.push((report.expired, files()));
    }
    // 3, 3 and 3 of the 10; the last one and the end; then nothing left, from the top.
    assert_eq!(passes, [(3, 7), (3, 4), (3, 1), (1, 0), (0, 0)]);
    // Files written since are found by the pass after the end.
    for n in 20..22 {
        assert!(store.blocking().create(&key(n), &record).expect("create"));
    }
    assert_eq!(store.core().sweep(3).expect("pass").expired, 2);
    assert_eq!(files(), 0);
}

/// The sweeper thread ends with the store: at once when the store (holding the thread's stop
/// signal) goes, and at its next pass when only the store goes.
#[test]
fn sweeper_thread_ends_with_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || {
        FileStore::builder()
            .background_sweeper(false)
            .open(dir.path())
            .expect("open")
    };
    // The stop signal held by the store, as the builder starts it: dropping the store wakes the
    // thread at once (its next pass is an hour away).
    let store = open();
    let (thread, handle) =
        crate::sweeper::start_thread(&store.core, Duration::from_secs(3600)).expect("thread");
    assert!(store.core.sweeper.set(thread).is_ok());
    let clone = store.clone();
    drop(store);
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !handle.is_finished(),
        "the sweeper went with a clone still there"
    );
    drop(clone);
    handle.join().expect("the sweeper ends with the store");

    // The stop signal held elsewhere: the thread ends at its next pass, finding no store.
    let store = open();
    let (_thread, handle) =
        crate::sweeper::start_thread(&store.core, Duration::from_millis(10)).expect("thread");
    drop(store);
    handle
        .join()
        .expect("the sweeper ends once the store is gone");
}
