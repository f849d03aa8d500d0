//! Crash safety: a writer process killed with SIGKILL in the middle of a write burst, again and
//! again, never leaves a torn session file: afterwards every session file decodes strictly, every
//! session is still there, and the only debris (temporary files) is swept by `cleanup`.

use std::io::{BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use session_core::store::{BincodeCodec, Changes};
use session_store_file::FileStore;

use crate::common::{child_env, decode_strict, key, live, spawn_child, wait_for_ready};

/// Sessions the writer keeps rewriting.
const SESSIONS: u8 = 8;
/// How many times the writer is started and killed.
const ROUNDS: u64 = 30;

/// The writer (run only as a child of `sigkill_mid_burst_never_tears_a_file`): creates the
/// sessions, says `ready`, then rewrites them with `save`, `apply` and `touch` (records from 1 KiB
/// to 300 KiB, built beforehand so that a kill most often lands inside the store's I/O) and churns a few created and deleted
/// sessions, until it is killed.
#[test]
#[ignore = "a child process of the crash test, not a test by itself"]
fn crash_writer() {
    let Some((dir, index)) = child_env() else {
        return;
    };
    let store = FileStore::open(&dir).expect("open");
    let store = store.blocking();
    for n in 0..SESSIONS {
        store.create(&key(n), &live(&[("n", "0")])).expect("create");
    }
    println!("ready");
    std::io::stdout().flush().expect("flush");
    // Records and changes are built once, so that the burst spends its time in the store's I/O.
    let sizes = [1usize, 64, 160, 300];
    let records: Vec<_> = sizes
        .iter()
        .map(|kib| live(&[("n", &index.to_string()), ("blob", &"x".repeat(kib * 1024))]))
        .collect();
    let changes: Vec<_> = records
        .iter()
        .map(|record| {
            let mut changes = Changes::touch(record.last_active, record.expires);
            changes
                .updates
                .push(("blob".into(), record.data.get("blob").cloned()));
            changes
        })
        .collect();
    let small = live(&[("churn", "1")]);
    let mut i: usize = 0;
    loop {
        i += 1;
        let k = key((i % usize::from(SESSIONS)) as u8);
        let (record, change) = (&records[i % sizes.len()], &changes[(i / 3) % sizes.len()]);
        let kept = match i % 3 {
            0 => store.save(&k, record).expect("save"),
            1 => store.apply(&k, change).expect("apply"),
            _ => store
                .touch(&k, record.last_active, record.expires)
                .expect("touch"),
        };
        assert!(kept, "a session vanished");
        let churn = key(100 + (i % 4) as u8);
        if store.create(&churn, &small).expect("create") {
            store.delete(&churn).expect("delete");
        }
    }
}

#[test]
fn sigkill_mid_burst_never_tears_a_file() {
    if child_env().is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sessions");
    let codec = BincodeCodec::default();
    let mut temp_left = 0;
    for round in 0..ROUNDS {
        let mut child = spawn_child("crash::crash_writer", &path, round as usize);
        // Kept open until the writer is dead, so that it never writes to a closed pipe.
        let mut output = BufReader::new(child.stdout.take().expect("piped stdout"));
        assert!(wait_for_ready(&mut output), "the writer did not start");
        // Let the burst run for a different while each round, then kill it mid-write.
        std::thread::sleep(Duration::from_millis(1 + (round * 7) % 41));
        child.kill().expect("SIGKILL the writer");
        let status = child.wait().expect("reap the writer");
        assert_eq!(
            status.signal(),
            Some(9),
            "the writer must die by SIGKILL, not stop on its own: {status:?}"
        );

        for entry in std::fs::read_dir(&path).expect("list") {
            let entry = entry.expect("entry");
            let name = entry.file_name().into_string().expect("utf-8 name");
            if name.starts_with(".tmp-") {
                temp_left += 1;
                continue;
            }
            assert!(
                session_core::store::Key::from_hex(&name).is_some(),
                "unexpected file {name}"
            );
            let bytes = std::fs::read(entry.path()).expect("read");
            if let Err(why) = decode_strict(&bytes, &codec) {
                panic!("round {round}: session file {name} is torn: {why}");
            }
        }
        let store = FileStore::open(&path).expect("open");
        for n in 0..SESSIONS {
            assert!(
                store.blocking().load(&key(n)).expect("load").is_some(),
                "round {round}: session {n} was lost"
            );
        }
    }
    eprintln!("temporary files left by killed writers (over all rounds): {temp_left}");
    let store = FileStore::builder()
        .stale_temp_after(Duration::ZERO)
        .open(&path)
        .expect("open");
    store.cleanup().expect("cleanup");
    for entry in std::fs::read_dir(&path).expect("list") {
        let name = entry.expect("entry").file_name();
        assert!(
            !name.to_string_lossy().starts_with(".tmp-"),
            "cleanup left a stale temporary file"
        );
    }
}
