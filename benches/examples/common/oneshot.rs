//! What the in-process examples share: one request through a router, as a browser sends it.

use std::convert::Infallible;

use axum::body::Body;
use http::{Request, Response, StatusCode, header};
use tower::{Service, ServiceExt};

/// Sends one request to `app`, reading its body; the `Set-Cookie` pair, if any.
pub(crate) async fn send<S>(app: &S, path: &str, cookie: Option<&str>) -> Option<String>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let mut request = Request::builder().uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = request.body(Body::empty()).expect("request");
    let response = match app.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    set_cookie
}
