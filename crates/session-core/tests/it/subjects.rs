//! Sessions per subject through the engine: binding at login (new id, data kept, a handle of its
//! own), binding again, unbinding, the subject kept apart from the values, the operations from a
//! handler and from outside any request, the limit per subject, and the errors of a store without
//! an index.

use http::{HeaderMap, StatusCode};
use session_core::state::RequestView;
use session_core::store::{Key, Record, Store, StoreError, StoreErrorKind};
use session_core::subject::{ClientInfo, Subjects};
use session_core::{Engine, Error, Id, MemoryStore, ParamState, Session};

/// An engine on a shared memory store, with the id in a query parameter.
struct Harness {
    engine: Engine,
    store: MemoryStore,
}

impl Harness {
    fn new() -> Self {
        Harness::with(|builder| builder)
    }

    fn with(
        configure: impl FnOnce(session_core::EngineBuilder) -> session_core::EngineBuilder,
    ) -> Self {
        let store = MemoryStore::default();
        let engine = configure(Engine::builder(ParamState::default(), store.clone())).build();
        Harness { engine, store }
    }

    fn start(&self, id: Option<&Id>) -> Session {
        let headers = HeaderMap::new();
        let query = id.map(|id| format!("plack_session={}", id.as_str()));
        self.engine
            .start(&RequestView::new(&headers, query.as_deref()))
    }

    /// Runs `handler` in a request on `id` (or none), commits, and returns the session's id after
    /// the commit.
    async fn request<F, Fut>(&self, id: Option<&Id>, handler: F) -> Option<Id>
    where
        F: FnOnce(Session) -> Fut,
        Fut: Future<Output = ()>,
    {
        let session = self.start(id);
        handler(session.clone()).await;
        self.engine
            .commit(&session, StatusCode::OK)
            .await
            .expect("commit");
        session.id().await.expect("id")
    }

    /// A request on `id` reading the session: its subject and keys.
    async fn peek(&self, id: &Id) -> (Option<String>, Vec<String>) {
        let session = self.start(Some(id));
        let subject = session.subject().await.expect("subject");
        let keys = session.keys().await.expect("keys");
        (subject, keys)
    }

    /// A login as `subject`, from `id` (or a new session).
    async fn login(&self, id: Option<&Id>, subject: &str) -> Id {
        let subject = subject.to_owned();
        self.request(id, |s| async move {
            s.bind(&subject).await.expect("bind");
        })
        .await
        .expect("a stored session")
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn binding_a_stored_session_changes_its_id_and_keeps_its_data() {
    block_on(async {
        let h = Harness::new();
        let anonymous = h
            .request(None, |s| async move {
                s.insert("cart", 3).await.expect("insert");
            })
            .await
            .expect("stored");
        let bound = h.login(Some(&anonymous), "alice").await;
        assert_ne!(bound, anonymous);
        assert_eq!(h.store.load(&anonymous.key()).await.expect("load"), None);
        let (subject, keys) = h.peek(&bound).await;
        assert_eq!(subject.as_deref(), Some("alice"));
        assert_eq!(keys, ["cart"], "the subject is not among the values");

        // A value named like the subject changes nothing about the binding.
        h.request(Some(&bound), |s| async move {
            s.insert("subject", "mallory").await.expect("insert");
        })
        .await;
        assert_eq!(h.peek(&bound).await.0.as_deref(), Some("alice"));
        let listed = h.store.list_subject("alice").await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].key, bound.key());
    });
}

#[test]
fn binding_again_gives_a_new_handle_and_unbinding_unlists() {
    block_on(async {
        let h = Harness::new();
        let first = h.login(None, "alice").await;
        let first_handle = h.start(Some(&first)).handle().await.expect("handle");
        // Logging in again as the same subject keeps the handle; another subject, a new one.
        let again = h.login(Some(&first), "alice").await;
        assert_ne!(again, first);
        assert_eq!(
            h.start(Some(&again)).handle().await.expect("h"),
            first_handle
        );
        let first = again;
        let second = h.login(Some(&first), "bob").await;
        let session = h.start(Some(&second));
        assert_eq!(
            session.subject().await.expect("subject").as_deref(),
            Some("bob")
        );
        assert_ne!(session.handle().await.expect("handle"), first_handle);
        assert!(
            h.store
                .list_subject("alice")
                .await
                .expect("list")
                .is_empty()
        );
        assert_eq!(h.store.list_subject("bob").await.expect("list").len(), 1);

        // An id change keeps the handle.
        let handle = session.handle().await.expect("handle");
        let cycled = h
            .request(Some(&second), |s| async move { s.cycle_id() })
            .await
            .expect("stored");
        assert_ne!(cycled, second);
        assert_eq!(h.start(Some(&cycled)).handle().await.expect("h"), handle);

        let unbound = h
            .request(Some(&cycled), |s| async move {
                s.unbind().await.expect("unbind");
            })
            .await
            .expect("stored");
        assert_ne!(unbound, cycled);
        assert_eq!(h.peek(&unbound).await.0, None);
        assert!(h.store.list_subject("bob").await.expect("list").is_empty());
    });
}

#[test]
fn handlers_list_revoke_and_end_their_subjects_sessions() {
    block_on(async {
        let h = Harness::new();
        let info = ClientInfo::new()
            .user_agent("Firefox")
            .address("192.0.2.0/24");
        let phone = h
            .request(None, |s| async move {
                s.bind_with("alice", info).await.expect("bind");
            })
            .await
            .expect("stored");
        let laptop = h.login(None, "alice").await;
        let tablet = h.login(None, "alice").await;
        let bob = h.login(None, "bob").await;

        let session = h.start(Some(&laptop));
        let listed = session.sessions().await.expect("sessions");
        assert_eq!(listed.len(), 3);
        assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
        let from_phone = listed
            .iter()
            .find(|s| s.user_agent.as_deref() == Some("Firefox"))
            .expect("the phone's entry");
        assert_eq!(from_phone.address.as_deref(), Some("192.0.2.0/24"));

        let phone_handle = h
            .start(Some(&phone))
            .handle()
            .await
            .expect("h")
            .expect("bound");
        assert!(session.revoke(&phone_handle).await.expect("revoke"));
        assert!(!session.revoke(&phone_handle).await.expect("revoke again"));
        let bob_handle = h
            .start(Some(&bob))
            .handle()
            .await
            .expect("h")
            .expect("bound");
        assert!(!session.revoke(&bob_handle).await.expect("another's handle"));
        assert_eq!(h.peek(&phone).await.0, None, "the phone's session lives");

        assert_eq!(session.end_other_sessions().await.expect("others"), 1);
        assert_eq!(h.peek(&tablet).await.0, None);
        assert_eq!(h.peek(&laptop).await.0.as_deref(), Some("alice"));

        // From outside any request.
        let subjects = h.engine.subjects().expect("a server-side engine");
        assert_eq!(subjects.list("alice").await.expect("list").len(), 1);
        assert_eq!(subjects.end_all("alice").await.expect("end all"), 1);
        assert_eq!(h.peek(&laptop).await.0, None);
        assert_eq!(h.peek(&bob).await.0.as_deref(), Some("bob"));
        assert_eq!(
            Subjects::new(&h.store)
                .list("bob")
                .await
                .expect("list")
                .len(),
            1
        );

        // Not bound, and a subject refused.
        let anonymous = h.start(None);
        assert!(matches!(anonymous.sessions().await, Err(Error::NotBound)));
        assert!(matches!(
            anonymous.bind("").await,
            Err(Error::InvalidSubject(_))
        ));
        let long = "x".repeat(257);
        assert!(matches!(
            anonymous.bind(&long).await,
            Err(Error::InvalidSubject(_))
        ));
    });
}

#[test]
fn logging_out_everywhere_from_a_handler_ends_this_session_too() {
    block_on(async {
        let h = Harness::new();
        let first = h.login(None, "alice").await;
        let second = h.login(None, "alice").await;
        let session = h.start(Some(&first));
        assert_eq!(session.end_all_sessions().await.expect("end all"), 2);
        h.engine
            .commit(&session, StatusCode::OK)
            .await
            .expect("commit");
        for id in [&first, &second] {
            assert_eq!(h.peek(id).await.0, None);
        }
    });
}

/// `save` after `bind` on a stored session writes the values now; the binding still goes with
/// the commit's id change.
#[test]
fn saving_after_binding_keeps_the_binding() {
    block_on(async {
        let h = Harness::new();
        let anonymous = h
            .request(None, |s| async move {
                s.insert("cart", 1).await.expect("insert");
            })
            .await
            .expect("stored");
        let bound = h
            .request(Some(&anonymous), |s| async move {
                s.bind("alice").await.expect("bind");
                s.insert("cart", 2).await.expect("insert");
                s.save().await.expect("save");
            })
            .await
            .expect("stored");
        assert_ne!(bound, anonymous);
        let (subject, keys) = h.peek(&bound).await;
        assert_eq!(subject.as_deref(), Some("alice"));
        assert_eq!(keys, ["cart"]);
        assert_eq!(h.store.list_subject("alice").await.expect("list").len(), 1);
    });
}

/// A login that also ends the subject's other sessions ("log out other devices" at a password
/// change) keeps the session logging in.
#[test]
fn logging_in_again_and_ending_the_others_keeps_this_session() {
    block_on(async {
        let h = Harness::new();
        let here = h.login(None, "alice").await;
        let there = h.login(None, "alice").await;
        let after = h
            .request(Some(&here), |s| async move {
                s.bind("alice").await.expect("bind");
                assert_eq!(s.end_other_sessions().await.expect("others"), 1);
            })
            .await
            .expect("stored");
        assert_eq!(h.peek(&after).await.0.as_deref(), Some("alice"));
        assert_eq!(h.peek(&there).await.0, None);
    });
}

/// Ending sessions deletes whatever the store lists, even one this engine judges dead (past its
/// absolute cap): another process, with a longer cap or a slower clock, could still serve it.
#[test]
fn ending_deletes_what_the_store_lists_even_past_this_engines_cap() {
    block_on(async {
        let clock = session_core::store::ManualClock::starting_now();
        let store = MemoryStore::default().clock(clock.clone());
        // A process without a cap logs in; this one caps sessions at 10 seconds.
        let other = Engine::builder(ParamState::default(), store.clone())
            .clock(clock.clone())
            .build();
        let h = Harness {
            engine: other,
            store: store.clone(),
        };
        h.login(None, "erin").await;
        let this = Engine::builder(ParamState::default(), store.clone())
            .clock(clock.clone())
            .absolute_timeout(std::time::Duration::from_secs(10))
            .build();
        let h = Harness {
            engine: this,
            store,
        };
        clock.advance(std::time::Duration::from_secs(11));
        let subjects = h.engine.subjects().expect("server-side");
        assert!(subjects.list("erin").await.expect("list").is_empty());
        assert_eq!(h.store.list_subject("erin").await.expect("list").len(), 1);
        assert_eq!(subjects.end_all("erin").await.expect("end all"), 1);
        assert!(h.store.list_subject("erin").await.expect("list").is_empty());
    });
}

#[test]
fn a_login_past_the_limit_ends_the_least_recently_active() {
    block_on(async {
        let clock = session_core::store::ManualClock::starting_now();
        let store = MemoryStore::default().clock(clock.clone());
        let engine = Engine::builder(ParamState::default(), store.clone())
            .clock(clock.clone())
            .max_sessions_per_subject(2)
            .build();
        let h = Harness { engine, store };
        let oldest = h.login(None, "carol").await;
        clock.advance(std::time::Duration::from_secs(5));
        let middle = h.login(None, "carol").await;
        clock.advance(std::time::Duration::from_secs(5));
        let newest = h.login(None, "carol").await;
        assert_eq!(h.peek(&oldest).await.0, None, "the least recent lives");
        for id in [&middle, &newest] {
            assert_eq!(h.peek(id).await.0.as_deref(), Some("carol"));
        }
        // Logging in again (same session) never ends the session logging in.
        let again = h.login(Some(&middle), "carol").await;
        assert_eq!(h.peek(&again).await.0.as_deref(), Some("carol"));
        assert_eq!(h.store.list_subject("carol").await.expect("list").len(), 2);
    });
}

/// A store written before sessions per subject: only the four required methods.
struct Plain(MemoryStore);

#[async_trait::async_trait]
impl Store for Plain {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.0.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
}

#[test]
fn stores_without_an_index_and_client_side_engines_say_unsupported() {
    block_on(async {
        let engine = Engine::new(ParamState::default(), Plain(MemoryStore::default()));
        let h = Harness {
            engine,
            store: MemoryStore::default(),
        };
        let id = h.login(None, "alice").await;
        let session = h.start(Some(&id));
        let unsupported = |result: Result<_, Error>| match result {
            Err(Error::Store(error)) => error.kind() == StoreErrorKind::Unsupported,
            _ => false,
        };
        assert!(unsupported(session.sessions().await.map(|_| ())));
        assert!(unsupported(session.end_all_sessions().await.map(|_| ())));
        assert!(unsupported(h.engine.subjects().map(|_| ())));
        let error = Subjects::new(&Plain(MemoryStore::default()))
            .list("alice")
            .await
            .expect_err("no index");
        assert!(error.to_string().contains("store"), "{error}");
        let cause = std::error::Error::source(&error).expect("a store error");
        let cause = std::error::Error::source(cause).expect("its cause");
        assert!(cause.to_string().contains("lists_subjects"), "{cause}");
    });
}
