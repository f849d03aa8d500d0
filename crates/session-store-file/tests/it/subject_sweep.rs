//! The subject index does not pile up (deletes, expiry, the sweeper), and hostile or corrupt
//! index entries are skipped or removed, never followed.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::AtFlags;

use session_core::store::{Key, ManualClock, Record, Store, Timestamp};
use session_store_file::FileStore;

use crate::common::{cleanup, key, live};
use crate::subjects::{bound, names, subject_dir};

const MINUTE: Duration = Duration::from_secs(60);

/// `record` expiring at `expires`.
fn until(mut record: Record, expires: Timestamp) -> Record {
    record.expires = expires;
    record
}

/// Three subjects with four bound sessions each: one deleted (its entry goes with it), one that
/// expires and is loaded (the load removes both), one that expires and is swept, one that lives
/// and is deleted at the end. Afterwards the sweeper leaves no entry and no subject directory.
#[tokio::test]
async fn deletes_expiry_and_the_sweeper_leave_no_index_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = Timestamp::from_millis(1_000_000_000_000);
    let clock = ManualClock::new(start);
    let store = FileStore::builder()
        .clock(clock.clone())
        .background_sweeper(false)
        .open(dir.path())
        .expect("open");
    let (soon, later) = (
        start.saturating_add(MINUTE),
        start.saturating_add(60 * MINUTE),
    );
    let subjects = ["s0", "s1", "s2"];
    let at = |s: usize, n: usize| key(u8::try_from(10 * s + n + 1).expect("small"));
    for (s, subject) in subjects.iter().enumerate() {
        for n in 0..4 {
            let expires = if n == 1 || n == 2 { soon } else { later };
            let record = until(bound(subject, &[]), expires);
            assert!(store.create(&at(s, n), &record).await.expect("create"));
        }
        assert!(store.delete(&at(s, 0)).await.expect("delete"));
        assert_eq!(
            names(&subject_dir(dir.path(), subject)).len(),
            3,
            "delete left its entry"
        );
    }
    clock.advance(2 * MINUTE);
    for (s, subject) in subjects.iter().enumerate() {
        assert_eq!(store.load(&at(s, 2)).await.expect("load"), None);
        assert_eq!(
            names(&subject_dir(dir.path(), subject)).len(),
            2,
            "a load left an entry"
        );
    }
    let report = cleanup(&store).await;
    assert_eq!(
        (report.expired, report.empty_subjects),
        (3, 0),
        "{report:?}"
    );
    for (s, subject) in subjects.iter().enumerate() {
        assert_eq!(
            names(&subject_dir(dir.path(), subject)),
            [at(s, 3).to_hex()]
        );
        assert!(store.delete(&at(s, 3)).await.expect("delete"));
    }
    let report = cleanup(&store).await;
    assert_eq!(report.empty_subjects, 3, "{report:?}");
    assert!(names(&dir.path().join("subjects")).is_empty());
    for subject in subjects {
        assert!(store.list_subject(subject).await.expect("list").is_empty());
    }
}

/// The background sweeper's bounded passes (one entry each) reach the index too: sessions of two
/// subjects expire, and passes alone remove their files, entries and directories.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_sweeper_passes_walk_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = Timestamp::from_millis(1_000_000_000_000);
    let clock = ManualClock::new(start);
    let store = FileStore::builder()
        .clock(clock.clone())
        .sweep_every(Duration::from_millis(10))
        .sweep_batch(1)
        .open(dir.path())
        .expect("open");
    for n in 0..6u8 {
        let subject = if n % 2 == 0 { "even" } else { "odd" };
        let record = until(bound(subject, &[]), start.saturating_add(MINUTE));
        assert!(store.create(&key(n + 1), &record).await.expect("create"));
    }
    clock.advance(2 * MINUTE);
    let index = dir.path().join("subjects");
    let mut clean = false;
    for _ in 0..1000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if names(&index).is_empty() && names(dir.path()) == ["subjects"] {
            clean = true;
            break;
        }
    }
    assert!(clean, "left: {:?} {:?}", names(dir.path()), names(&index));
}

/// Sets the modification time of `path` (a link itself, not its target) an hour back.
fn age(path: &Path) {
    let then = SystemTime::now() - Duration::from_secs(3600);
    let secs = then
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let stamp = rustix::fs::Timespec {
        tv_sec: secs.try_into().expect("fits"),
        tv_nsec: 0,
    };
    let times = rustix::fs::Timestamps {
        last_access: stamp,
        last_modification: stamp,
    };
    rustix::fs::utimensat(rustix::fs::CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW)
        .expect("set times");
}

/// Planted in a subject's index: a name that is no key, a directory and a link under keys'
/// names, entries of sessions bound elsewhere, unbound, unreadable, missing (young and old).
/// Listing and sweeping never fail nor follow a link; they list only the subject's live session,
/// remove the dead entries (a link itself, not its target), and leave the rest.
#[tokio::test]
async fn hostile_index_entries_are_skipped_or_removed_never_followed() {
    let root = tempfile::tempdir().expect("tempdir");
    let path = root.path().join("sessions");
    let store = FileStore::builder()
        .background_sweeper(false)
        .open(&path)
        .expect("open");
    let mine = key(1);
    assert!(
        store
            .create(&mine, &bound("mallory", &[]))
            .await
            .expect("create")
    );
    assert!(
        store
            .create(&key(4), &bound("trent", &[]))
            .await
            .expect("create")
    );
    assert!(store.create(&key(5), &live(&[])).await.expect("create"));
    std::fs::write(store.file_for(&key(8)), b"SSF1 garbage").expect("write");
    let victim = root.path().join("victim");
    std::fs::write(&victim, b"keep me").expect("write");

    let index = subject_dir(&path, "mallory");
    let entry = |k: Key| index.join(k.to_hex());
    std::fs::write(index.join("not-a-key"), b"").expect("write");
    symlink(&victim, entry(key(2))).expect("symlink");
    std::fs::create_dir(entry(key(3))).expect("mkdir");
    for n in [4, 5, 6, 7, 8] {
        std::fs::write(entry(key(n)), b"junk inside").expect("write");
    }
    age(&entry(key(7)));

    let listed = store.list_subject("mallory").await.expect("list");
    assert_eq!(listed.iter().map(|b| b.key).collect::<Vec<_>>(), [mine]);
    let kept = [mine, key(2), key(3), key(6)].map(|k| k.to_hex());
    let mut expected = kept.to_vec();
    expected.push("not-a-key".into());
    expected.sort();
    assert_eq!(
        names(&index),
        expected,
        "entries bound elsewhere, unbound, damaged, stale"
    );
    assert!(
        !store.file_for(&key(8)).exists(),
        "the unreadable record was reclaimed"
    );
    assert_eq!(store.list_subject("trent").await.expect("list").len(), 1);

    // The link is young: kept. Once old, the sweeper removes the link, not what it points to.
    age(&entry(key(2)));
    let report = cleanup(&store).await;
    assert_eq!(report.index_entries, 1, "{report:?}");
    assert!(!entry(key(2)).exists() && !entry(key(2)).is_symlink());
    assert_eq!(std::fs::read(&victim).expect("read"), b"keep me");
    assert!(entry(key(3)).is_dir() && index.join("not-a-key").exists());
}

/// A link or a file where the index or a subject's directory should be: listing shows nothing
/// and follows nothing, the sweeper leaves it, and a bound create replaces the junk with a real
/// directory, never writing through the link.
#[tokio::test]
async fn links_in_place_of_index_directories_are_never_followed() {
    let root = tempfile::tempdir().expect("tempdir");
    let (path, elsewhere) = (root.path().join("sessions"), root.path().join("elsewhere"));
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let store = FileStore::builder()
        .background_sweeper(false)
        .open(&path)
        .expect("open");
    symlink(&elsewhere, path.join("subjects")).expect("symlink");
    assert!(store.list_subject("alice").await.expect("list").is_empty());
    cleanup(&store).await;
    assert!(
        store
            .create(&key(1), &bound("alice", &[]))
            .await
            .expect("create")
    );
    assert!(names(&elsewhere).is_empty(), "written through a link");
    assert!(path.join("subjects").is_dir() && !path.join("subjects").is_symlink());

    // "eve"'s directory is a link to "alice"'s: eve lists nothing, the sweeper leaves it.
    symlink(subject_dir(&path, "alice"), subject_dir(&path, "eve")).expect("symlink");
    assert!(store.list_subject("eve").await.expect("list").is_empty());
    let report = cleanup(&store).await;
    assert_eq!(
        report.index_entries + report.empty_subjects,
        0,
        "{report:?}"
    );
    assert!(subject_dir(&path, "eve").is_symlink());
    assert_eq!(store.list_subject("alice").await.expect("list").len(), 1);
    // A file in its place instead: a bound create for eve replaces it.
    std::fs::remove_file(subject_dir(&path, "eve")).expect("unlink");
    std::fs::write(subject_dir(&path, "eve"), b"junk").expect("write");
    assert!(
        store
            .create(&key(2), &bound("eve", &[]))
            .await
            .expect("create")
    );
    assert_eq!(store.list_subject("eve").await.expect("list").len(), 1);
    assert_eq!(names(&subject_dir(&path, "alice")), [key(1).to_hex()]);
}

/// A private temporary store takes its index with it when it goes.
#[test]
fn a_temporary_store_removes_its_index() {
    let store = FileStore::temporary().expect("a private directory");
    let path = store.dir().to_owned();
    assert!(
        store
            .blocking()
            .create(&key(1), &bound("alice", &[]))
            .expect("create")
    );
    assert!(subject_dir(&path, "alice").is_dir());
    drop(store);
    assert!(!path.exists(), "left behind: {:?}", names(&path));
}
