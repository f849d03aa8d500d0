//! Plack's cookie-store counter (plack-reference.md, "Other upstream checks") as an app:
//! `GET /counter` answers `counter=N` (N the stored counter, 0 first) and stores N + 1, except
//! when N is 2 already: then it expires the session instead, so a client that honours the
//! removal counts 0, 1, 2, 0, ...
//!
//! Written once against `session_core::Session`; [`axum_router`] and [`actix_routes`] bind it.

use session_core::{Error, Session};

/// The counter's step on `session`; returns the body.
pub async fn count(session: &Session) -> Result<String, Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    if n >= 2 {
        session.expire();
    } else {
        session.insert("counter", n + 1).await?;
    }
    Ok(format!("counter={n}"))
}

/// The counter on axum: `GET /counter`, without the session layer.
pub fn axum_router() -> axum::Router<()> {
    use axum::response::IntoResponse;
    axum::Router::new().route(
        "/counter",
        axum::routing::get(|session: session_tower::Session| async move {
            match count(&session).await {
                Ok(body) => body.into_response(),
                Err(error) => session_tower::Error::from(error).into_response(),
            }
        }),
    )
}

/// The counter on actix-web: `GET /counter`, without the session middleware (pass it to
/// `App::configure`).
pub fn actix_routes(config: &mut actix_web::web::ServiceConfig) {
    use actix_web::{HttpResponse, ResponseError, web};
    config.route(
        "/counter",
        web::get().to(|session: session_actix::Session| async move {
            match count(&session).await {
                Ok(body) => HttpResponse::Ok().body(body),
                Err(error) => session_actix::Error::from(error).error_response(),
            }
        }),
    );
}
