//! A counter that remembers each visitor, on actix-web: the README's quick start.
//!
//! With the default in-memory store and the cookie state.
//!
//! ```text
//! cargo run -p session-examples --bin counter-actix
//! curl -c jar -b jar http://127.0.0.1:3000/   # Hello, you've been here for 0th time!
//! curl -c jar -b jar http://127.0.0.1:3000/   # Hello, you've been here for 1th time!
//! ```
//!
//! Set `ADDR` to listen elsewhere (default `127.0.0.1:3000`).

use actix_web::{App, HttpServer, web};
use session_actix::{Error, MemoryStore, Session, SessionMiddleware};
use session_state_cookie::CookieState;

async fn counter(session: Session) -> Result<String, Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    session.insert("counter", n + 1).await?;
    Ok(format!("Hello, you've been here for {n}th time!"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // One middleware value, cloned into every worker: the workers share the store.
    let sessions = SessionMiddleware::new(CookieState::default(), MemoryStore::default());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_string());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .route("/", web::get().to(counter))
    })
    .bind(&addr)?;
    for bound in server.addrs() {
        println!("counter listening on http://{bound}");
    }
    server.run().await
}
