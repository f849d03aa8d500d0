//! The demo's routes, written once against `session_core::Session`.
//!
//! Every framework therefore serves exactly the same contract.

use std::time::Duration;

use session_core::store::StoreErrorKind;
use session_core::subject::{ClientInfo, Handle};
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

/// `GET /login/NAME`: a new id, the data kept, the session bound to the subject `NAME` (with the
/// request's `User-Agent`, if any), and `user` set to `NAME`.
pub(crate) async fn login_as(
    session: &Session,
    name: &str,
    user_agent: Option<&str>,
) -> Result<Answer, Error> {
    let mut info = ClientInfo::new();
    if let Some(user_agent) = user_agent {
        info = info.user_agent(user_agent);
    }
    match session.bind_with(name, info).await {
        Ok(()) => {}
        Err(Error::InvalidSubject(why)) => return Ok((400, format!("bad user name: {why}"))),
        Err(error) => return Err(error),
    }
    session.insert("user", name).await?;
    Ok((200, format!("logged in as {name}")))
}

/// What the per-user routes answer instead of an error: 401 for a session not bound to a user,
/// 501 on a store that cannot list sessions per user (the null store, the sealed cookie).
fn per_user(result: Result<Answer, Error>) -> Result<Answer, Error> {
    match result {
        Err(Error::NotBound) => Ok((401, "not logged in as a user".into())),
        Err(Error::Store(error)) if error.kind() == StoreErrorKind::Unsupported => Ok((
            501,
            "this session store cannot list or end a user's sessions".into(),
        )),
        other => other,
    }
}

/// `GET /sessions`: the current user's live sessions, a JSON array of objects with `handle`,
/// `created` and `last_active` (milliseconds since the epoch), `current` and `user_agent`.
pub(crate) async fn sessions(session: &Session) -> Result<Answer, Error> {
    per_user(
        async {
            let listed = session.sessions().await?;
            let items: Vec<_> = listed
                .iter()
                .map(|info| {
                    serde_json::json!({
                        "handle": info.handle.as_str(),
                        "created": info.created.as_millis(),
                        "last_active": info.last_active.as_millis(),
                        "current": info.current,
                        "user_agent": info.user_agent,
                    })
                })
                .collect();
            Ok((200, serde_json::Value::Array(items).to_string()))
        }
        .await,
    )
}

/// `GET /revoke/HANDLE`: ends that session of the current user; 404 if it is not one of theirs.
pub(crate) async fn revoke(session: &Session, handle: &str) -> Result<Answer, Error> {
    per_user(
        async {
            // A malformed handle names no session: a fresh random one stands for it, so that it
            // is answered as every unknown handle is (501, 401 or 404, by the same checks).
            let handle = match Handle::parse(handle) {
                Some(handle) => handle,
                None => Handle::generate()?,
            };
            let revoked = session.revoke(&handle).await?;
            Ok(if revoked {
                (200, "revoked".into())
            } else {
                (404, "no such session".into())
            })
        }
        .await,
    )
}

/// `GET /logout-everywhere`: ends every session of the current user, this one included.
pub(crate) async fn logout_everywhere(session: &Session) -> Result<Answer, Error> {
    per_user(
        async {
            let ended = session.end_all_sessions().await?;
            Ok((200, format!("ended {ended} sessions")))
        }
        .await,
    )
}

/// `GET /logout-others`: ends every session of the current user but this one.
pub(crate) async fn logout_others(session: &Session) -> Result<Answer, Error> {
    per_user(
        async {
            let ended = session.end_other_sessions().await?;
            Ok((200, format!("ended {ended} other sessions")))
        }
        .await,
    )
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

/// `GET /flash/TEXT`: pushes TEXT as an info message (the apps then answer a redirect to
/// `/flashes`).
pub(crate) async fn flash(flash: &session_extras::Flash, text: &str) -> Result<(), Error> {
    flash.info(text).await
}

/// `GET /flashes`: the pending flash messages, one per line; they are gone afterwards.
pub(crate) async fn flashes(flash: &session_extras::Flash) -> Result<Answer, Error> {
    let messages = flash.take().await?;
    let lines: String = messages.iter().map(|m| format!("{}\n", m.text)).collect();
    Ok((200, lines))
}

/// `GET /csrf`: the session's CSRF token (created if it has none).
pub(crate) async fn csrf(csrf: &session_extras::Csrf) -> Result<Answer, Error> {
    Ok((200, csrf.token().await?))
}

/// `GET /csrf-check`: 200 when `submitted` (the `x-csrf-token` header) is the session's token,
/// 403 otherwise.
pub(crate) async fn csrf_check(
    csrf: &session_extras::Csrf,
    submitted: Option<&[u8]>,
) -> Result<Answer, Error> {
    let submitted = submitted.and_then(|bytes| std::str::from_utf8(bytes).ok());
    Ok(match submitted {
        Some(token) if csrf.verify(token).await? => (200, "ok".into()),
        _ => (403, "forbidden".into()),
    })
}

/// The header `/csrf-check` reads the token from.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Where `/flash/TEXT` redirects.
pub(crate) const FLASHES: &str = "/flashes";

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
