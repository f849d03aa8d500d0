//! The current request's session context: how a handler finds its session without the layer
//! touching the request's extensions.
//!
//! While a [`SessionService`](crate::SessionService) calls or polls its inner service, it installs
//! the request's context in a thread-local slot (and takes it back afterwards, even on panic).
//! Code running inside, such as the axum extractor or [`current_session`], creates the session on
//! first use from the request's headers and query. A request whose handler never asks for its
//! session costs no allocation, no cookie parsing and no store I/O.

use std::cell::RefCell;

use http::HeaderMap;
use session_core::{Engine, RequestView, Session};

/// One request's context: the engine, and its session once a handler asked for it.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) engine: Engine,
    pub(crate) session: Option<Session>,
}

thread_local! {
    static CURRENT: RefCell<Option<Slot>> = const { RefCell::new(None) };
}

/// Runs `f` with `slot` as the current context, then puts the context back into `slot` (and the
/// previous one, for nested layers, back into place), even if `f` panics.
pub(crate) fn enter<R>(slot: &mut Option<Slot>, f: impl FnOnce() -> R) -> R {
    struct Restore<'a> {
        slot: &'a mut Option<Slot>,
        previous: Option<Slot>,
    }
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let previous = self.previous.take();
            *self.slot = CURRENT.with(|current| current.replace(previous));
        }
    }
    let previous = CURRENT.with(|current| current.replace(slot.take()));
    let _restore = Restore { slot, previous };
    f()
}

/// The session of the request being handled on this thread, created on first use from that
/// request's headers and raw query string (without the `?`); `None` outside a
/// [`SessionService`](crate::SessionService).
///
/// The axum extractor [`Session`](crate::Session) calls this for you. Other tower services (tonic,
/// hyper) call it from their handler, inside the service's `call` or the future it returns:
///
/// ```
/// use http::{Request, Response};
/// use session_state_cookie::CookieState;
/// use session_tower::{MemoryStore, SessionLayer, current_session};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let service = ServiceBuilder::new()
///     .layer(SessionLayer::new(CookieState::default(), MemoryStore::default()))
///     .service(service_fn(|request: Request<String>| async move {
///         let session = current_session(request.headers(), request.uri().query())
///             .expect("inside the SessionService");
///         session.insert("seen", true).await?;
///         Ok::<_, session_core::Error>(Response::new(String::from("hello")))
///     }));
/// let response = service.oneshot(Request::new(String::new())).await.unwrap();
/// assert!(response.headers().contains_key("set-cookie"));
/// # });
/// ```
pub fn current_session(headers: &HeaderMap, query: Option<&str>) -> Option<Session> {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let slot = current.as_mut()?;
        let session = slot
            .session
            .get_or_insert_with(|| slot.engine.start(&RequestView::new(headers, query)));
        Some(session.clone())
    })
}
