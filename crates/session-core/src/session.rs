//! [`Session`]: the handle a request handler receives.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

use http::HeaderMap;

use crate::client::ClientStore;
use crate::config::{Backend, Config};
use crate::error::Error;
use crate::id::Id;
use crate::observe::{self, Event};
use crate::record::Lifetime;
use crate::request::{Fate, Loaded, RequestState, SoleLive, Stored};
use crate::state::{CookieOptions, Delivery};
use crate::store::Store;
use crate::subject::{Binding, ClientInfo, Handle, SessionInfo, Subjects};
use crate::value::Value;

/// One request's view of its session: typed get, insert and remove over string keys.
///
/// A `Session` is cheap to clone (clones share one state), `Send` and `Sync`, and lazy: the store
/// is not touched until a method that needs the data is first awaited, so a request that never uses
/// its session costs no store I/O and gets no cookie.
///
/// Changes are tracked per key. When the request ends, only the keys this request changed are
/// written, so concurrent requests on one session keep each other's writes (on stores that apply
/// changes atomically); when two requests write the same key, the later commit wins.
///
/// [`expire`](Session::expire), [`cycle_id`](Session::cycle_id) and
/// [`skip_store`](Session::skip_store) ask something of the commit; they take effect when the
/// response is committed. Changes made after the commit (from a task that outlived the request,
/// say) are not written.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    state: Mutex<RequestState>,
    /// The request's `session` span, if a subscriber asks for it.
    span: Option<Box<tracing::Span>>,
}

impl Session {
    /// The prefix of keys that belong to the session's current id: every key whose name starts
    /// with it is removed whenever the id changes ([`cycle_id`](Session::cycle_id), a login that
    /// binds a subject), while the rest of the data moves to the new id. For secrets that must
    /// not outlive a privilege change, such as a CSRF token (`session-extras` keeps its token
    /// under `~id.csrf`). One set after `cycle_id` in the same request belongs to the new id and
    /// stays.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use http::HeaderMap;
    /// use session_core::{Engine, MemoryStore, ParamState, Session};
    /// use session_core::state::RequestView;
    ///
    /// let engine = Engine::new(ParamState::default(), MemoryStore::default());
    /// let headers = HeaderMap::new();
    /// let session = engine.start(&RequestView::new(&headers, None));
    /// let token = format!("{}token", Session::ID_BOUND_PREFIX);
    /// session.insert(&token, "t1").await?;
    /// session.insert("user", "alice").await?;
    /// session.cycle_id();
    /// assert_eq!(session.get::<String>(&token).await?, None);
    /// assert_eq!(session.get::<String>("user").await?.as_deref(), Some("alice"));
    /// # Ok::<_, session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub const ID_BOUND_PREFIX: &str = crate::record::ID_BOUND_PREFIX;

    pub(crate) fn new(config: Arc<Config>, state: RequestState) -> Self {
        // Before the state moves into place, so that it moves once.
        let span = observe::request_span();
        Session {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(state),
                span,
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, RequestState> {
        // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// The request's `session` span.
    pub(crate) fn span(&self) -> &tracing::Span {
        self.inner.span.as_deref().unwrap_or(&observe::NO_SPAN)
    }

    /// Loads the session from the store if that has not happened yet.
    ///
    /// One candidate id is adopted if it names a live record. Of several (a request carrying more
    /// than one cookie of the session's name), one is adopted only if it is the only one that names
    /// a live record: a cookie tossed in from a sibling subdomain must not be adopted in the
    /// victim's place, nor hide the victim's own. Of more than four, none is (the victim's could
    /// be the one left untried). Otherwise the session starts empty and new.
    pub(crate) async fn load(&self) -> Result<(), Error> {
        self.with_loaded(|_| ()).await
    }

    /// Runs `f` on the loaded session, loading it first if needed (one lock when already loaded).
    async fn with_loaded<R>(&self, f: impl FnOnce(&mut RequestState) -> R) -> Result<R, Error> {
        let (count, crowded, unverified) = {
            let mut state = self.lock();
            state.touch();
            if state.loaded().is_some() {
                return Ok(f(&mut state));
            }
            let unverified = state.unverified_binding();
            (state.sent.candidates.len(), state.sent.crowded, unverified)
        };
        let config = self.config();
        let now = config.clock.now();
        // A bound client-side session: adopted once the revocation store says it was not ended.
        // (It stays pending until then, so that a concurrent first read checks it too.)
        if let Some((subject, bound_at)) = unverified {
            let revoked = config.is_revoked(&subject, bound_at).await?;
            if revoked {
                tracing::debug!("a sealed session was ended by its subject's logout everywhere");
            }
            let mut state = self.lock();
            state.finish_unverified(revoked, now);
            return Ok(f(&mut state));
        }
        let mut sole = SoleLive::new();
        if crowded {
            tracing::warn!(
                "the request carries more than four ids under the session's name (cookies tossed \
                 from a sibling domain?): adopting none, starting a fresh session"
            );
        }
        // Client-side sessions are opened when the request starts: only a server store reads.
        if let Some(store) = config.backend.store().filter(|_| !crowded) {
            let timer = if count > 0 {
                observe::start_timer(self.span())
            } else {
                None
            };
            // Candidates are cloned one at a time, so the lock is never held across an await.
            for index in 0..count {
                // A statement of its own, so the guard is dropped before the store's await.
                let next = self.lock().sent.candidates.get(index).cloned();
                let Some(id) = next else { break };
                let key = id.key();
                let loaded = observe::store_call!(self.span(), "load", store.load(&key))
                    .inspect_err(|_| {
                        observe::stop_timer(self.span(), "load_us", timer);
                        observe::count(Event::Failed);
                    })?;
                if let Some(record) = loaded
                    && !config.is_dead(&record, now)
                {
                    // Listed once each: no copies.
                    sole.offer((id, key, record));
                }
            }
            observe::stop_timer(self.span(), "load_us", timer);
        }
        let found = sole.adopt().unwrap_or(None);
        if found.is_some() {
            observe::count(Event::Loaded);
        }
        let mut state = self.lock();
        state.finish_load(found, now);
        Ok(f(&mut state))
    }

    /// Reads the value under `key` as `T`; `Ok(None)` if there is none.
    ///
    /// Fails if the store fails, or if the stored value is not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.with_loaded(|state| match state.data().and_then(|data| data.get(key)) {
            Some(value) => value.deserialize().map(Some).map_err(Error::Decode),
            None => Ok(None),
        })
        .await?
    }

    /// Reads the raw stored value under `key`.
    pub async fn get_value(&self, key: &str) -> Result<Option<Value>, Error> {
        self.with_loaded(|state| state.data().and_then(|data| data.get(key)).cloned())
            .await
    }

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// Takes the value or a reference to it (`insert("n", 1)` and `insert("n", &big)` both work).
    pub async fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), Error> {
        let value = Value::from_serialize(&value).map_err(Error::Encode)?;
        self.insert_value(key, value).await
    }

    /// Stores a raw value under `key`, replacing any previous value.
    pub async fn insert_value(&self, key: &str, value: Value) -> Result<(), Error> {
        self.with_loaded(|state| state.insert(key, value)).await
    }

    /// Removes `key`, returning its value as `T` if there was one.
    ///
    /// The key is removed even when its value is not a `T`; the error then reports the mismatch.
    pub async fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.remove_value(key).await? {
            Some(value) => value.deserialize().map(Some).map_err(Error::Decode),
            None => Ok(None),
        }
    }

    /// Removes `key`, returning its raw value if there was one.
    pub async fn remove_value(&self, key: &str) -> Result<Option<Value>, Error> {
        self.with_loaded(|state| state.remove(key)).await
    }

    /// Removes every key (the session and its id live on; see [`expire`](Session::expire) to end
    /// it).
    pub async fn clear(&self) -> Result<(), Error> {
        self.with_loaded(RequestState::clear).await
    }

    /// The keys in the session, in sorted order.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        self.with_loaded(|state| {
            state
                .data()
                .map_or_else(Vec::new, |data| data.keys().cloned().collect())
        })
        .await
    }

    /// The number of keys in the session.
    pub async fn len(&self) -> Result<usize, Error> {
        self.with_loaded(|state| state.data().map_or(0, |data| data.len()))
            .await
    }

    /// Whether the session holds no keys.
    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }

    /// The id of the stored session, or `None` for a new session that has not been saved yet.
    ///
    /// The id is a secret: never log it. After [`cycle_id`](Session::cycle_id) this is still the
    /// old id until the response is committed.
    pub async fn id(&self) -> Result<Option<Id>, Error> {
        self.with_loaded(|state| {
            let stored = state.loaded().map(|loaded| &loaded.stored);
            stored.and_then(Stored::id).map(|(id, _)| id.clone())
        })
        .await
    }

    /// Writes the session to the store now, creating it if it is new (even when empty), and returns
    /// its id. The id is still sent to the client when the response is committed.
    ///
    /// Most handlers never need this: changes are committed after the handler returns. It is for
    /// handlers that must know the id of a new session, for instance to put it in a link when the
    /// id travels in a query parameter.
    ///
    /// What `save` wrote stays written even if the response turns out to be a server error or the
    /// handler calls [`skip_store`](Session::skip_store) afterwards. Do not call it from several
    /// tasks at once on a new session (each would create a session). If the session was ended by
    /// another request meanwhile, it fails with [`Error::SessionEnded`] and nothing is written,
    /// then or at commit.
    ///
    /// On a client-side engine ([`Engine::client_side`](crate::Engine::client_side)) nothing is
    /// stored on the server: `save` gives a new session its id and checks that the session can be
    /// sealed now, failing with a
    /// [`StoreErrorKind::TooLarge`](crate::store::StoreErrorKind::TooLarge) store error when it
    /// would not fit its carrier, so the handler can still react.
    pub async fn save(&self) -> Result<Id, Error> {
        self.load().await?;
        let config = self.config();
        match &config.backend {
            Backend::Server { store, .. } => self.save_to(&**store).await,
            Backend::Client(client) => self.test_seal(&**client),
        }
    }

    /// [`save`](Session::save) on a server store: the pending changes of a stored session, or
    /// the whole of a new one under a fresh id.
    async fn save_to(&self, store: &dyn Store) -> Result<Id, Error> {
        let config = self.config();
        let now = config.clock.now();
        let stored = {
            let mut state = self.lock();
            let dirty = state.is_dirty();
            let loaded = state.loaded_mut().ok_or(Error::SessionEnded)?;
            match loaded.stored.id().map(|(id, key)| (id.clone(), *key)) {
                Some((id, key)) => {
                    let record = &loaded.record;
                    let expires = config.expires_at(record.created, now, record.lifetime);
                    Some((id, key, dirty.then(|| loaded.take_changes(now, expires))))
                }
                None => None,
            }
        };
        if let Some((id, key, changes)) = stored {
            if let Some(changes) = changes {
                let applied =
                    observe::store_call!(self.span(), "apply", store.apply(&key, &changes))
                        .inspect_err(|_| observe::count(Event::Failed))?;
                if !applied {
                    self.lock().end();
                    return Err(Error::SessionEnded);
                }
                observe::count(Event::Committed);
                let mut state = self.lock();
                if let Some(loaded) = state.loaded_mut() {
                    loaded.record.last_active = changes.last_active;
                    loaded.record.expires = changes.expires;
                }
                // The changes may concern the cookie (a new lifetime): send it at commit.
                state.resend();
            }
            return Ok(id);
        }
        let record = {
            let mut state = self.lock();
            let loaded = state.loaded_mut().ok_or(Error::SessionEnded)?;
            loaded.written();
            config.fresh_record(&loaded.record, now)
        };
        let (id, key) = observe::store_call!(self.span(), "create", config.create(store, &record))
            .inspect_err(|_| observe::count(Event::Failed))?;
        observe::count(Event::Created);
        observe::count(Event::Committed);
        if let Some(binding) = &record.binding {
            crate::execute::cap(config, store, binding).await;
        }
        let mut state = self.lock();
        if let Some(loaded) = state.loaded_mut() {
            loaded.stored = Stored::Live(id.clone(), key);
            loaded.record.created = record.created;
            loaded.record.last_active = record.last_active;
            loaded.record.expires = record.expires;
        }
        state.resend();
        Ok(id)
    }

    /// [`save`](Session::save) on a client-side backend: gives a new session its id and checks
    /// that the session can be sealed now, so that the handler learns of a session too large for
    /// its carrier; the seal itself is sent at commit.
    fn test_seal(&self, client: &dyn ClientStore) -> Result<Id, Error> {
        let config = self.config();
        let now = config.clock.now();
        let mut state = self.lock();
        let loaded = state.loaded_mut().ok_or(Error::SessionEnded)?;
        loaded.issue_client_id(config, now, false)?;
        let Some((id, _)) = loaded.stored.id() else {
            return Err(Error::SessionEnded);
        };
        let id = id.clone();
        let mut record = loaded.record.clone();
        config.refresh(&mut record, now);
        // With this request's cookie options, which count towards the cookie's size.
        let delivery = Delivery {
            options: state.options().cloned(),
            ..Delivery::default()
        };
        config.seal(client, &id, &record, now, delivery, &mut HeaderMap::new())?;
        state.resend();
        Ok(id)
    }

    /// Binds the session to `subject` (the application's user id) at login, and gives it a new id
    /// when the response is committed (the [`cycle_id`](Session::cycle_id) rules hold). The data is
    /// kept. A session bound to another subject before gets a new handle; one logging in again as
    /// the same subject keeps its handle (so that
    /// [`end_other_sessions`](Session::end_other_sessions) in the same request spares it).
    ///
    /// The subject is kept with the session, not among its values: [`keys`](Session::keys) does
    /// not list it and [`insert`](Session::insert) cannot change it. On a store that lists
    /// sessions per subject, the subject's sessions can then be listed and ended
    /// ([`sessions`](Session::sessions), [`revoke`](Session::revoke),
    /// [`end_all_sessions`](Session::end_all_sessions),
    /// [`end_other_sessions`](Session::end_other_sessions)).
    ///
    /// Fails with [`Error::InvalidSubject`] for an empty subject or one longer than
    /// [`MAX_SUBJECT_BYTES`](crate::subject::MAX_SUBJECT_BYTES).
    pub async fn bind(&self, subject: &str) -> Result<(), Error> {
        self.bind_with(subject, ClientInfo::new()).await
    }

    /// [`bind`](Session::bind), recording what the application passes about the client (its user
    /// agent, its address: personal data, shown in [`sessions`](Session::sessions)).
    pub async fn bind_with(&self, subject: &str, info: ClientInfo) -> Result<(), Error> {
        let mut binding = Binding::new(subject, info, self.config().clock.now())?;
        self.with_loaded(|state| {
            // Logging in again as the same subject continues the session: its handle stays.
            let bound = state.loaded().and_then(|l| l.record.binding.as_deref());
            if let Some(old) = bound.filter(|old| old.subject == binding.subject) {
                binding.handle = old.handle.clone();
            }
            state.rebind(Some(Box::new(binding)));
        })
        .await
    }

    /// Unbinds the session from its subject, with a new id at commit; the data is kept. Does
    /// nothing to a session that is not bound. (A logout usually [`expire`](Session::expire)s the
    /// session instead.)
    pub async fn unbind(&self) -> Result<(), Error> {
        self.with_loaded(|state| {
            if state.loaded().is_some_and(|l| l.record.binding.is_some()) {
                state.rebind(None);
            }
        })
        .await
    }

    /// The subject the session is bound to, if any.
    pub async fn subject(&self) -> Result<Option<String>, Error> {
        Ok(self.binding().await?.map(|binding| binding.subject))
    }

    /// The session's public handle, if it is bound (see [`Handle`]).
    pub async fn handle(&self) -> Result<Option<Handle>, Error> {
        Ok(self.binding().await?.map(|binding| binding.handle))
    }

    /// The session's binding, if any.
    async fn binding(&self) -> Result<Option<Box<Binding>>, Error> {
        self.with_loaded(|state| state.loaded().and_then(|l| l.record.binding.clone()))
            .await
    }

    /// The binding of a session that must be bound, and the operations over the store (whose
    /// support is checked first: a store without them fails the same way bound or not).
    async fn bound(&self) -> Result<(Box<Binding>, Subjects<'_>), Error> {
        let subjects = self.config().subjects()?;
        let binding = self.binding().await?.ok_or(Error::NotBound)?;
        Ok((binding, subjects))
    }

    /// The live sessions of this session's subject, most recently active first, this one marked
    /// [`current`](SessionInfo::current). (A session bound in this very request is stored at
    /// commit: it is not listed yet.)
    ///
    /// Fails with a store error of kind
    /// [`Unsupported`](crate::store::StoreErrorKind::Unsupported) on a store that keeps no index
    /// per subject (the null store, a sealed cookie), and with [`Error::NotBound`] if the session
    /// is not bound.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, Error> {
        let (binding, subjects) = self.bound().await?;
        subjects
            .list_marking(&binding.subject, Some(&binding.handle))
            .await
    }

    /// Ends the session of this session's subject with handle `handle` ("sign out that device");
    /// `false` if the subject has no such session. Revoking this very session ends it as
    /// [`expire`](Session::expire) does.
    pub async fn revoke(&self, handle: &Handle) -> Result<bool, Error> {
        let (binding, subjects) = self.bound().await?;
        if *handle == binding.handle {
            self.expire();
        }
        subjects.revoke(&binding.subject, handle).await
    }

    /// Ends every session of this session's subject, this one included ("log out everywhere");
    /// how many were ended in the store. This one's cookie is removed at commit.
    ///
    /// On a client-side engine with a
    /// [`revocation_store`](crate::EngineBuilder::revocation_store), every sealed session of the
    /// subject bound until now is refused at its next request instead (and 0 is returned: they
    /// are not counted).
    pub async fn end_all_sessions(&self) -> Result<usize, Error> {
        let config = self.config();
        if config.revocations().is_none() {
            // Check the store first, so that a store without an index fails bound or not.
            config.subjects()?;
        }
        let binding = self.binding().await?.ok_or(Error::NotBound)?;
        self.expire();
        config.end_all(&binding.subject).await
    }

    /// Ends every session of this session's subject but this one ("log out other devices"); how
    /// many were ended.
    pub async fn end_other_sessions(&self) -> Result<usize, Error> {
        let (binding, subjects) = self.bound().await?;
        subjects
            .end_all_except(&binding.subject, Some(&binding.handle))
            .await
    }

    /// Ends the session: when the response is committed, the record is deleted and the client is
    /// told to forget the id. Wins over every other change made in the request, and is carried out
    /// even when the response is a server error.
    ///
    /// On a client-side engine ([`ClientStore`](crate::store::ClientStore)) there is no record to
    /// delete: the client is told to forget its session, but a copy it kept still opens until its
    /// sealed expiry.
    pub fn expire(&self) {
        self.lock().ask(Fate::Expire);
    }

    /// Gives the session a new id when the response is committed, keeping its data; the old id
    /// stops working. Call it at every login and privilege change, against session fixation.
    ///
    /// On a client-side engine ([`ClientStore`](crate::store::ClientStore)) the old session's
    /// cookie is replaced, not killed: a copy of it still opens (with the old id) until its sealed
    /// expiry.
    pub fn cycle_id(&self) {
        self.lock().ask(Fate::Cycle);
    }

    /// Writes nothing for this request: its changes are dropped and no cookie is sent.
    pub fn skip_store(&self) {
        self.lock().ask(Fate::Skip);
    }

    /// Gives this session its own lifetime, kept with the session ("remember me" is
    /// `Lifetime::persistent(Duration::from_secs(30 * 86_400))`). The absolute timeout, if one is
    /// configured, still applies.
    pub fn set_lifetime(&self, lifetime: Lifetime) {
        self.lock().set_lifetime(Some(lifetime));
    }

    /// Returns this session to the configured default lifetime.
    pub fn reset_lifetime(&self) {
        self.lock().set_lifetime(None);
    }

    /// Gives this response's session cookie its own attributes (path, domain, partitioned),
    /// merged by the State over its defaults.
    ///
    /// The cookie is sent again with them even if nothing else changed (a new, empty session still
    /// sends nothing). Only this response is concerned: later responses use the defaults again
    /// unless their request sets options too. A removal ([`expire`](Session::expire)) in the same
    /// request uses them as well, so it removes the cookie they describe; a removal in a request
    /// without them removes the cookie at the default path and domain, so a cookie given another
    /// path must be removed by a request that sets the same options.
    ///
    /// ```
    /// use session_core::CookieOptions;
    /// # fn handler(session: &session_core::Session) {
    /// session.set_cookie_options(CookieOptions::new().path("/app").partitioned(true));
    /// # }
    /// ```
    pub fn set_cookie_options(&self, options: CookieOptions) {
        self.lock().set_options(options);
    }

    /// Late store: changes made after the response head is sent (while a streamed body is being
    /// written) are stored when the body ends, before the end of the response reaches the client,
    /// so that its next request sees them.
    ///
    /// Call it before the handler returns its response. (A response the server sends without a
    /// body, such as a HEAD or a 204, has no end to wait for: the adapters' docs say when its late
    /// commit runs.)
    ///
    /// The commit at the response head still happens as usual: it writes the changes made so far
    /// and sends the cookie, creating the session even if it is still empty (the cookie must go
    /// with the head). When the body ends, the keys changed after the head are applied; an
    /// `expire()` made then deletes the session (its removal cookie cannot be sent any more), and a
    /// `cycle_id()` made then is ignored with a warning (the new id could not reach the client).
    /// If the client goes away before the body ends, or the body itself fails, what was changed
    /// until then is still written (the adapters run the late commit in the background). Not for
    /// client-side sessions (a sealed cookie goes with the head): their late changes are reported
    /// and dropped.
    ///
    /// Without late store, a change made after the commit is not stored, and is reported once per
    /// request as a `tracing` warning.
    pub fn late_store(&self) {
        self.lock().ask_late();
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        let loaded = state.loaded();
        f.debug_struct("Session")
            .field("touched", &state.is_touched())
            .field("loaded", &loaded.is_some())
            .field("changed", &loaded.map(Loaded::changed_keys))
            .field("fate", &state.fate())
            .field("stage", &state.stage())
            .finish_non_exhaustive()
    }
}
