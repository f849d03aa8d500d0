//! The layer in process: missing-layer rejection, commit failures, untouched routes.

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use session_core::store::{Key, Record, Store, StoreError};
use session_state_cookie::CookieState;
use session_tower::{Error, Session, SessionLayer};
use tower::ServiceExt;

async fn counter(session: Session) -> Result<String, Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    session.insert("counter", n + 1).await?;
    Ok(format!("{n}"))
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// A store that is down: every call fails.
struct DownStore;

#[async_trait]
impl Store for DownStore {
    async fn load(&self, _: &Key) -> Result<Option<Record>, StoreError> {
        Err(StoreError::backend(std::io::Error::other("store is down")))
    }
    async fn create(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
        Err(StoreError::backend(std::io::Error::other("store is down")))
    }
    async fn save(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
        Err(StoreError::backend(std::io::Error::other("store is down")))
    }
    async fn delete(&self, _: &Key) -> Result<bool, StoreError> {
        Err(StoreError::backend(std::io::Error::other("store is down")))
    }
}

#[tokio::test]
async fn a_missing_layer_is_a_500_that_says_so() {
    let app = Router::new().route("/", get(counter));
    let response = app
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body_text(response).await.contains("SessionLayer"));
}

#[tokio::test]
async fn a_failing_store_gives_a_bare_500_and_untouched_routes_still_work() {
    let app = Router::new()
        .route("/", get(counter))
        .route("/static", get(|| async { "static" }))
        .layer(SessionLayer::new(CookieState::default(), DownStore));
    let response = app
        .clone()
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(body_text(response).await, "");

    let request = Request::builder()
        .uri("/static")
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("set-cookie").is_none());
    assert!(response.headers().get("vary").is_none());
    assert_eq!(body_text(response).await, "static");
}

#[tokio::test]
async fn a_commit_failure_replaces_the_response_with_a_bare_500() {
    /// Loads work (nothing stored), creating fails.
    struct NoCreate;
    #[async_trait]
    impl Store for NoCreate {
        async fn load(&self, _: &Key) -> Result<Option<Record>, StoreError> {
            Ok(None)
        }
        async fn create(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
            Err(StoreError::backend(std::io::Error::other("disk full")))
        }
        async fn save(&self, _: &Key, _: &Record) -> Result<bool, StoreError> {
            Ok(false)
        }
        async fn delete(&self, _: &Key) -> Result<bool, StoreError> {
            Ok(false)
        }
    }
    let app = Router::new()
        .route("/", get(counter))
        .layer(SessionLayer::new(CookieState::default(), NoCreate));
    let response = app
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(body_text(response).await, "", "no internal detail leaks");
}

#[tokio::test]
async fn session_ext_reaches_the_session_and_an_inner_error_still_expires() {
    use session_core::MemoryStore;
    use session_tower::SessionExt;
    use tower::{ServiceBuilder, service_fn};

    let store = MemoryStore::default();
    let service = ServiceBuilder::new()
        .layer(SessionLayer::new(CookieState::default(), store.clone()))
        .service(service_fn(|request: Request<String>| async move {
            let session = request.session().expect("inside the service");
            let same = request.session().expect("again");
            if request.uri().path() == "/logout" {
                session.expire();
                return Err(std::io::Error::other("failed after logging out"));
            }
            same.insert("user", "alice").await.expect("insert");
            Ok(http::Response::new(String::new()))
        }));
    let response = service
        .clone()
        .oneshot(Request::new(String::new()))
        .await
        .expect("ok");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    assert_eq!(store.len(), 1);

    let request = Request::builder()
        .uri("/logout")
        .header("cookie", cookie)
        .body(String::new())
        .expect("request");
    assert!(service.oneshot(request).await.is_err());
    assert!(
        store.is_empty(),
        "the logout happened although the service failed"
    );
}
