//! The demo's routes, written once against `session_core::Session`.
//!
//! Every framework therefore serves exactly the same contract.

use std::time::Duration;

use session_core::{CookieOptions, Error, Lifetime, Session};

/// A route's answer: status code and body text.
pub(crate) type Answer = (u16, String);

/// `GET /`: the counter.
pub(crate) async fn counter(session: &Session) -> Result<Answer, Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    session.insert("counter", n + 1).await?;
    Ok((200, format!("Hello, you've been here for {n}th time!")))
}

/// `GET /set/KEY/VALUE`.
pub(crate) async fn set(session: &Session, key: &str, value: &str) -> Result<Answer, Error> {
    session.insert(key, value).await?;
    Ok((200, "ok".into()))
}

/// `GET /get/KEY`: the value, or 404.
pub(crate) async fn get(session: &Session, key: &str) -> Result<Answer, Error> {
    Ok(match session.get_value(key).await? {
        Some(value) => match value.deserialize::<String>() {
            Ok(text) => (200, text),
            Err(_) => (200, value.as_json().to_owned()),
        },
        None => (404, "not found".into()),
    })
}

/// `GET /login`: a new id, the data kept, `user` set.
pub(crate) async fn login(session: &Session) -> Result<Answer, Error> {
    session.cycle_id();
    session.insert("user", "demo-user").await?;
    Ok((200, "logged in".into()))
}

/// `GET /logout`: the session ends.
pub(crate) fn logout(session: &Session) -> Answer {
    session.expire();
    (200, "logged out".into())
}

/// `GET /nostore`: sets `nostore=1`, but this request stores nothing.
pub(crate) async fn nostore(session: &Session) -> Result<Answer, Error> {
    session.insert("nostore", "1").await?;
    session.skip_store();
    Ok((200, "ok".into()))
}

/// `GET /static`: never touches the session.
pub(crate) fn static_page() -> Answer {
    (200, "static".into())
}

/// `GET /fail`: writes `failed`, then answers 500 (so nothing is committed).
pub(crate) async fn fail(session: &Session) -> Result<Answer, Error> {
    session.insert("failed", "1").await?;
    Ok((500, "failed".into()))
}

/// `GET /id`: the session id, saving a new session first so that it has one.
pub(crate) async fn id(session: &Session) -> Result<Answer, Error> {
    let id = match session.id().await? {
        Some(id) => id,
        None => session.save().await?,
    };
    Ok((200, id.as_str().to_owned()))
}

/// `GET /remember`: this session's cookie becomes persistent for 30 days ("remember me").
///
/// Sets `remembered=1`, so that a new visitor's session is stored too.
pub(crate) async fn remember(session: &Session) -> Result<Answer, Error> {
    session.set_lifetime(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
    session.insert("remembered", "1").await?;
    Ok((200, "remembered".into()))
}

/// `GET /cookie?path=P&domain=D&partitioned=true|false`: this response's cookie attributes.
///
/// The cookie gets those attributes, merged over the defaults, the State's rules holding. Sets
/// `scoped=1`.
pub(crate) async fn cookie_options(session: &Session, query: &str) -> Result<Answer, Error> {
    let mut options = CookieOptions::new();
    for (name, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        match name {
            "path" => options = options.path(value),
            "domain" => options = options.domain(value),
            "partitioned" => options = options.partitioned(value == "true"),
            _ => {}
        }
    }
    session.set_cookie_options(options);
    session.insert("scoped", "1").await?;
    Ok((200, "ok".into()))
}
