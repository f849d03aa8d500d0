//! Bad input gives a safe outcome: refused directories, corrupt, truncated, oversized and foreign
//! files, symbolic links and junk in the directory. Never a panic, never an error for a request.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

use session_core::store::{JsonCodec, Store};
use session_store_file::{FileStore, FileStoreError};

use crate::common::{cleanup, key, live};

#[test]
fn refuses_directories_others_can_write_or_that_are_not_ours() {
    let base = tempfile::tempdir().expect("tempdir");

    let open = base.path().join("open");
    fs::create_dir(&open).expect("mkdir");
    for mode in [0o777, 0o1777, 0o770, 0o720] {
        fs::set_permissions(&open, fs::Permissions::from_mode(mode)).expect("chmod");
        let error = FileStore::open(&open).expect_err("refused");
        assert!(
            matches!(error, FileStoreError::Writable { .. }),
            "{mode:o}: {error}"
        );
        assert!(
            error.to_string().contains("writable by other users"),
            "{error}"
        );
    }
    fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).expect("chmod");
    FileStore::open(&open).expect("0755 is fine: only the owner writes");

    let link = base.path().join("link");
    symlink(&open, &link).expect("symlink");
    assert!(matches!(
        FileStore::open(&link),
        Err(FileStoreError::Symlink { .. })
    ));

    let file = base.path().join("file");
    fs::write(&file, b"x").expect("write");
    assert!(matches!(
        FileStore::open(&file),
        Err(FileStoreError::NotADirectory { .. })
    ));

    // A directory owned by someone else: as root, make one; otherwise "/" is root's.
    let foreign = base.path().join("foreign");
    let foreign = if rustix::process::geteuid().is_root() {
        fs::create_dir(&foreign).expect("mkdir");
        fs::set_permissions(&foreign, fs::Permissions::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(&foreign, Some(12345), Some(12345)).expect("chown");
        foreign
    } else {
        "/".into()
    };
    let error = FileStore::open(&foreign).expect_err("refused");
    assert!(matches!(error, FileStoreError::NotOwned { .. }), "{error}");
}

#[test]
fn created_directories_and_files_are_private() {
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("a/b/sessions");
    let store = FileStore::open(&dir).expect("open");
    assert_eq!(fs::metadata(&dir).expect("stat").mode() & 0o777, 0o700);
    let k = session_core::store::Key::from_digest(std::array::from_fn(|i| (i * 37) as u8));
    assert!(
        store
            .blocking()
            .create(&k, &live(&[("a", "1")]))
            .expect("create")
    );
    let file = store.file_for(&k);
    assert_eq!(fs::metadata(&file).expect("stat").mode() & 0o777, 0o600);
    assert_eq!(file.parent(), Some(dir.as_path()));
    assert_eq!(
        file.file_name().expect("name").to_str(),
        Some(k.to_hex().as_str()),
        "named by the digest only"
    );

    let private = FileStore::temporary().expect("temporary");
    let path = private.dir().to_path_buf();
    assert_eq!(fs::metadata(&path).expect("stat").mode() & 0o777, 0o700);
    assert!(
        private
            .blocking()
            .create(&k, &live(&[("a", "1")]))
            .expect("create")
    );
    drop(private);
    assert!(!path.exists(), "the private directory goes with the store");
}

#[tokio::test]
async fn damaged_files_are_no_session_and_are_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::builder()
        .max_record_bytes(4096)
        .open(dir.path())
        .expect("open");
    let good = store.clone();
    assert!(
        good.create(&key(1), &live(&[("a", "1")]))
            .await
            .expect("create")
    );
    let valid = fs::read(store.file_for(&key(1))).expect("read");

    let mut oversized = valid[..16].to_vec();
    oversized.resize(16 + 5000, b'x');
    let mut wrong_length = valid.clone();
    wrong_length.push(0);
    let mut undecodable = valid.clone();
    let last = undecodable.len() - 1;
    undecodable[16..last].fill(0xff);
    // (what, the bytes, whether the header is intact)
    let cases: [(&str, Vec<u8>, bool); 6] = [
        ("empty", Vec::new(), false),
        ("truncated", valid[..valid.len() / 2].to_vec(), false),
        ("wrong length", wrong_length, false),
        ("undecodable payload", undecodable, true),
        ("oversized", oversized, false),
        ("foreign", b"{\"not\": \"ours\"}".to_vec(), false),
    ];
    for (n, (what, bytes, header_intact)) in cases.into_iter().enumerate() {
        let k = key(50 + n as u8);
        fs::write(store.file_for(&k), &bytes).expect("plant");
        assert_eq!(store.load(&k).await.expect(what), None, "{what}");
        assert!(!store.file_for(&k).exists(), "{what}: not removed");
        // save and delete judge a file by its header: one they cannot use is absent to them and
        // removed (one whose header is intact is replaced or removed: never read by a request).
        fs::write(store.file_for(&k), &bytes).expect("plant");
        let saved = store.save(&k, &live(&[])).await.expect(what);
        assert_eq!(saved, header_intact, "{what}");
        assert_eq!(store.file_for(&k).exists(), header_intact, "{what}");
        fs::write(store.file_for(&k), &bytes).expect("plant");
        let deleted = store.delete(&k).await.expect(what);
        assert_eq!(deleted, header_intact, "{what}");
        assert!(!store.file_for(&k).exists(), "{what}: not removed");
        // create replaces it.
        fs::write(store.file_for(&k), &bytes).expect("plant");
        assert!(
            store.create(&k, &live(&[("b", "2")])).await.expect(what),
            "{what}"
        );
        assert!(store.load(&k).await.expect(what).is_some(), "{what}");
    }
    // Another codec's file is undecodable too: no session, no error.
    let json = FileStore::builder().json().open(dir.path()).expect("open");
    assert_eq!(json.load(&key(1)).await.expect("load"), None);
}

#[tokio::test]
async fn symlinks_and_junk_are_never_followed_nor_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path().join("s")).expect("open");

    // A valid session file elsewhere, linked in under a session's name.
    let elsewhere = FileStore::open(outside.path().join("s")).expect("open");
    assert!(
        elsewhere
            .blocking()
            .create(&key(1), &live(&[("a", "1")]))
            .expect("create")
    );
    let target = elsewhere.file_for(&key(1));
    symlink(&target, store.file_for(&key(1))).expect("symlink");
    assert_eq!(
        store.load(&key(1)).await.expect("load"),
        None,
        "followed a link"
    );
    assert!(!store.save(&key(1), &live(&[])).await.expect("save"));
    assert!(
        !store
            .apply(&key(1), &session_core::store::Changes::default())
            .await
            .expect("apply")
    );
    assert!(!store.delete(&key(1)).await.expect("delete"));
    // create replaces the link itself, never writing through it.
    let before = fs::read(&target).expect("read");
    assert!(
        store
            .create(&key(1), &live(&[("b", "2")]))
            .await
            .expect("create")
    );
    assert_eq!(
        fs::read(&target).expect("read"),
        before,
        "wrote through a link"
    );
    assert!(
        !fs::symlink_metadata(store.file_for(&key(1)))
            .expect("stat")
            .is_symlink()
    );

    // Junk: a directory and a FIFO under session names, files with other names, a dangling link.
    fs::create_dir(store.file_for(&key(2))).expect("mkdir");
    let fifo = store.file_for(&key(3));
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    fs::write(store.dir().join("README"), b"hello").expect("write");
    fs::write(store.dir().join(key(0xab).to_hex().to_uppercase()), b"x").expect("write");
    symlink("/nonexistent", store.dir().join(".tmp-dangling")).expect("symlink");
    for n in [2, 3] {
        assert_eq!(store.load(&key(n)).await.expect("load"), None);
        assert!(!store.save(&key(n), &live(&[])).await.expect("save"));
        assert!(!store.delete(&key(n)).await.expect("delete"));
    }
    let report = cleanup(&store).await;
    assert_eq!(report.skipped, 5, "{report:?}");
    assert_eq!(
        report.damaged + report.expired + report.stale_temp,
        0,
        "{report:?}"
    );
    assert!(store.dir().join("README").exists());
    assert!(fs::symlink_metadata(store.dir().join(".tmp-dangling")).is_ok());
    assert!(store.load(&key(1)).await.expect("load").is_some());
}

#[test]
fn records_over_the_limit_are_refused_when_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::builder()
        .codec(JsonCodec::default())
        .max_record_bytes(1024)
        .open(dir.path())
        .expect("open");
    let big = live(&[("blob", &"x".repeat(2000))]);
    let error = store
        .blocking()
        .create(&key(1), &big)
        .expect_err("too large");
    assert!(matches!(error, FileStoreError::TooLarge { .. }), "{error}");
    assert!(!store.file_for(&key(1)).exists());
    let store_error = session_core::store::StoreError::from(error);
    assert_eq!(
        store_error.kind(),
        session_core::store::StoreErrorKind::TooLarge,
        "the kind every store reports for a session too large for it"
    );
    assert!(std::error::Error::source(&store_error).is_some());
}

/// A socket under a session's name cannot be opened (`ENXIO`): it is no session, not an error.
#[tokio::test]
async fn a_socket_under_a_session_name_is_no_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path()).expect("open");
    let _socket = std::os::unix::net::UnixListener::bind(store.file_for(&key(7))).expect("bind");
    assert_eq!(store.load(&key(7)).await.expect("no error"), None);
}
