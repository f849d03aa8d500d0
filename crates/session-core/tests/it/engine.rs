//! The request lifecycle, driven through the engine with a header-carried id.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use session_core::state::{Candidates, Delivery, RequestView, State};
use session_core::store::{Key, ManualClock, Record, Store, StoreError};
use session_core::{Engine, Id, Lifetime, MemoryStore};

/// Carries the id in an `x-session` header both ways; removal is `x-session: -`.
#[derive(Debug)]
struct HeaderState;

impl State for HeaderState {
    fn extract<'a>(&self, request: &RequestView<'a>) -> Candidates<'a> {
        let mut found = Candidates::new();
        for value in request.headers().get_all("x-session") {
            if let Ok(text) = value.to_str() {
                found.push(text);
            }
        }
        found
    }
    fn finalize(&self, id: &Id, delivery: &Delivery, headers: &mut HeaderMap) {
        let max_age = delivery
            .max_age
            .map_or(String::new(), |d| format!(";{}", d.as_secs()));
        let value = format!("{}{max_age}", id.as_str());
        headers.append(
            "x-session",
            HeaderValue::from_str(&value).expect("header-safe id"),
        );
    }
    fn expire(&self, headers: &mut HeaderMap) {
        headers.append("x-session", HeaderValue::from_static("-"));
    }
}

struct Harness {
    engine: Engine,
    clock: ManualClock,
    store: MemoryStore,
}

impl Harness {
    fn new(
        configure: impl FnOnce(session_core::EngineBuilder) -> session_core::EngineBuilder,
    ) -> Self {
        let clock = ManualClock::starting_now();
        let store = MemoryStore::default().clock(clock.clone());
        let engine =
            configure(Engine::builder(HeaderState, store.clone()).clock(clock.clone())).build();
        Harness {
            engine,
            clock,
            store,
        }
    }

    /// One request: runs `handler` on the session and returns the response headers.
    async fn request<F, Fut>(&self, id: Option<&str>, status: StatusCode, handler: F) -> HeaderMap
    where
        F: FnOnce(session_core::Session) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut headers = HeaderMap::new();
        if let Some(id) = id {
            headers.insert("x-session", HeaderValue::from_str(id).expect("ascii"));
        }
        let session = self.engine.start(&RequestView::new(&headers, None));
        handler(session.clone()).await;
        let commit = self.engine.commit(&session, status).await.expect("commit");
        let mut out = HeaderMap::new();
        commit.apply_to(&mut out);
        out
    }

    /// The session of a request carrying `id`, for a test that commits it later.
    fn start(&self, id: &str) -> session_core::Session {
        let mut headers = HeaderMap::new();
        headers.insert("x-session", HeaderValue::from_str(id).expect("ascii"));
        self.engine.start(&RequestView::new(&headers, None))
    }

    /// Commits `session` (200) and returns the id its response sends.
    async fn commit_sending_id(&self, session: &session_core::Session) -> String {
        let commit = self
            .engine
            .commit(session, StatusCode::OK)
            .await
            .expect("commit");
        commit.state_headers()["x-session"]
            .to_str()
            .expect("ascii")
            .to_string()
    }
}

fn sent_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-session")?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().to_string())
}

async fn counter(h: &Harness, id: Option<&str>) -> (u64, HeaderMap) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(0));
    let seen2 = seen.clone();
    let headers = h
        .request(id, StatusCode::OK, |s| async move {
            let n: u64 = s.get("n").await.expect("get").unwrap_or(0);
            s.insert("n", n + 1).await.expect("insert");
            *seen2.lock().expect("lock") = n;
        })
        .await;
    let n = *seen.lock().expect("lock");
    (n, headers)
}

#[tokio::test]
async fn untouched_session_costs_nothing_and_empty_sessions_are_not_stored() {
    let h = Harness::new(|b| b);
    let headers = h.request(None, StatusCode::OK, |_| async {}).await;
    assert!(headers.is_empty(), "untouched: {headers:?}");
    let headers = h
        .request(None, StatusCode::OK, |s| async move {
            assert_eq!(s.get::<u64>("n").await.expect("get"), None);
        })
        .await;
    assert!(headers.get("x-session").is_none());
    assert_eq!(
        headers.get("vary").map(|v| v.to_str().expect("ascii")),
        Some("cookie")
    );
    assert!(h.store.is_empty());
}

#[tokio::test]
async fn counter_counts_and_sets_no_store() {
    let h = Harness::new(|b| b);
    let (n, headers) = counter(&h, None).await;
    assert_eq!(n, 0);
    assert_eq!(
        headers
            .get("cache-control")
            .map(|v| v.to_str().expect("ascii")),
        Some("no-store")
    );
    let id = sent_id(&headers).expect("id sent");
    assert_eq!(counter(&h, Some(&id)).await.0, 1);
    assert_eq!(counter(&h, Some(&id)).await.0, 2);
}

#[tokio::test]
async fn server_errors_and_skip_store_commit_nothing() {
    let h = Harness::new(|b| b);
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    let headers = h
        .request(
            Some(&id),
            StatusCode::INTERNAL_SERVER_ERROR,
            |s| async move {
                s.insert("n", &100u64).await.expect("insert");
            },
        )
        .await;
    assert!(headers.get("x-session").is_none());
    let headers = h
        .request(Some(&id), StatusCode::OK, |s| async move {
            s.insert("n", &200u64).await.expect("insert");
            s.skip_store();
        })
        .await;
    assert!(headers.get("x-session").is_none());
    assert_eq!(counter(&h, Some(&id)).await.0, 1);
}

#[tokio::test]
async fn cycle_id_moves_data_and_kills_the_old_id() {
    let h = Harness::new(|b| b);
    let old = sent_id(&counter(&h, None).await.1).expect("id");
    let headers = h
        .request(Some(&old), StatusCode::OK, |s| async move { s.cycle_id() })
        .await;
    let new = sent_id(&headers).expect("new id");
    assert_ne!(new, old);
    assert_eq!(counter(&h, Some(&new)).await.0, 1);
    assert_eq!(counter(&h, Some(&old)).await.0, 0, "old id must be dead");
}

#[tokio::test]
async fn expire_deletes_and_removes_the_id() {
    let h = Harness::new(|b| b);
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    let headers = h
        .request(Some(&id), StatusCode::OK, |s| async move { s.expire() })
        .await;
    assert_eq!(
        headers.get("x-session").map(|v| v.to_str().expect("ascii")),
        Some("-")
    );
    assert_eq!(counter(&h, Some(&id)).await.0, 0);
}

#[tokio::test]
async fn idle_timeout_slides_and_absolute_timeout_caps() {
    let h = Harness::new(|b| {
        b.lifetime(Lifetime::browser_session(Duration::from_secs(600)))
            .absolute_timeout(Duration::from_secs(1500))
    });
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    for expected in 1..=3 {
        h.clock.advance(Duration::from_secs(450));
        assert_eq!(
            counter(&h, Some(&id)).await.0,
            expected,
            "sliding at {expected}"
        );
    }
    // 1500 s after creation the cap ends it, however active.
    h.clock.advance(Duration::from_secs(150));
    assert_eq!(counter(&h, Some(&id)).await.0, 0);

    let id = sent_id(&counter(&h, None).await.1).expect("id");
    h.clock.advance(Duration::from_secs(601));
    assert_eq!(counter(&h, Some(&id)).await.0, 0, "idle timeout");
}

#[tokio::test]
async fn reads_extend_expiry_after_the_touch_interval() {
    let h = Harness::new(|b| b.lifetime(Lifetime::browser_session(Duration::from_secs(600))));
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    for _ in 0..3 {
        h.clock.advance(Duration::from_secs(400));
        let read = h.request(Some(&id), StatusCode::OK, |s| async move {
            assert_eq!(s.get::<u64>("n").await.expect("get"), Some(1));
        });
        read.await;
    }
    assert_eq!(
        counter(&h, Some(&id)).await.0,
        1,
        "reads kept the session alive"
    );
}

#[tokio::test]
async fn remember_me_sends_a_max_age_and_outlives_the_default() {
    let h = Harness::new(|b| b.lifetime(Lifetime::browser_session(Duration::from_secs(600))));
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    let headers = h
        .request(Some(&id), StatusCode::OK, |s| async move {
            s.set_lifetime(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
        })
        .await;
    let value = headers
        .get("x-session")
        .expect("cookie")
        .to_str()
        .expect("ascii");
    assert_eq!(value, format!("{id};{}", 30 * 86_400));
    h.clock.advance(Duration::from_secs(86_400));
    assert_eq!(counter(&h, Some(&id)).await.0, 1);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_never_adopted() {
    let h = Harness::new(|b| b);
    let unknown = "A".repeat(43);
    let headers = counter(&h, Some(&unknown)).await.1;
    let issued = sent_id(&headers).expect("fresh id");
    assert_ne!(issued, unknown);
    let headers = counter(&h, Some("../wrong")).await.1;
    assert_ne!(sent_id(&headers).expect("fresh id"), "../wrong");
}

#[tokio::test]
async fn a_session_ended_elsewhere_is_never_brought_back() {
    let h = Harness::new(|b| b);
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    // Request 2 loads the session; request 3 logs it out before request 2 saves.
    let mut headers = HeaderMap::new();
    headers.insert("x-session", HeaderValue::from_str(&id).expect("ascii"));
    let slow = h.engine.start(&RequestView::new(&headers, None));
    assert_eq!(slow.get::<u64>("n").await.expect("get"), Some(1));
    let out = h
        .request(Some(&id), StatusCode::OK, |s| async move { s.expire() })
        .await;
    assert_eq!(
        out.get("x-session").map(|v| v.to_str().expect("ascii")),
        Some("-")
    );
    slow.insert("n", &99u64).await.expect("insert");
    assert!(matches!(
        slow.save().await,
        Err(session_core::Error::SessionEnded)
    ));
    let commit = h
        .engine
        .commit(&slow, StatusCode::OK)
        .await
        .expect("commit");
    let mut out = HeaderMap::new();
    commit.apply_to(&mut out);
    // No removal either: it could race with a newer cookie, and a dead id is never adopted.
    assert!(out.get("x-session").is_none(), "{out:?}");
    assert!(h.store.is_empty(), "nothing was written back");
}

#[tokio::test]
async fn expiring_an_unknown_id_still_removes_the_cookie() {
    let h = Harness::new(|b| b);
    let unknown = "A".repeat(43);
    let out = h
        .request(Some(&unknown), StatusCode::OK, |s| async move {
            assert_eq!(s.get::<u64>("n").await.expect("get"), None);
            s.expire();
        })
        .await;
    assert_eq!(
        out.get("x-session").map(|v| v.to_str().expect("ascii")),
        Some("-")
    );
    let out = h
        .request(None, StatusCode::OK, |s| async move { s.expire() })
        .await;
    assert!(out.get("x-session").is_none(), "no id, nothing to remove");
    let out = h
        .request(
            Some("../wrong"),
            StatusCode::OK,
            |s| async move { s.expire() },
        )
        .await;
    let removal = out.get("x-session").map(|v| v.to_str().expect("ascii"));
    assert_eq!(removal, Some("-"), "malformed ids are removed too");
}

#[tokio::test]
async fn save_then_commit_delivers_the_real_expiry_and_commit_runs_once() {
    let h = Harness::new(|b| b.lifetime(Lifetime::persistent(Duration::from_secs(3600))));
    let headers = HeaderMap::new();
    let session = h.engine.start(&RequestView::new(&headers, None));
    session.insert("n", 1u64).await.expect("insert");
    let id = session.save().await.expect("save");
    let commit = h
        .engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    let value = commit.state_headers()["x-session"].to_str().expect("ascii");
    assert_eq!(
        value,
        format!("{};3600", id.as_str()),
        "Max-Age is the lifetime, not zero"
    );
    let again = h
        .engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    assert!(
        again.state_headers().is_empty(),
        "a second commit does nothing"
    );
    assert_eq!(h.store.len(), 1);
}

#[tokio::test]
async fn remember_me_saved_early_still_sends_the_cookie() {
    let h = Harness::new(|b| b.lifetime(Lifetime::browser_session(Duration::from_secs(600))));
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    let out = h
        .request(Some(&id), StatusCode::OK, |s| async move {
            s.set_lifetime(Lifetime::persistent(Duration::from_secs(86_400)));
            s.insert("user", "alice").await.expect("insert");
            s.save().await.expect("save");
        })
        .await;
    let value = out
        .get("x-session")
        .expect("cookie")
        .to_str()
        .expect("ascii");
    assert_eq!(value, format!("{id};86400"));
}

#[tokio::test]
async fn cycle_id_keeps_keys_written_meanwhile_and_loses_to_a_logout() {
    let h = Harness::new(|b| b);
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    // The login request loads, then another request writes `cart`, then the login commits.
    let login = h.start(&id);
    login.insert("user", "alice").await.expect("insert");
    login.cycle_id();
    h.request(Some(&id), StatusCode::OK, |s| async move {
        s.insert("cart", 3u64).await.expect("insert");
    })
    .await;
    let new = h.commit_sending_id(&login).await;
    assert_ne!(new, id);
    h.request(Some(&new), StatusCode::OK, |s| async move {
        assert_eq!(s.get::<u64>("cart").await.expect("get"), Some(3));
        assert_eq!(
            s.get::<String>("user").await.expect("get").as_deref(),
            Some("alice")
        );
        assert_eq!(s.get::<u64>("n").await.expect("get"), Some(1));
    })
    .await;

    // A login racing a logout: the logout wins, nothing is stored.
    let id = new;
    let login = h.start(&id);
    assert_eq!(login.get::<u64>("n").await.expect("get"), Some(1));
    login.cycle_id();
    h.request(Some(&id), StatusCode::OK, |s| async move { s.expire() })
        .await;
    let commit = h
        .engine
        .commit(&login, StatusCode::OK)
        .await
        .expect("commit");
    assert!(commit.state_headers().is_empty());
    assert!(h.store.is_empty());
}

#[tokio::test]
async fn at_most_four_candidates_are_tried() {
    let h = Harness::new(|b| b);
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    let mut headers = HeaderMap::new();
    for _ in 0..4 {
        let unknown = HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        headers.append("x-session", unknown);
    }
    headers.append("x-session", HeaderValue::from_str(&id).expect("ascii"));
    let session = h.engine.start(&RequestView::new(&headers, None));
    let n = session.get::<u64>("n").await.expect("get");
    assert_eq!(n, None, "the fifth candidate is never tried");
}

/// A request carrying the ids `ids`, in order: the `n` its session reads, and whether the
/// response gave it a new id.
async fn read_n(h: &Harness, ids: &[&str]) -> (Option<u64>, bool) {
    let mut headers = HeaderMap::new();
    for id in ids {
        headers.append("x-session", HeaderValue::from_str(id).expect("ascii"));
    }
    let session = h.engine.start(&RequestView::new(&headers, None));
    let n = session.get::<u64>("n").await.expect("get");
    session.insert("seen", true).await.expect("insert");
    let commit = h
        .engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    let issued = sent_id(commit.state_headers());
    (
        n,
        issued.is_some_and(|issued| !ids.contains(&issued.as_str())),
    )
}

#[tokio::test]
async fn of_several_ids_only_the_sole_live_one_is_adopted() {
    let h = Harness::new(|b| b);
    let victim = sent_id(&counter(&h, None).await.1).expect("id");
    let tossed = sent_id(&counter(&h, None).await.1).expect("id");
    counter(&h, Some(&tossed)).await;
    let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    // One live among unknown ones, or the same id twice: adopted.
    assert_eq!(read_n(&h, &[unknown, &victim]).await, (Some(1), false));
    assert_eq!(read_n(&h, &[&victim, &victim]).await, (Some(1), false));
    // Two live sessions under the name (a cookie tossed in from a sibling domain on a longer
    // path comes first): neither is adopted, in either order; a fresh session is started.
    assert_eq!(read_n(&h, &[&tossed, &victim]).await, (None, true));
    assert_eq!(read_n(&h, &[&victim, unknown, &tossed]).await, (None, true));
    // Neither session took the fresh session's write.
    for id in [&victim, &tossed] {
        let (n, issued) = read_n(&h, &[id]).await;
        assert!(n.is_some() && !issued);
    }
    assert_eq!(counter(&h, Some(&victim)).await.0, 1);
    assert_eq!(counter(&h, Some(&tossed)).await.0, 2);

    // More than four: none is adopted, since the victim's could be the one left untried.
    let crowd = [&tossed, "x", "y", "z", &victim];
    assert_eq!(read_n(&h, &crowd).await, (None, true));
    let crowd = [
        &tossed,
        unknown,
        unknown,
        unknown,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
    ];
    assert_eq!(read_n(&h, &crowd).await, (None, true));
}

#[tokio::test]
async fn a_logout_that_adopted_none_deletes_what_each_id_names() {
    let h = Harness::new(|b| b);
    let victim = sent_id(&counter(&h, None).await.1).expect("id");
    let tossed = sent_id(&counter(&h, None).await.1).expect("id");
    let mut headers = HeaderMap::new();
    for id in [&tossed, &victim] {
        headers.append("x-session", HeaderValue::from_str(id).expect("ascii"));
    }
    // The handler reads first (no session adopted), then logs out.
    let session = h.engine.start(&RequestView::new(&headers, None));
    assert_eq!(session.get::<u64>("n").await.expect("get"), None);
    session.expire();
    h.engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    assert!(h.store.is_empty(), "a session outlived the logout");
}

#[tokio::test]
async fn a_long_request_commits_the_expiry_of_its_end_not_its_start() {
    let h = Harness::new(|b| b.lifetime(Lifetime::browser_session(Duration::from_secs(300))));
    let id = sent_id(&counter(&h, None).await.1).expect("id");
    let mut headers = HeaderMap::new();
    headers.insert("x-session", HeaderValue::from_str(&id).expect("ascii"));
    let upload = h.engine.start(&RequestView::new(&headers, None));
    assert_eq!(upload.get::<u64>("n").await.expect("get"), Some(1));
    // A slow upload: other requests keep the session alive meanwhile.
    for _ in 0..3 {
        h.clock.advance(Duration::from_secs(120));
        counter(&h, Some(&id)).await;
    }
    upload.insert("upload", "done").await.expect("insert");
    h.engine
        .commit(&upload, StatusCode::OK)
        .await
        .expect("commit");
    h.clock.advance(Duration::from_secs(200));
    assert_eq!(
        counter(&h, Some(&id)).await.0,
        4,
        "still alive 200 s after the upload ended"
    );
}

/// A store whose every call fails.
#[derive(Debug)]
struct DownStore;

fn down() -> StoreError {
    StoreError::backend("down")
}

#[async_trait::async_trait]
impl Store for DownStore {
    async fn load(&self, _: &Key) -> Result<Option<Record>, StoreError> {
        Err(down())
    }
    async fn create(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn save(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn delete(&self, _: &Key) -> Result<bool, StoreError> {
        Err(down())
    }
}

#[tokio::test]
async fn a_read_that_fails_still_marks_the_response_as_depending_on_the_session() {
    let engine = Engine::new(HeaderState, DownStore);
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-session",
        HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    );
    let session = engine.start(&RequestView::new(&headers, None));
    assert!(session.get::<u64>("n").await.is_err(), "the store is down");
    // The handler answers anyway (an anonymous page, say): that page depended on the session.
    let commit = engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("nothing to write");
    let mut response = HeaderMap::new();
    commit.apply_to(&mut response);
    assert_eq!(
        response.get("vary").map(|v| v.as_bytes()),
        Some(&b"cookie"[..])
    );
}

/// The key `name` bound to the session's id (`Session::ID_BOUND_PREFIX`).
fn bound(name: &str) -> String {
    format!("{}{name}", session_core::Session::ID_BOUND_PREFIX)
}

/// Keys bound to the id do not move to a new id, whether the login read the session before
/// asking for the new id or not, and whoever wrote them (a concurrent request under the old id);
/// the rest of the data moves. One set after `cycle_id` belongs to the new id and stays.
#[tokio::test]
async fn keys_bound_to_the_id_are_dropped_when_it_changes() {
    let h = Harness::new(|b| b);
    let id = sent_id(
        &h.request(None, StatusCode::OK, |s| async move {
            s.insert(&bound("token"), "old").await.expect("insert");
            s.insert("user", "alice").await.expect("insert");
        })
        .await,
    )
    .expect("id");

    // Asked before the first read: the read no longer sees the old token.
    let new = sent_id(
        &h.request(Some(&id), StatusCode::OK, |s| async move {
            s.cycle_id();
            assert_eq!(s.get::<String>(&bound("token")).await.expect("get"), None);
            assert_eq!(s.len().await.expect("len"), 1);
        })
        .await,
    )
    .expect("a new id");
    assert_ne!(new, id);
    h.request(Some(&new), StatusCode::OK, |s| async move {
        assert_eq!(s.get::<String>(&bound("token")).await.expect("get"), None);
        assert_eq!(
            s.get::<String>("user").await.expect("get").as_deref(),
            Some("alice")
        );
        s.insert(&bound("token"), "second").await.expect("insert");
    })
    .await;

    // Asked after a read, a new token minted after it, and another request writing a bound key
    // under the old id meanwhile: only the new token moves.
    let login = h.start(&new);
    assert_eq!(
        login
            .get::<String>(&bound("token"))
            .await
            .expect("get")
            .as_deref(),
        Some("second")
    );
    login.cycle_id();
    login
        .insert(&bound("token"), "third")
        .await
        .expect("insert");
    h.request(Some(&new), StatusCode::OK, |s| async move {
        s.insert(&bound("other"), "meanwhile")
            .await
            .expect("insert");
        s.insert("cart", 3u64).await.expect("insert");
    })
    .await;
    let newest = h.commit_sending_id(&login).await;
    h.request(Some(&newest), StatusCode::OK, |s| async move {
        assert_eq!(
            s.get::<String>(&bound("token"))
                .await
                .expect("get")
                .as_deref(),
            Some("third")
        );
        assert_eq!(s.get::<String>(&bound("other")).await.expect("get"), None);
        assert_eq!(s.get::<u64>("cart").await.expect("get"), Some(3));
        assert_eq!(
            s.get::<String>("user").await.expect("get").as_deref(),
            Some("alice")
        );
    })
    .await;
}

/// When the id does not change after all, keys bound to it stay in the store: a `save` after
/// `cycle_id` in a request that then fails (a 5xx) writes the request's changes but not the
/// removal of the bound keys.
#[tokio::test]
async fn keys_bound_to_the_id_stay_when_the_id_does_not_change() {
    let h = Harness::new(|b| b);
    let id = sent_id(
        &h.request(None, StatusCode::OK, |s| async move {
            s.insert(&bound("token"), "kept").await.expect("insert");
        })
        .await,
    )
    .expect("id");
    h.request(
        Some(&id),
        StatusCode::INTERNAL_SERVER_ERROR,
        |s| async move {
            s.cycle_id();
            s.insert("cart", 1u64).await.expect("insert");
            s.save().await.expect("save");
        },
    )
    .await;
    h.request(Some(&id), StatusCode::OK, |s| async move {
        assert_eq!(
            s.get::<String>(&bound("token"))
                .await
                .expect("get")
                .as_deref(),
            Some("kept"),
            "the token was removed under an id that did not change"
        );
        assert_eq!(s.get::<u64>("cart").await.expect("get"), Some(1));
    })
    .await;
}
