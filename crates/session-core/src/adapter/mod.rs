//! For adapter authors: what binding the engine to a web framework takes, written once.
//!
//! An adapter keeps a [`LazySession`] with each request (in its extensions, say), so that a
//! handler that never asks for its session costs nothing; wraps the inner service's future in a
//! [`ResponseFuture`], whose [`Respond`] implementation is the only framework-specific part of the
//! commit (the status, adding the headers through [`ResponseHeaders`], the bare 500); and, for
//! [late store](crate::Session::late_store), wraps the response body around a [`LateCommit`].
//! Handler errors get their framework's response trait on a newtype made by
//! [`handler_error!`], since the orphan rule keeps those impls out of this
//! crate; [`log_handler_error`] is what they log.
//!
//! `session-tower` and `session-actix` are the two adapters built on this module.

mod late;
mod lazy;
mod respond;

pub use crate::commit::{Commit, ResponseHeaders};
pub use crate::error::{LateCommitFailed, Report};
pub use crate::execute::{PendingCommit, Prepared};
pub use late::LateCommit;
pub use lazy::LazySession;
pub use respond::{Finished, Respond, ResponseFuture};

#[doc(inline)]
pub use crate::{handler_error, session_extractor};

use std::future::Future;
use std::pin::Pin;

use crate::commit::Commit as Committed;
use crate::error::Error;

/// A commit's store I/O, boxed.
pub(crate) type Committing = Pin<Box<dyn Future<Output = Result<Committed, Error>> + Send>>;

/// Runs to its end a commit that nobody waits for any more (its request or body was dropped), on
/// the current Tokio runtime (feature `tokio`); `what` names it in the logs. Outside a runtime it
/// cannot run, and that is logged as an error.
pub(crate) fn background(committing: Committing, what: &'static str) {
    #[cfg(feature = "tokio")]
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            if let Err(error) = committing.await {
                tracing::error!(error = %error.report(), "{what} failed in the background");
            }
        });
        return;
    }
    drop(committing);
    tracing::error!("{what} was abandoned outside a Tokio runtime: it is not carried out");
}

/// Logs a session error a handler returned, before the adapter answers a bare 500 (the client
/// learns nothing about the store).
pub fn log_handler_error(error: &Error) {
    tracing::error!(error = %error.report(), "session error in handler; answering 500");
}

/// Defines an adapter's session extractor: a newtype over [`Session`](crate::Session) that derefs
/// to it, which the adapter then gives its framework's extractor trait (the orphan rule keeps that
/// impl out of this crate).
///
/// ```
/// session_core::adapter::session_extractor! {
///     /// The request's session.
///     pub struct Session;
/// }
///
/// fn keys_of(session: &Session) -> impl std::future::Future + '_ {
///     session.keys() // a `session_core::Session` method, through `Deref`
/// }
/// # let _ = keys_of;
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! session_extractor {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name(pub $crate::Session);

        impl ::core::ops::Deref for $name {
            type Target = $crate::Session;

            fn deref(&self) -> &$crate::Session {
                &self.0
            }
        }
    };
}

/// Defines an adapter's handler error type: a newtype over [`Error`](crate::Error) that `?`
/// converts into, and that the adapter then gives its framework's response trait (a bare 500,
/// logged with [`log_handler_error`]).
///
/// ```
/// session_core::adapter::handler_error! {
///     /// A session error returned from a handler.
///     pub struct Error;
/// }
///
/// fn handler() -> Result<(), Error> {
///     Err(session_core::Error::SessionEnded)?
/// }
/// assert!(matches!(handler().unwrap_err().into_inner(), session_core::Error::SessionEnded));
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! handler_error {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name($crate::Error);

        impl $name {
            /// The session error inside.
            pub fn inner(&self) -> &$crate::Error {
                &self.0
            }

            /// Unwraps the session error.
            pub fn into_inner(self) -> $crate::Error {
                self.0
            }
        }

        impl ::core::convert::From<$crate::Error> for $name {
            fn from(error: $crate::Error) -> Self {
                $name(error)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::error::Error for $name {
            fn source(&self) -> ::core::option::Option<&(dyn ::std::error::Error + 'static)> {
                ::core::option::Option::Some(&self.0)
            }
        }
    };
}
