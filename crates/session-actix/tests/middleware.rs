//! The middleware in process: missing-middleware rejection, `SessionExt` from a handler, another
//! middleware and a guard, and an inner error that must still carry out a logout.

use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, guard, test, web};
use session_actix::{Error, Session, SessionExt, SessionMiddleware};
use session_core::MemoryStore;
use session_state_cookie::CookieState;

async fn counter(session: Session) -> Result<String, Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    session.insert("counter", n + 1).await?;
    Ok(format!("{n}"))
}

/// The `NAME=VALUE` part of a response's `Set-Cookie`.
fn cookie_pair<B>(response: &actix_web::dev::ServiceResponse<B>) -> String {
    let header = response
        .headers()
        .get("set-cookie")
        .expect("a Set-Cookie")
        .to_str()
        .expect("ascii");
    header.split(';').next().expect("a pair").to_owned()
}

#[actix_rt::test]
async fn a_missing_middleware_is_a_500_that_says_so() {
    let app = test::init_service(App::new().route("/", web::get().to(counter))).await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = test::read_body(response).await;
    assert!(
        String::from_utf8_lossy(&body).contains("SessionMiddleware"),
        "{body:?}"
    );
}

#[actix_rt::test]
async fn session_ext_from_a_handler_a_middleware_and_a_guard_is_one_session() {
    let store = MemoryStore::default();
    let app = test::init_service(
        App::new()
            // Another middleware, inside ours, writes to the session before the handler runs.
            .wrap_fn(|request, service| {
                let session = request.session().expect("inside SessionMiddleware");
                let future = service.call(request);
                async move {
                    session
                        .insert("seen_by_middleware", true)
                        .await
                        .map_err(Error::from)?;
                    future.await
                }
            })
            .wrap(SessionMiddleware::new(
                CookieState::default(),
                store.clone(),
            ))
            .route(
                "/",
                web::get()
                    .guard(guard::fn_guard(|ctx| ctx.session().is_some()))
                    .to(
                        |request: actix_web::HttpRequest, session: Session| async move {
                            let via_ext = request.session().expect("the same session");
                            via_ext.insert("user", "alice").await?;
                            let seen: Option<bool> = session.get("seen_by_middleware").await?;
                            let user: Option<String> = session.get("user").await?;
                            Ok::<_, Error>(format!("{seen:?} {user:?}"))
                        },
                    ),
            ),
    )
    .await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let pair = cookie_pair(&response);
    let body = test::read_body(response).await;
    assert_eq!(body, "Some(true) Some(\"alice\")");
    assert_eq!(store.len(), 1, "one session, stored once");

    // The next request sees both keys.
    let request = test::TestRequest::get()
        .uri("/")
        .insert_header(("cookie", pair))
        .to_request();
    let body = test::call_and_read_body(&app, request).await;
    assert_eq!(body, "Some(true) Some(\"alice\")");
}

#[actix_rt::test]
async fn a_guard_without_the_middleware_sees_no_session() {
    let app = test::init_service(
        App::new()
            .route(
                "/",
                web::get()
                    .guard(guard::fn_guard(|ctx| ctx.session().is_some()))
                    .to(|| async { "guarded" }),
            )
            .default_service(web::to(|| async {
                HttpResponse::NotFound().body("no session")
            })),
    )
    .await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[actix_rt::test]
async fn an_inner_error_still_carries_out_a_logout() {
    let store = MemoryStore::default();
    let app = test::init_service(
        App::new()
            // A middleware inside ours that fails (an `Err`, not an error response) on /logout,
            // after the handler expired the session.
            .wrap_fn(|request, service| {
                let logout = request.path() == "/logout";
                let future = service.call(request);
                async move {
                    let response = future.await?;
                    if logout {
                        return Err(actix_web::error::ErrorBadGateway(
                            "failed after logging out",
                        ));
                    }
                    Ok(response)
                }
            })
            .wrap(SessionMiddleware::new(
                CookieState::default(),
                store.clone(),
            ))
            .route("/", web::get().to(counter))
            .route(
                "/logout",
                web::get().to(|session: Session| async move {
                    session.expire();
                    "bye"
                }),
            ),
    )
    .await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    let pair = cookie_pair(&response);
    assert_eq!(store.len(), 1);

    let request = test::TestRequest::get()
        .uri("/logout")
        .insert_header(("cookie", pair))
        .to_request();
    let error = app
        .call(request)
        .await
        .expect_err("the inner middleware failed");
    assert_eq!(
        error.as_response_error().status_code(),
        StatusCode::BAD_GATEWAY,
        "the error passes through unchanged"
    );
    assert!(
        store.is_empty(),
        "the logout happened although the service failed"
    );
}
