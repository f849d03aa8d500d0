//! The demo on actix-web.

use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, USER_AGENT};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use session_actix::extras::{Csrf, Flash};
use session_actix::{Session, SessionMiddleware};

use super::Serving;
use super::routes::{self, Answer};
use super::stream::{Chunks, StreamOptions};

fn reply(answer: Result<Answer, session_core::Error>) -> HttpResponse {
    match answer {
        Ok((status, body)) => HttpResponse::build(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type("text/plain; charset=utf-8")
        .body(body),
        Err(error) => session_actix::Error::from(error).error_response(),
    }
}

/// `GET /` and `POST /` (a form posted from another site, in the browser tests): the counter.
async fn counter(s: Session) -> HttpResponse {
    reply(routes::counter(&s).await)
}

/// The demo's routes on actix-web, without the session middleware: pass it to `App::configure`.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(counter))
        .route("/", web::post().to(counter))
        .route(
            "/set/{key}/{value}",
            web::get().to(|s: Session, path: web::Path<(String, String)>| async move {
                let (k, v) = path.into_inner();
                reply(routes::set(&s, &k, &v).await)
            }),
        )
        .route(
            "/get/{key}",
            web::get().to(|s: Session, k: web::Path<String>| async move {
                reply(routes::get(&s, &k).await)
            }),
        )
        .route(
            "/login",
            web::get().to(|s: Session| async move { reply(routes::login(&s).await) }),
        )
        .route(
            "/login/{name}",
            web::get().to(
                |s: Session, name: web::Path<String>, request: HttpRequest| async move {
                    let agent = request.headers().get(USER_AGENT);
                    let agent = agent.and_then(|v| v.to_str().ok());
                    reply(routes::login_as(&s, &name, agent).await)
                },
            ),
        )
        .route(
            "/sessions",
            web::get().to(|s: Session| async move { reply(routes::sessions(&s).await) }),
        )
        .route(
            "/revoke/{handle}",
            web::get().to(|s: Session, handle: web::Path<String>| async move {
                reply(routes::revoke(&s, &handle).await)
            }),
        )
        .route(
            "/logout-everywhere",
            web::get().to(|s: Session| async move { reply(routes::logout_everywhere(&s).await) }),
        )
        .route(
            "/logout-others",
            web::get().to(|s: Session| async move { reply(routes::logout_others(&s).await) }),
        )
        .route(
            "/logout",
            web::get().to(|s: Session| async move { reply(Ok(routes::logout(&s))) }),
        )
        .route(
            "/nostore",
            web::get().to(|s: Session| async move { reply(routes::nostore(&s).await) }),
        )
        .route(
            "/static",
            web::get().to(|| async { reply(Ok(routes::static_page())) }),
        )
        .route(
            "/flash/{text}",
            web::get().to(|f: Flash, text: web::Path<String>| async move {
                match routes::flash(&f, &text).await {
                    Ok(()) => HttpResponse::SeeOther()
                        .insert_header((LOCATION, routes::FLASHES))
                        .finish(),
                    Err(error) => session_actix::Error::from(error).error_response(),
                }
            }),
        )
        .route(
            "/flashes",
            web::get().to(|f: Flash| async move { reply(routes::flashes(&f).await) }),
        )
        .route(
            "/csrf",
            web::get().to(|c: Csrf| async move { reply(routes::csrf(&c).await) }),
        )
        .route(
            "/csrf-check",
            web::get().to(|c: Csrf, request: HttpRequest| async move {
                let submitted = request.headers().get(routes::CSRF_HEADER);
                reply(routes::csrf_check(&c, submitted.map(|v| v.as_bytes())).await)
            }),
        )
        .route(
            "/fail",
            web::get().to(|s: Session| async move { reply(routes::fail(&s).await) }),
        )
        .route(
            "/id",
            web::get().to(|s: Session| async move { reply(routes::id(&s).await) }),
        )
        .route(
            "/stream",
            web::get().to(|s: Session, request: HttpRequest| async move {
                let options = StreamOptions::from_query(request.query_string());
                HttpResponse::Ok()
                    .content_type("text/plain; charset=utf-8")
                    .streaming(Chunks::new((*s).clone(), options))
            }),
        )
        .route(
            "/remember",
            web::get().to(|s: Session| async move { reply(routes::remember(&s).await) }),
        )
        .route(
            "/cookie",
            web::get().to(|s: Session, request: HttpRequest| async move {
                reply(routes::cookie_options(&s, request.query_string()).await)
            }),
        );
}

/// Serves the demo on `listener` with `engine`, on two actix-web worker threads.
///
/// Each worker has its own single-threaded runtime; the engine and its store are shared.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    engine: session_core::Engine,
) -> std::io::Result<Serving> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(SessionMiddleware::from(engine.clone()))
            .configure(routes)
    })
    .workers(2)
    .disable_signals()
    .listen(listener.into_std()?)?
    .run();
    Ok(Box::pin(server))
}
