//! The file store's save and load latency against the physical floor.
//!
//! In the same run, on the same directory.
//!
//! - `file-save/floor`: write a temporary file, `fsync` it, `rename` it over the target: the least
//!   a crash-safe replacement costs.
//! - `file-save/floor+dirsync`: the same plus an `fsync` of the directory, which the store also
//!   does so that the rename itself survives a power cut.
//! - `file-save/ours-blocking`: `FileStore::blocking().save`: lock the session file, check it is
//!   live, write the temporary file, `fsync`, `rename`, `fsync` the directory.
//! - `file-save/ours-async`: `Store::save`, as the engine calls it (the I/O on Tokio's blocking
//!   pool).
//! - `file-load/floor`: `fs::read` of the session file. `file-load/ours-blocking` and
//!   `file-load/ours-async`: `load` (one open, one read, decode, expiry check);
//!   `file-load/ours-async-worker` the same from a task on a worker thread, and
//!   `file-load/ours-in-place-worker` with `FileStoreBuilder::loads_in_place`.
//! - `file-apply/ours-blocking`: a key-level change (lock, read, decode, apply, encode, write).
//!
//! The record is a typical small session (a counter, a user name, a few keys; about 200 bytes
//! encoded). The directory is `target/bench-file-store` (on the disk the workspace is on, not a
//! tmpfs: the bench prints its file system type).
//!
//! Run with `cargo bench -p session-benches --bench file`.

use std::fs::{self, File};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use session_core::Value;
use session_core::store::{Changes, Clock, Key, Record, Store, SystemClock};
use session_store_file::FileStore;
use tokio::runtime::Runtime;

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("bench-file-store");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the bench directory");
    dir
}

/// The file system type of `dir`, from `stat -f` (for the record; not needed to run).
fn filesystem(dir: &Path) -> String {
    std::process::Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "unknown".into(), |t| t.trim().to_owned())
}

fn record() -> Record {
    let now = SystemClock.now();
    let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
    for (k, v) in [
        ("counter", serde_json_text("41")),
        ("user", serde_json_text("\"alice@example.com\"")),
        ("theme", serde_json_text("\"dark\"")),
        ("cart", serde_json_text("[17, 23, 42]")),
        (
            "csrf",
            serde_json_text("\"f3a9c2d4e5b6a7980f1e2d3c4b5a6978\""),
        ),
    ] {
        record.data.insert(k.to_owned(), v);
    }
    record
}

fn serde_json_text(json: &str) -> Value {
    Value::from_json(json.to_owned()).expect("valid JSON")
}

/// Write temporary, fsync, rename (and optionally fsync the directory).
fn floor_save(dir: &Path, dir_handle: &File, bytes: &[u8], target: &Path, dirsync: bool) {
    let temp = dir.join(".tmp-floor");
    let mut file = File::create(&temp).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync");
    drop(file);
    fs::rename(&temp, target).expect("rename");
    if dirsync {
        dir_handle.sync_all().expect("fsync dir");
    }
}

fn file_store(c: &mut Criterion) {
    let dir = bench_dir();
    eprintln!(
        "file store bench directory: {} (file system: {})",
        dir.display(),
        filesystem(&dir)
    );
    let store = FileStore::open(dir.join("sessions")).expect("open");
    let runtime = Runtime::new().expect("runtime");
    let key = Key::from_digest([7; 32]);
    let record = record();
    assert!(store.blocking().create(&key, &record).expect("create"));
    let session_file = store.file_for(&key);
    let stored = fs::read(&session_file).expect("read");
    eprintln!("session file size: {} bytes", stored.len());

    let floor_dir = dir.join("floor");
    fs::create_dir_all(&floor_dir).expect("mkdir");
    let floor_handle = File::open(&floor_dir).expect("open dir");
    let floor_target = floor_dir.join("session");
    floor_save(&floor_dir, &floor_handle, &stored, &floor_target, true);

    let mut save = c.benchmark_group("file-save");
    save.bench_function("floor", |b| {
        b.iter(|| floor_save(&floor_dir, &floor_handle, &stored, &floor_target, false))
    });
    save.bench_function("floor+dirsync", |b| {
        b.iter(|| floor_save(&floor_dir, &floor_handle, &stored, &floor_target, true))
    });
    save.bench_function("ours-blocking", |b| {
        b.iter(|| assert!(store.blocking().save(&key, &record).expect("save")))
    });
    save.bench_function("ours-async", |b| {
        b.iter(|| {
            runtime.block_on(async { assert!(store.save(&key, &record).await.expect("save")) })
        })
    });
    save.finish();

    let mut load = c.benchmark_group("file-load");
    load.bench_function("floor", |b| {
        b.iter(|| black_box(fs::read(&floor_target).expect("read")))
    });
    load.bench_function("ours-blocking", |b| {
        b.iter(|| black_box(store.blocking().load(&key).expect("load").expect("live")))
    });
    load.bench_function("ours-async", |b| {
        b.iter(|| {
            runtime
                .block_on(async { black_box(store.load(&key).await.expect("load").expect("live")) })
        })
    });
    // As a server calls it: from a task on one of the runtime's worker threads, with the default
    // (the blocking pool) and with `loads_in_place`.
    let in_place = FileStore::builder()
        .loads_in_place(true)
        .open(dir.join("sessions"))
        .expect("open");
    for (name, store) in [
        ("ours-async-worker", &store),
        ("ours-in-place-worker", &in_place),
    ] {
        load.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let store = store.clone();
                runtime
                    .block_on(runtime.spawn(async move {
                        let start = std::time::Instant::now();
                        for _ in 0..iters {
                            black_box(store.load(&key).await.expect("load").expect("live"));
                        }
                        start.elapsed()
                    }))
                    .expect("the bench task")
            })
        });
    }
    load.finish();

    let mut apply = c.benchmark_group("file-apply");
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes
        .updates
        .push(("counter".into(), Some(serde_json_text("42"))));
    apply.bench_function("ours-blocking", |b| {
        b.iter(|| assert!(store.blocking().apply(&key, &changes).expect("apply")))
    });
    apply.finish();
}

fn main() {
    // What `criterion_group!` and `criterion_main!` expand to, without an undocumented `pub fn`.
    let mut criterion = session_benches::criterion(Duration::from_secs(4)).configure_from_args();
    file_store(&mut criterion);
    criterion.final_summary();
}
