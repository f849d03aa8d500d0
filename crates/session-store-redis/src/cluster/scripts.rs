//! The Lua scripts of a store on a Redis Cluster: each touches the keys of one hash slot only.
//!
//! The session scripts (`write`, `apply`, `delete`) are the one-server scripts' bodies (see
//! [`scripts`](crate::scripts)) in their [`Variant::Cluster`](crate::scripts::Variant::Cluster) form: they take the session's hash
//! as their one key, with the same arguments, liveness check, size accounting and TTL deadline,
//! but leave the subject index alone and answer the subject the hash was bound to, for the
//! caller to keep the index with the index scripts here, whose one key is the index. Replies:
//!
//! - `write`: `0` (nothing written: a live session was there for a create, none for a save), or
//!   `{1, subject}` (written; `subject` is the replaced hash's, `''` if none).
//! - `apply`: `0` (no live session), `{1, subject}` (applied; `subject` only when the index must
//!   change: the record ended, or its expiry moved to another minute), or `{2, size}` (nothing
//!   written: the values would take `size` bytes, over the limit).
//! - `delete`: `{1 or 0, subject}`: whether a live session was there, and its subject.
//! - `index_add`, `index_remove`: 1. `index_read`: the entries, member then score, flat.
//!
//! Index entries are scored by the deadline of their session's expiry (as on one server); on a
//! cluster an index keeps an entry for a grace period past its score (`ARGV[2]`, milliseconds)
//! and lives that long past its latest entry, so that an entry whose score is behind its
//! session's expiry (an `apply` files its new expiry in the index after writing the session) is
//! not lost meanwhile.

use std::sync::LazyLock;

use redis::Script;

/// Helpers shared by the index scripts.
const INDEX_PRELUDE: &str = r"
local function int(n)
  return string.format('%.0f', n)
end

-- Gives the index the TTL of its longest-lived entry plus the grace period.
local function index_ttl(index, now, grace)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIRE', index, int(tonumber(top[2]) + grace - now)) end
end
";

/// Files a session in the index under an expiry, which only ever grows (`GT`), after pruning
/// the entries past their grace period. `ARGV`: now, grace, the expiry, the session's member.
const INDEX_ADD: &str = r"
local index, now, grace = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', index, '-inf', int(now - grace))
redis.call('ZADD', index, 'GT', ARGV[3], ARGV[4])
index_ttl(index, now, grace)
return 1
";

/// Takes members out of the index. `ARGV`: now, grace, then the members.
const INDEX_REMOVE: &str = r"
local index, now, grace = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('ZREM', index, unpack(ARGV, 3)) > 0 then index_ttl(index, now, grace) end
return 1
";

/// The index's entries (member, score, flat), after pruning those past their grace period.
/// `ARGV`: now, grace.
const INDEX_READ: &str = r"
local index, now, grace = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local pruned = redis.call('ZREMRANGEBYSCORE', index, '-inf', int(now - grace))
local entries = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
if pruned > 0 and #entries > 0 then index_ttl(index, now, grace) end
return entries
";

/// The index scripts, hashed once.
#[derive(Debug)]
pub(crate) struct IndexScripts {
    pub(crate) index_add: Script,
    pub(crate) index_remove: Script,
    pub(crate) index_read: Script,
}

/// The index scripts, built on first use (only a cluster store uses them). The session scripts
/// are the store's own, in their [`Variant::Cluster`](crate::scripts::Variant::Cluster) form.
pub(crate) static INDEX_SCRIPTS: LazyLock<IndexScripts> = LazyLock::new(|| {
    let index = |body: &str| Script::new(&format!("{INDEX_PRELUDE}{body}"));
    IndexScripts {
        index_add: index(INDEX_ADD),
        index_remove: index(INDEX_REMOVE),
        index_read: index(INDEX_READ),
    }
});

impl IndexScripts {
    /// All three, for loading them into every node ahead of use.
    pub(crate) fn all(&self) -> [&Script; 3] {
        [&self.index_add, &self.index_remove, &self.index_read]
    }
}
