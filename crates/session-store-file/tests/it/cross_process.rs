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

/// Sessions per process in `bound_sessions_are_seen_and_ended_across_processes`.
const BOUND: u8 = 3;

/// A login process (run only by `bound_sessions_are_seen_and_ended_across_processes`): creates
/// `BOUND` sessions bound to "carol", says `ready`, waits for the `go` file, then checks that the
/// parent process ended them all: none loads, none is listed.
#[test]
#[ignore = "a child process of the cross-process test, not a test by itself"]
fn bound_writer() {
    let Some((dir, _)) = child_env() else {
        return;
    };
    let store = FileStore::open(&dir).expect("open");
    let keys: Vec<_> = (0..BOUND).map(|n| key(100 + n)).collect();
    for k in &keys {
        let record = crate::subjects::bound("carol", &[]);
        assert!(store.blocking().create(k, &record).expect("create"));
    }
    println!("ready");
    // Not forever: a parent that failed never says go.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !dir.join("go").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no go from the parent"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    for k in &keys {
        assert_eq!(
            store.blocking().load(k).expect("load"),
            None,
            "a session survived"
        );
    }
    assert!(
        store
            .blocking()
            .list_subject("carol")
            .expect("list")
            .is_empty()
    );
}

/// Another process's bound sessions are listed here as soon as it says it made them, and ended
/// from here: that process then finds none of them.
#[tokio::test]
async fn bound_sessions_are_seen_and_ended_across_processes() {
    if child_env().is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sessions");
    let store = FileStore::open(&path).expect("open");
    let mut child = spawn_child("cross_process::bound_writer", &path, 0);
    let mut output = BufReader::new(child.stdout.take().expect("piped"));
    assert!(
        wait_for_ready(&mut output),
        "the login process did not start"
    );
    let listed = store.list_subject("carol").await.expect("list");
    let mut keys: Vec<_> = listed.iter().map(|bound| bound.key).collect();
    keys.sort();
    assert_eq!(keys, (0..BOUND).map(|n| key(100 + n)).collect::<Vec<_>>());
    let subjects = session_core::subject::Subjects::new(&store);
    assert_eq!(subjects.end_all("carol").await.expect("end_all"), 3);
    std::fs::write(path.join("go"), b"").expect("go");
    assert!(
        child.wait().expect("wait").success(),
        "the login process failed"
    );
}
