//! The writes and the listing of a store on a Redis Cluster: every script on one hash slot, and
//! the subject index kept by calls of its own, ordered so that a listing never misses a live
//! session.
//!
//! A session's hash and its subject's index lie in different slots (usually on different
//! masters), so one script cannot change both. The order of the calls is what keeps the index
//! true enough:
//!
//! - **Filed before, removed after.** A bound `create` or `save` files the session in its index
//!   (`index_add`) before it writes the hash, and fails, writing nothing, when that fails. A
//!   `delete`, or an `apply` that ends the record, removes the hash first and the entry after.
//!   A write that replaced a hash bound elsewhere removes the old entry after.
//! - **Expiries only grow in the index.** An `apply` or `touch` of a bound session whose expiry
//!   moves to another minute files the new expiry's deadline after writing the hash (its script
//!   answers the subject then, which the caller does not know beforehand): `ZADD GT`, which files
//!   the entry again if it was lost. Within the minute the entry's score, the same deadline,
//!   still covers the session, and the script answers no subject. Entries are kept
//!   a grace period ([`INDEX_GRACE`]) past their score, and the index lives that long past its
//!   latest entry, so an entry whose score lags its session's expiry by one call is not lost.
//! - **The listing reads each hash.** It prunes an entry only on evidence that its session is
//!   gone: the hash is dead by its `expires`, bound to no or another subject, or not a hash; or
//!   it is missing and the entry's score has passed. A missing hash under an entry whose score
//!   is still ahead may be a create in flight (filed, not yet written): it is left out of the
//!   listing and kept.
//!
//! Removing an entry after its hash, and filing one before, is best effort where the hash was
//! already written: a failure there is logged and the call still answers what happened to the
//! session. What a failure or a crash between the calls leaves is described in the
//! [crate docs](crate#redis-cluster).

mod scripts;

use std::time::Duration;

use redis::{Cmd, Script, Value};
use session_core::store::{BoundSession, Changes, Key, Record, StoreError, Timestamp, subject_key};

use crate::command;
use crate::error::RedisStoreError;
use crate::layout::{self, SUBJECT_KEY};
use crate::listing;
use crate::store::{RedisStore, ttl_ms};

pub(crate) use scripts::INDEX_SCRIPTS;

/// How long an index entry is kept past its score, and an index past its latest entry's.
pub(crate) const INDEX_GRACE: Duration = Duration::from_secs(60);
/// The grace period in milliseconds, as the index scripts take it.
const GRACE_MS: u64 = INDEX_GRACE.as_secs() * 1_000;
/// The most members one `index_remove` takes (Lua's `unpack` has a limit).
const REMOVE_BATCH: usize = 1_000;

/// What a session script answered.
enum Outcome {
    /// Nothing done: no live session (or, for a create, a live one).
    NotDone,
    /// Done; the subject digest (hex) the hash was bound to before, if any.
    Done(Option<String>),
    /// Nothing written: the values would take this many bytes, over the limit.
    TooLarge(usize),
}

/// `create` or `save` on a cluster.
pub(crate) async fn write(
    store: &RedisStore,
    mode: &'static str,
    key: &Key,
    record: &Record,
) -> Result<bool, StoreError> {
    let (fields, size) = store.record_fields(record)?;
    let now = store.now();
    let ttl = ttl_ms(now, record.expires);
    let member = key.to_hex();
    let subject = record
        .binding
        .as_ref()
        .map(|binding| binding.subject_key().to_hex());
    if let Some(subject) = subject.as_deref().filter(|_| ttl > 0) {
        // Filed first: a listing from now on names the session (shown once it is written).
        index_add(store, mode, subject, now, ttl, &member).await?;
    }
    let mut cmd = command::evalsha(&store.scripts().write, 1);
    cmd.arg(store.key_arg(key))
        .arg(now.as_millis())
        .arg(ttl)
        .arg(mode);
    for (field, text) in &fields {
        cmd.arg(field).arg(text);
    }
    cmd.arg(layout::SIZE).arg(size);
    match run(store, mode, &store.scripts().write, &cmd).await? {
        Outcome::Done(old) => {
            if let Some(old) = old.filter(|old| ttl == 0 || subject.as_ref() != Some(old)) {
                index_remove_logged(store, mode, &old, now, key).await;
            }
            Ok(true)
        }
        Outcome::NotDone => {
            // A save found no live session: it never comes back (no write resurrects one), so the
            // entry filed for it goes. (A create that collided leaves it: the live session there
            // may be bound to the same subject; a listing prunes it otherwise.)
            if let Some(subject) = subject.as_deref().filter(|_| mode == "save" && ttl > 0) {
                index_remove_logged(store, mode, subject, now, key).await;
            }
            Ok(false)
        }
        Outcome::TooLarge(_) => Err(RedisStoreError::UnexpectedReply { op: mode }.into()),
    }
}

/// `apply` and `touch` on a cluster.
pub(crate) async fn apply(
    store: &RedisStore,
    key: &Key,
    changes: &Changes,
) -> Result<bool, StoreError> {
    let now = store.now();
    let ttl = ttl_ms(now, changes.expires);
    let cmd = store.apply_command(&store.scripts().apply, key, now, changes)?;
    match run(store, "apply", &store.scripts().apply, &cmd).await? {
        Outcome::NotDone => Ok(false),
        Outcome::TooLarge(size) => Err(store.too_large(size)),
        Outcome::Done(None) => Ok(true),
        Outcome::Done(Some(subject)) => {
            if ttl > 0 {
                let member = key.to_hex();
                if let Err(error) = index_add(store, "apply", &subject, now, ttl, &member).await {
                    tracing::warn!(
                        ?key,
                        %error,
                        "a session's new expiry was not filed in its Redis Cluster subject index \
                         (the session was written; its next write files it)"
                    );
                }
            } else {
                index_remove_logged(store, "apply", &subject, now, key).await;
            }
            Ok(true)
        }
    }
}

/// `delete` on a cluster: the hash, then its index entry.
pub(crate) async fn delete(store: &RedisStore, key: &Key) -> Result<bool, StoreError> {
    let now = store.now();
    let mut cmd = command::evalsha(&store.scripts().delete, 1);
    cmd.arg(store.key_arg(key)).arg(now.as_millis());
    let reply = store
        .call_script("delete", &store.scripts().delete, &cmd)
        .await?;
    let (live, subject) = match reply {
        Value::Array(items) => match items.as_slice() {
            [Value::Int(live @ (0 | 1)), Value::BulkString(subject)] => {
                (*live == 1, subject_of(subject))
            }
            _ => return Err(RedisStoreError::UnexpectedReply { op: "delete" }.into()),
        },
        _ => return Err(RedisStoreError::UnexpectedReply { op: "delete" }.into()),
    };
    if let Some(subject) = subject {
        index_remove_logged(store, "delete", &subject, now, key).await;
    }
    Ok(live)
}

/// `list_subject` on a cluster: the index's entries, each checked against its hash.
pub(crate) async fn list_subject(
    store: &RedisStore,
    subject: &str,
) -> Result<Vec<BoundSession>, StoreError> {
    const OP: &str = "list_subject";
    let digest = subject_key(subject);
    let hex = digest.to_hex();
    let now = store.now();
    let mut invocation = INDEX_SCRIPTS.index_read.prepare_invoke();
    invocation
        .key(listing::index_name(store.prefix(), &digest))
        .arg(now.as_millis())
        .arg(GRACE_MS);
    let mut connection = store.connection();
    let reply: Vec<Vec<u8>> = store
        .bounded(OP, invocation.invoke_async(&mut connection))
        .await?;
    if !reply.len().is_multiple_of(2) {
        return Err(RedisStoreError::UnexpectedReply { op: OP }.into());
    }
    let entries: Vec<(String, Option<u64>)> = reply
        .chunks_exact(2)
        .map(|pair| {
            let member = String::from_utf8_lossy(&pair[0]).into_owned();
            let score = std::str::from_utf8(&pair[1])
                .ok()
                .and_then(|text| text.parse::<f64>().ok())
                .filter(|score| score.is_finite() && *score >= 0.0)
                // Scores are whole milliseconds, far below 2^53.
                .map(|score| score as u64);
            (member, score)
        })
        .collect();
    let hashes = read_hashes(store, &entries).await?;
    let mut stale = Vec::new();
    let mut live = Vec::new();
    for ((member, score), hash) in entries.into_iter().zip(hashes) {
        match judge(hash, score, now, hex.as_bytes()) {
            Verdict::Live(fields) => {
                let mut entry = Vec::with_capacity(5);
                entry.push(member.into_bytes());
                entry.extend(fields);
                live.push(entry);
            }
            Verdict::Gone => stale.push(member),
            Verdict::Unknown => {}
        }
    }
    if !stale.is_empty() {
        index_remove(store, OP, &hex, now, &stale).await?;
    }
    let mut listed = listing::read_listing(live, &digest);
    listed.retain(|bound| bound.binding.subject == subject);
    Ok(listed)
}

/// The fields a listing reads from each hash, in this order.
const LISTED_FIELDS: [&str; 5] = [
    SUBJECT_KEY,
    layout::BINDING,
    layout::CREATED,
    layout::LAST_ACTIVE,
    layout::EXPIRES,
];

/// What a listing read under one entry's name.
enum HashRead {
    /// The fields of [`LISTED_FIELDS`], each `None` when absent (all of them for no key).
    Fields(Vec<Option<Vec<u8>>>),
    /// The key holds something other than a hash.
    NotAHash,
    /// The member is not a session key's digest: there is nothing to read.
    NotAKey,
}

/// What a listing makes of one entry.
enum Verdict {
    /// A live session of the subject: its `binding`, `created`, `last_active` and `expires`.
    Live([Vec<u8>; 4]),
    /// Its session is gone: the entry goes.
    Gone,
    /// No session yet, but one may be in flight: left out, and kept.
    Unknown,
}

/// Judges one entry (`score` its expiry, if readable) by what was read under its name.
fn judge(hash: HashRead, score: Option<u64>, now: Timestamp, subject: &[u8]) -> Verdict {
    let fields = match hash {
        HashRead::NotAHash | HashRead::NotAKey => return Verdict::Gone,
        HashRead::Fields(fields) => fields,
    };
    if fields.iter().all(Option::is_none) {
        // No hash: gone once the entry's own expiry has passed; until then it may be a session
        // being created (filed first, written next).
        return match score {
            Some(score) if score > now.as_millis() => Verdict::Unknown,
            _ => Verdict::Gone,
        };
    }
    let Ok([bound_to, binding, created, last_active, expires]) =
        <[Option<Vec<u8>>; 5]>::try_from(fields)
    else {
        return Verdict::Gone;
    };
    let live = expires
        .as_deref()
        .and_then(|text| layout::timestamp(text, layout::EXPIRES).ok())
        .is_some_and(|expires| expires > now);
    match (bound_to.as_deref() == Some(subject), live, expires) {
        (true, true, Some(expires)) => Verdict::Live([
            binding.unwrap_or_default(),
            created.unwrap_or_default(),
            last_active.unwrap_or_default(),
            expires,
        ]),
        _ => Verdict::Gone,
    }
}

/// Reads the listed fields of every entry's hash, all at once (each hash lies in a slot of its
/// own), bounded by the store's time-out as a whole.
async fn read_hashes(
    store: &RedisStore,
    entries: &[(String, Option<u64>)],
) -> Result<Vec<HashRead>, RedisStoreError> {
    let mut reads = tokio::task::JoinSet::new();
    let mut results: Vec<HashRead> = Vec::with_capacity(entries.len());
    for (n, (member, _)) in entries.iter().enumerate() {
        let key = Key::from_hex(member).filter(|key| key.to_hex() == *member);
        let Some(key) = key else {
            results.push(HashRead::NotAKey);
            continue;
        };
        results.push(HashRead::NotAKey);
        let name = store.key_name(&key);
        let mut connection = store.connection();
        reads.spawn(async move {
            let mut command = redis::cmd("HMGET");
            command.arg(name).arg(&LISTED_FIELDS[..]);
            let read: redis::RedisResult<Vec<Option<Vec<u8>>>> =
                command.query_async(&mut connection).await;
            (n, read)
        });
    }
    let all = async {
        while let Some(done) = reads.join_next().await {
            let Ok((n, read)) = done else {
                // A read task cannot panic (no unwrap in it); one aborted is the runtime
                // shutting down.
                return Err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "a listing's read was cancelled",
                )));
            };
            results[n] = match read {
                Ok(fields) => HashRead::Fields(fields),
                Err(error) if error.code() == Some("WRONGTYPE") => HashRead::NotAHash,
                Err(error) => return Err(error),
            };
        }
        Ok(())
    };
    store.bounded("list_subject", all).await?;
    Ok(results)
}

/// Runs a session script's command, reading its reply.
async fn run(
    store: &RedisStore,
    op: &'static str,
    script: &Script,
    cmd: &Cmd,
) -> Result<Outcome, StoreError> {
    let reply = store.call_script(op, script, cmd).await?;
    let unexpected = || RedisStoreError::UnexpectedReply { op }.into();
    let Value::Array(items) = reply else {
        return match reply {
            Value::Int(0) => Ok(Outcome::NotDone),
            _ => Err(unexpected()),
        };
    };
    match items.as_slice() {
        [Value::Int(1), Value::BulkString(subject)] => Ok(Outcome::Done(subject_of(subject))),
        [Value::Int(2), Value::Int(size)] => Ok(Outcome::TooLarge(
            usize::try_from(*size).unwrap_or(usize::MAX),
        )),
        _ => Err(unexpected()),
    }
}

/// The subject digest a script answered: 64 lowercase hex digits, or none.
fn subject_of(reply: &[u8]) -> Option<String> {
    let hex = std::str::from_utf8(reply).ok()?;
    Key::from_hex(hex)
        .filter(|key| key.to_hex() == hex)
        .map(|_| hex.to_owned())
}

/// The name of the index of the subject whose digest is `subject` (hex).
fn index_of(store: &RedisStore, subject: &str) -> String {
    let mut name = String::with_capacity(store.prefix().len() + listing::INDEX_INFIX.len() + 64);
    name.push_str(store.prefix());
    name.push_str(listing::INDEX_INFIX);
    name.push_str(subject);
    name
}

/// Files `member` in the index of `subject` under the deadline of the expiry `now + ttl` (or a
/// later score it already has).
async fn index_add(
    store: &RedisStore,
    op: &'static str,
    subject: &str,
    now: Timestamp,
    ttl: u64,
    member: &str,
) -> Result<(), RedisStoreError> {
    let mut invocation = INDEX_SCRIPTS.index_add.prepare_invoke();
    invocation
        .key(index_of(store, subject))
        .arg(now.as_millis())
        .arg(GRACE_MS)
        .arg(crate::scripts::deadline_ms(
            now.as_millis().saturating_add(ttl),
        ))
        .arg(member);
    let mut connection = store.connection();
    store
        .bounded(op, invocation.invoke_async::<Value>(&mut connection))
        .await
        .map(drop)
}

/// Takes `members` out of the index of `subject`.
async fn index_remove(
    store: &RedisStore,
    op: &'static str,
    subject: &str,
    now: Timestamp,
    members: &[String],
) -> Result<(), RedisStoreError> {
    let index = index_of(store, subject);
    for batch in members.chunks(REMOVE_BATCH) {
        let mut invocation = INDEX_SCRIPTS.index_remove.prepare_invoke();
        invocation
            .key(&index)
            .arg(now.as_millis())
            .arg(GRACE_MS)
            .arg(batch);
        let mut connection = store.connection();
        store
            .bounded(op, invocation.invoke_async::<Value>(&mut connection))
            .await?;
    }
    Ok(())
}

/// [`index_remove`] of one session after its hash went or moved: a failure is logged (the entry
/// stays, and a listing prunes it).
async fn index_remove_logged(
    store: &RedisStore,
    op: &'static str,
    subject: &str,
    now: Timestamp,
    key: &Key,
) {
    let member = [key.to_hex()];
    if let Err(error) = index_remove(store, op, subject, now, &member).await {
        tracing::warn!(
            ?key,
            %error,
            "a gone session's entry stayed in its Redis Cluster subject index (a listing prunes it)"
        );
    }
}
