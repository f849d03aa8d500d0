//! The store keeps working on the directory it checked: renamed away while the store runs and
//! replaced by another directory or by a symbolic link to one, the replacement is never read from
//! nor written to, by requests or by the sweeper; the renamed directory keeps the sessions.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use session_core::Value;
use session_core::store::{Changes, ManualClock, Store};
use session_store_file::FileStore;

use crate::common::{cleanup, key, live};

/// What takes the directory's place once it has been renamed away.
#[derive(Clone, Copy, Debug)]
enum Replacement {
    /// A new directory of the same name, holding planted session files.
    Directory,
    /// A symbolic link of the same name to a directory holding planted session files.
    Symlink,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_swapped_for_another_directory_is_never_used() {
    swapped_directory_is_never_used(Replacement::Directory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_swapped_for_a_symlink_is_never_used() {
    swapped_directory_is_never_used(Replacement::Symlink).await;
}

/// Every entry of `dir`, by name, with its bytes (or `None` for what is not a regular file).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fs::read_dir(dir)
        .expect("list")
        .map(|entry| {
            let entry = entry.expect("entry");
            let bytes = entry
                .file_type()
                .expect("type")
                .is_file()
                .then(|| fs::read(entry.path()).expect("read"));
            (entry.file_name().into_string().expect("utf-8"), bytes)
        })
        .collect()
}

/// Whether `dir` holds a file named for session `n`.
fn holds(dir: &Path, n: u8) -> bool {
    dir.join(key(n).to_hex()).exists()
}

async fn swapped_directory_is_never_used(replacement: Replacement) {
    let base = tempfile::tempdir().expect("tempdir");
    let path = base.path().join("sessions");
    let moved = base.path().join("moved");
    let clock = ManualClock::starting_now();
    let store = FileStore::builder()
        .clock(clock.clone())
        .sweep_every(Duration::from_millis(10))
        .open(&path)
        .expect("open");
    let original = live(&[("who", "original")]);
    assert!(store.create(&key(1), &original).await.expect("create"));
    assert!(
        store
            .create(&key(4), &live(&[("who", "original")]))
            .await
            .expect("create")
    );

    // Someone who may rename entries of the parent moves the directory away and puts theirs in
    // its place, holding sessions of their own: one under a name the store uses, two new.
    fs::rename(&path, &moved).expect("rename the directory away");
    let decoy_dir = match replacement {
        Replacement::Directory => path.clone(),
        Replacement::Symlink => {
            let target = base.path().join("decoy");
            std::os::unix::fs::symlink(&target, &path).expect("symlink");
            target
        }
    };
    let decoy = FileStore::builder()
        .background_sweeper(false)
        .open(&decoy_dir)
        .expect("the decoy directory");
    for n in [1, 2, 5] {
        assert!(
            decoy
                .blocking()
                .create(&key(n), &live(&[("who", "decoy")]))
                .expect("plant")
        );
    }
    let planted = snapshot(&decoy_dir);
    assert_eq!(planted.len(), 3, "{planted:?}");

    // Reads come from the directory the store checked, not from the replacement.
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        Some(original.clone()),
        "read the replacement's file"
    );
    assert_eq!(
        store.load(&key(2)).await.expect("load"),
        None,
        "read a session planted in the replacement"
    );
    // Writes go there too.
    assert!(
        !store.save(&key(2), &live(&[])).await.expect("save"),
        "saved over a planted session"
    );
    assert!(
        !store
            .apply(&key(2), &Changes::default())
            .await
            .expect("apply"),
        "applied to a planted session"
    );
    assert!(store.create(&key(3), &live(&[])).await.expect("create"));
    assert!(holds(&moved, 3), "created outside the store's directory");
    let mut changes = Changes::touch(original.last_active, original.expires);
    changes
        .updates
        .push(("b".into(), Some(Value::from_serialize("2").expect("json"))));
    assert!(store.apply(&key(1), &changes).await.expect("apply"));
    let loaded = store.load(&key(1)).await.expect("load").expect("a session");
    assert_eq!(loaded.data.get("who"), original.data.get("who"));
    assert!(loaded.data.contains_key("b"), "the apply was lost");
    assert!(store.save(&key(3), &live(&[])).await.expect("save"));
    assert!(store.delete(&key(3)).await.expect("delete"));
    assert!(!holds(&moved, 3), "deleted elsewhere");

    // Every session has expired, on the store's clock: the sweeper (the store's own, in the
    // background, and when called) removes them from the store's directory and leaves the
    // replacement alone.
    clock.advance(Duration::from_secs(2 * 3600));
    for _ in 0..1000 {
        if !holds(&moved, 1) && !holds(&moved, 4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !holds(&moved, 1) && !holds(&moved, 4),
        "the background sweeper did not sweep the store's directory"
    );
    let report = cleanup(&store).await;
    assert_eq!(report.expired + report.damaged, 0, "{report:?}");

    assert_eq!(
        snapshot(&decoy_dir),
        planted,
        "the replacement was written to or swept"
    );
    let left: Vec<_> = snapshot(&moved).into_keys().collect();
    assert!(left.is_empty(), "left in the store's directory: {left:?}");
}
