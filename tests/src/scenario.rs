//! The Plack nine-step scenario (plack-reference.md) as an app: `GET /scenario/N` runs step N's
//! reads and writes on the request's session and answers what it saw, as JSON.
//!
//! The steps are written once against `session_core::Session`, so every framework serves the same
//! thing; [`axum_router`] is the axum binding and [`actix_routes`] the actix-web one.
//!
//! The answer is `{"id": ID or null, "foo": BEFORE, "bar": BEFORE, "data": {KEY: VALUE}}`: the
//! session's id (a new session that holds data is saved first, so that a client of `ParamState`
//! learns its id; an empty new session has none), the values of `foo` and `bar` before the step
//! wrote anything, and the session's data after the step.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use session_core::{Error, Session};

/// Runs step `step` (1 to 9) on `session`; returns the status and the JSON body.
pub async fn step(session: &Session, step: u8) -> Result<(u16, String), Error> {
    let foo_before: Option<String> = session.get("foo").await?;
    let bar_before: Option<String> = session.get("bar").await?;
    let mut expiring = false;
    match step {
        1 => {
            session.insert("foo", "bar").await?;
            session.insert("bar", "baz").await?;
        }
        2 | 9 => session.insert("foo", "baz").await?,
        3 => {
            session.remove_value("foo").await?;
        }
        4 | 7 | 8 => {}
        5 => session.insert("baz", "gorch").await?,
        6 => {
            session.expire();
            expiring = true;
        }
        _ => return Ok((404, "no such step".into())),
    }
    let mut data = Map::new();
    for key in session.keys().await? {
        let value: Value = match session.get_value(&key).await? {
            Some(value) => value.deserialize().map_err(Error::Decode)?,
            None => Value::Null,
        };
        data.insert(key, value);
    }
    let id = match session.id().await? {
        Some(id) => Some(id),
        None if !expiring && !data.is_empty() => Some(session.save().await?),
        None => None,
    };
    let body = json!({
        "id": id.as_ref().map(|id| id.as_str()),
        "foo": foo_before,
        "bar": bar_before,
        "data": data,
    });
    Ok((200, body.to_string()))
}

/// The scenario on axum: `GET /scenario/{step}`, without the session layer.
pub fn axum_router() -> Router<()> {
    Router::new().route(
        "/scenario/{step}",
        get(
            |session: session_tower::Session, Path(n): Path<u8>| async move {
                answer(step(&session, n).await)
            },
        ),
    )
}

/// The scenario on actix-web: `GET /scenario/{step}`, without the session middleware (pass it to
/// `App::configure`).
pub fn actix_routes(config: &mut actix_web::web::ServiceConfig) {
    use actix_web::{HttpResponse, ResponseError, web};
    config.route(
        "/scenario/{step}",
        web::get().to(
            |session: session_actix::Session, n: web::Path<u8>| async move {
                match step(&session, n.into_inner()).await {
                    Ok((status, body)) => HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status)
                            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
                    )
                    .content_type("application/json")
                    .body(body),
                    Err(error) => session_actix::Error::from(error).error_response(),
                }
            },
        ),
    );
}

fn answer(result: Result<(u16, String), Error>) -> Response {
    match result {
        Ok((status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(error) => session_tower::Error::from(error).into_response(),
    }
}
