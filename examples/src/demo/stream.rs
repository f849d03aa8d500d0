//! `GET /stream`: a body of three chunks that sets `streamed=1` after the first.
//!
//! Written once as a `Stream` that both frameworks turn into a streamed body.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use session_core::Session;

/// What `/stream?...` asks for.
///
/// Late store (on unless `late=off`) and a pause before the last chunk (`pause_ms=N`, for tests of
/// a client that goes away midway).
#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamOptions {
    late: bool,
    pause: Duration,
}

impl StreamOptions {
    /// Reads `late=off` and `pause_ms=N` from a raw query string.
    pub(crate) fn from_query(query: &str) -> Self {
        let mut options = StreamOptions {
            late: true,
            pause: Duration::ZERO,
        };
        for (name, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            match name {
                "late" => options.late = value != "off",
                "pause_ms" => {
                    let millis = value.parse::<u64>().unwrap_or(0).min(10_000);
                    options.pause = Duration::from_millis(millis);
                }
                _ => {}
            }
        }
        options
    }
}

type Step = Pin<Box<dyn Future<Output = Option<Bytes>> + Send>>;

/// The three chunks, `one\n`, `two\n`, `three\n`.
///
/// `streamed=1` is set in the session after the first has been sent (a session error ends the body
/// early, and is logged).
pub(crate) struct Chunks {
    session: Session,
    pause: Duration,
    sent: u8,
    step: Option<Step>,
}

impl Chunks {
    /// The body for `session`, asking for late store first unless `options` say otherwise.
    pub(crate) fn new(session: Session, options: StreamOptions) -> Self {
        if options.late {
            session.late_store();
        }
        Chunks {
            session,
            pause: options.pause,
            sent: 0,
            step: None,
        }
    }

    fn next_step(&self) -> Option<Step> {
        let session = self.session.clone();
        let pause = self.pause;
        Some(match self.sent {
            0 => Box::pin(async { Some(Bytes::from_static(b"one\n")) }),
            1 => Box::pin(async move {
                if let Err(error) = session.insert("streamed", "1").await {
                    tracing::error!(error = %error.report(), "/stream could not set its key");
                    return None;
                }
                Some(Bytes::from_static(b"two\n"))
            }),
            2 => Box::pin(async move {
                tokio::time::sleep(pause).await;
                Some(Bytes::from_static(b"three\n"))
            }),
            _ => return None,
        })
    }
}

impl Stream for Chunks {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.step.is_none() {
            self.step = self.next_step();
        }
        let Some(step) = self.step.as_mut() else {
            return Poll::Ready(None);
        };
        let chunk = ready!(step.as_mut().poll(cx));
        self.step = None;
        self.sent = if chunk.is_some() {
            self.sent + 1
        } else {
            u8::MAX
        };
        Poll::Ready(chunk.map(Ok))
    }
}
