//! Two processes on one directory: concurrent key-level writes to one session lose nothing, and a
//! delete racing with writes is never undone.

use std::io::BufReader;
use std::time::Duration;

use session_core::Value;
use session_core::store::{Changes, Store};
use session_store_file::FileStore;

use crate::common::{child_env, key, live, spawn_child, wait_for_ready};

/// Writes per child process.
const WRITES: usize = 60;
/// The session both processes write to.
const SHARED: u8 = 1;

/// A writer process (run only by `two_processes_writing_different_keys_lose_nothing`): says
/// `ready`, waits for the `go` file, then applies `WRITES` changes, each setting a key of its own
/// (`p{index}-{n}`) in the shared session.
#[test]
#[ignore = "a child process of the cross-process test, not a test by itself"]
fn apply_writer() {
    let Some((dir, index)) = child_env() else {
        return;
    };
    let store = FileStore::open(&dir).expect("open");
    println!("ready");
    while !dir.join("go").exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let record = live(&[]);
    for n in 0..WRITES {
        let mut changes = Changes::touch(record.last_active, record.expires);
        changes.updates.push((
            format!("p{index}-{n}"),
            Some(Value::from_serialize(&n).expect("json")),
        ));
        assert!(
            store
                .blocking()
                .apply(&key(SHARED), &changes)
                .expect("apply"),
            "the shared session vanished"
        );
    }
}

#[test]
fn two_processes_writing_different_keys_lose_nothing() {
    if child_env().is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sessions");
    let store = FileStore::open(&path).expect("open");
    assert!(
        store
            .blocking()
            .create(&key(SHARED), &live(&[("existing", "kept")]))
            .expect("create")
    );
    let mut children: Vec<_> = (0..2)
        .map(|i| spawn_child("cross_process::apply_writer", &path, i))
        .collect();
    let mut outputs: Vec<_> = children
        .iter_mut()
        .map(|child| BufReader::new(child.stdout.take().expect("piped")))
        .collect();
    for output in &mut outputs {
        assert!(wait_for_ready(output), "a writer did not start");
    }
    // Both processes are up: release them at once.
    std::fs::write(dir.path().join("sessions").join("go"), b"").expect("go");
    for mut child in children {
        assert!(child.wait().expect("wait").success(), "a writer failed");
    }
    let found = store
        .blocking()
        .load(&key(SHARED))
        .expect("load")
        .expect("the session is there");
    let lost: Vec<String> = (0..2)
        .flat_map(|p| (0..WRITES).map(move |n| format!("p{p}-{n}")))
        .filter(|k| !found.data.contains_key(k))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} writes lost: {lost:?}",
        lost.len(),
        2 * WRITES
    );
    assert!(found.data.contains_key("existing"));
}

/// Many threads apply to a session while another deletes it: afterwards the session is gone for
/// good, whatever the order the lock gave them (a write that waited behind the delete writes
/// nothing), and every apply that reported success happened before the delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_racing_with_applies_is_never_undone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path()).expect("open");
    for round in 0..5u8 {
        let k = key(10 + round);
        assert!(
            store
                .create(&k, &live(&[("a", "1")]))
                .await
                .expect("create")
        );
        let record = live(&[]);
        let writers: Vec<_> = (0..16)
            .map(|n| {
                let store = store.clone();
                let mut changes = Changes::touch(record.last_active, record.expires);
                changes.updates.push((
                    format!("k{n}"),
                    Some(Value::from_serialize(&n).expect("json")),
                ));
                tokio::spawn(async move { store.apply(&k, &changes).await.expect("apply") })
            })
            .collect();
        let deleter = {
            let store = store.clone();
            tokio::spawn(async move { store.delete(&k).await.expect("delete") })
        };
        assert!(deleter.await.expect("task"), "the delete found the session");
        for writer in writers {
            writer.await.expect("task");
        }
        assert_eq!(store.load(&k).await.expect("load"), None, "resurrected");
        assert!(!store.file_for(&k).exists(), "a file came back");
        assert!(!store.save(&k, &record).await.expect("save"));
        assert!(
            !store.file_for(&k).exists(),
            "save after delete wrote a file"
        );
    }
}
