//! Sessions per subject: bound records keep their binding through every write, files of the
//! previous release still load, the index is named by digests and written before the record, and
//! two stores on one directory see and end each other's bound sessions.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use session_core::state::RequestView;
use session_core::store::{Binding, Changes, Key, Record, Store, subject_key};
use session_core::subject::{ClientInfo, Subjects};
use session_core::{Engine, ParamState, Value};
use session_store_file::FileStore;

use crate::common::{decode_strict, expired, key, live};

/// A record live for an hour holding `data`, bound to `subject`.
pub(crate) fn bound(subject: &str, data: &[(&str, &str)]) -> Record {
    let mut record = live(data);
    let info = ClientInfo::new().user_agent("test agent");
    let binding = Binding::new(subject, info, record.created).expect("a valid subject");
    record.binding = Some(Box::new(binding));
    record
}

/// The index directory of `subject` in the session directory `dir`.
pub(crate) fn subject_dir(dir: &Path, subject: &str) -> PathBuf {
    dir.join("subjects").join(subject_key(subject).to_hex())
}

/// The names in `dir`, sorted; none if it does not exist.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn set(record: &Record, name: &str, value: &str) -> Changes {
    let mut changes = Changes::touch(record.last_active, record.expires);
    changes.updates.push((
        name.to_owned(),
        Some(Value::from_serialize(value).expect("json")),
    ));
    changes
}

/// With each codec: create, save, apply, touch and load keep a bound record's binding (and its
/// file's 0400 mark) and leave an unbound record unbound (0600); the listing shows the bound one.
#[tokio::test]
async fn bound_and_unbound_records_round_trip_through_every_write() {
    for json in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let builder = FileStore::builder().background_sweeper(false);
        let store = if json { builder.json() } else { builder }
            .open(dir.path())
            .expect("open");
        let codec: Box<dyn session_core::store::Codec> = if json {
            Box::new(session_core::store::JsonCodec::default())
        } else {
            Box::new(session_core::store::BincodeCodec::default())
        };
        let (b, u) = (key(1), key(2));
        let (mut with, mut without) = (bound("alice", &[("a", "1")]), live(&[("a", "1")]));
        assert!(store.create(&b, &with).await.expect("create"));
        assert!(store.create(&u, &without).await.expect("create"));
        with.data
            .insert("a".into(), Value::from_serialize("2").expect("json"));
        assert!(store.save(&b, &with).await.expect("save"));
        without = store.load(&u).await.expect("load").expect("live");
        for (k, record) in [(b, &mut with), (u, &mut without)] {
            assert!(
                store
                    .apply(&k, &set(record, "b", "3"))
                    .await
                    .expect("apply")
            );
            let later = record.expires.saturating_add(Duration::from_secs(60));
            assert!(store.touch(&k, later, later).await.expect("touch"));
            let stored = store.load(&k).await.expect("load").expect("live");
            assert_eq!(stored.binding, record.binding, "json: {json}");
            assert_eq!(stored.data.len(), 2);
            let bytes = std::fs::read(store.file_for(&k)).expect("read");
            let strict = decode_strict(&bytes, &*codec).expect("a well-formed file");
            assert_eq!(strict, stored);
            *record = stored;
        }
        assert_eq!(mode(&store.file_for(&b)), 0o400, "a bound record is marked");
        assert_eq!(mode(&store.file_for(&u)), 0o600, "an unbound one as before");
        let listed = store.list_subject("alice").await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].key, Some(&listed[0].binding)),
            (b, with.binding.as_deref())
        );
        assert_eq!(listed[0].expires, with.expires);
    }
}

/// Files as the release before subjects wrote them (an unbound record in bincode's old layout,
/// or JSON without a binding) load, take writes, stay unbound and 0600, and touch no index.
#[tokio::test]
async fn files_of_the_previous_release_still_load() {
    const EXPIRES: u64 = 4_102_444_800_000; // 2100-01-01
    // bincode 2, standard: the map {"n": "42"}, created 5, last_active 5, expires (a u64 above
    // 2^32: the tag 253 then 8 bytes), no lifetime.
    let mut old_bincode = vec![1, 1, b'n', 2, b'4', b'2', 5, 5, 253];
    old_bincode.extend_from_slice(&EXPIRES.to_le_bytes());
    old_bincode.push(0);
    let old_json = format!(
        r#"{{"data":{{"n":"42"}},"created":5,"last_active":5,"expires":{EXPIRES},"lifetime":null}}"#
    );
    for (json, payload) in [(false, old_bincode), (true, old_json.into_bytes())] {
        let dir = tempfile::tempdir().expect("tempdir");
        let builder = FileStore::builder().background_sweeper(false);
        let store = if json { builder.json() } else { builder }
            .open(dir.path())
            .expect("open");
        let mut file = b"SSF1".to_vec();
        file.extend_from_slice(&EXPIRES.to_le_bytes());
        file.extend_from_slice(&u32::try_from(payload.len()).expect("small").to_le_bytes());
        file.extend_from_slice(&payload);
        let path = store.file_for(&key(9));
        std::fs::write(&path, &file).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");

        let record = store
            .load(&key(9))
            .await
            .expect("load")
            .expect("an old file loads");
        assert_eq!(record.binding, None);
        assert_eq!(record.data["n"].as_json(), "42");
        assert_eq!(record.created.as_millis(), 5);
        assert!(
            store
                .apply(&key(9), &set(&record, "m", "x"))
                .await
                .expect("apply")
        );
        let again = store.load(&key(9)).await.expect("load").expect("live");
        assert_eq!((again.binding, again.data.len()), (None, 2));
        assert_eq!(mode(&path), 0o600);
        if !json {
            // Rewritten in the same layout: an older process still reads it.
            let bytes = std::fs::read(&path).expect("read");
            assert_eq!(bytes[16..][..9], [2, 1, b'm', 3, b'"', b'x', b'"', 1, b'n']);
        }
        assert!(store.delete(&key(9)).await.expect("delete"));
        assert!(
            !dir.path().join("subjects").exists(),
            "an index for unbound records"
        );
    }
}

/// The index names a subject's directory and its entries by digests, never by the subject; the
/// entry is in place before the record: a create of a bound record over an expired file, held
/// up by that file's lock, has written its entry while it waits.
#[test]
fn the_index_is_named_by_digests_and_written_before_the_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::builder()
        .background_sweeper(false)
        .open(dir.path())
        .expect("open");
    let subject = "alice@example.com";
    assert!(
        store
            .blocking()
            .create(&key(1), &bound(subject, &[]))
            .expect("create")
    );
    let entries = subject_dir(dir.path(), subject);
    assert_eq!(names(&entries), [key(1).to_hex()]);
    assert_eq!(
        names(&dir.path().join("subjects")),
        [subject_key(subject).to_hex()]
    );
    for name in names(dir.path()).iter().chain(&names(&entries)) {
        assert!(!name.contains("alice"), "{name}");
    }

    // A dead file under the key, locked (as by a writer in another process).
    let waited = key(2);
    assert!(
        store
            .blocking()
            .create(&waited, &expired())
            .expect("create")
    );
    let holder = std::fs::File::open(store.file_for(&waited)).expect("open");
    holder.lock().expect("lock");
    let creating = {
        let store = store.clone();
        std::thread::spawn(move || store.blocking().create(&waited, &bound(subject, &[])))
    };
    let entry = entries.join(waited.to_hex());
    let mut seen = false;
    for _ in 0..1000 {
        if entry.exists() {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !creating.is_finished(),
        "the create did not wait for the lock"
    );
    assert!(
        seen,
        "no index entry while the create waited to place its record"
    );
    drop(holder);
    assert!(creating.join().expect("thread").expect("create"));
    let listed: Vec<Key> = (store.blocking().list_subject(subject).expect("list").iter())
        .map(|bound| bound.key)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&waited));
}

/// One request on `engine` that binds a new session to `subject`.
async fn login(engine: &Engine, subject: &str) -> Key {
    let headers = HeaderMap::new();
    let session = engine.start(&RequestView::new(&headers, None));
    session.insert("user", subject).await.expect("insert");
    session.bind(subject).await.expect("bind");
    engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    session.id().await.expect("id").expect("stored").key()
}

/// Two stores on one directory (two servers): logins through one are listed by the other as
/// soon as each returns, and the other ends them all ("log out everywhere"): neither loads nor
/// lists any afterwards, and no index entry is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_directory_see_and_end_each_others_bound_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || FileStore::open(dir.path()).expect("open");
    let (first, second) = (open(), open());
    let engine = Engine::new(ParamState::default(), first.clone());
    let mut keys = Vec::new();
    for _ in 0..8 {
        keys.push(login(&engine, "bob").await);
        let listed = second.list_subject("bob").await.expect("list");
        assert_eq!(
            listed.len(),
            keys.len(),
            "a login the other store does not list"
        );
    }
    assert_eq!(
        Subjects::new(&second)
            .end_all("bob")
            .await
            .expect("end_all"),
        8
    );
    for key in &keys {
        assert_eq!(first.load(key).await.expect("load"), None);
    }
    assert!(first.list_subject("bob").await.expect("list").is_empty());
    assert!(names(&subject_dir(dir.path(), "bob")).is_empty());
}
