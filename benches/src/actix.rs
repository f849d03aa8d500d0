//! Requests through an actix-web app in process, for the actix benches.

use std::hint::black_box;
use std::time::Instant;

use actix_rt::SystemRunner;
use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{COOKIE, HeaderValue, SET_COOKIE};
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;

/// A `GET path` carrying `cookie`, if any.
///
/// The caller finishes it with `TestRequest::to_request` (passed in as `build`, since actix-web
/// does not re-export the `Request` type it returns).
pub fn request(path: &str, cookie: Option<&HeaderValue>) -> TestRequest {
    let request = TestRequest::get().uri(path);
    match cookie {
        Some(cookie) => request.insert_header((COOKIE, cookie.clone())),
        None => request,
    }
}

/// One request through `app`, in process.
///
/// Returns the status, the `Set-Cookie` (if any) and the whole body.
pub async fn send<S, R, B>(
    app: &S,
    build: fn(TestRequest) -> R,
    path: &str,
    cookie: Option<&HeaderValue>,
) -> (StatusCode, Option<HeaderValue>, Bytes)
where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let response = test::call_service(app, build(request(path, cookie))).await;
    let status = response.status();
    let set_cookie = response.headers().get(SET_COOKIE).cloned();
    (status, set_cookie, test::read_body(response).await)
}

/// The `name=value` pair of a `Set-Cookie`, as a `Cookie` header (actix-web's `http` 0.2 type).
pub fn cookie_pair(set_cookie: &HeaderValue) -> HeaderValue {
    let pair = crate::pair_of(set_cookie.to_str().expect("ASCII"));
    HeaderValue::from_str(pair).expect("a valid header value")
}

/// Benchmarks `GET path` with `cookie` through `app` as `group/name`.
///
/// Each sample runs its iterations inside one `block_on`, timed with `Instant`, and every response
/// must be a 200.
pub fn time_requests<S, R, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    system: &SystemRunner,
    (app, build): (&S, fn(TestRequest) -> R),
    path: &str,
    cookie: &HeaderValue,
) where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let (status, _, body) = send(app, build, path, Some(cookie)).await;
                    assert_eq!(status, StatusCode::OK);
                    black_box(body);
                }
                start.elapsed()
            })
        });
    });
}
