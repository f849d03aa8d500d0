//! The Lua scripts of a store on a Redis Cluster: each touches the keys of one hash slot only.
//!
//! The session scripts (`write`, `apply`, `delete`) take the session's hash as their one key and
//! do what the one-server scripts (see [`scripts`](crate::scripts)) do to it, with the same
//! arguments, liveness check and size accounting, but leave the subject index alone: they answer
//! the subject digest the hash was bound to (`''` when unbound), and the caller keeps the index
//! with the index scripts, whose one key is the index. Replies:
//!
//! - `write`: `{0}` (nothing written: a live session was there for a create, none for a save), or
//!   `{1, subject}` (written; `subject` is the replaced hash's).
//! - `apply`: `{0}` (no live session), `{1, subject}` (applied), or `{2, size}` (nothing written:
//!   the values would take `size` bytes, over the limit).
//! - `delete`: `{1 or 0, subject}`: whether a live session was there, and its subject.
//! - `index_add`, `index_remove`: 1. `index_read`: the entries, member then score, flat.
//!
//! Index entries are scored by their session's expiry; on a cluster an index keeps an entry for
//! a grace period past its score (`ARGV[2]`, milliseconds) and lives that long past its latest
//! entry, so that an entry whose score is late behind its session's expiry (an `apply` filed
//! its new expiry in the index after writing the session) is not lost meanwhile.

use std::sync::LazyLock;

use redis::Script;

/// Helpers shared by the session scripts: the same checks and bounded field writes as the
/// one-server scripts'.
const PRELUDE: &str = r"
-- Whether `key` holds a live session, and the subject digest its hash names (nil when unbound, or
-- when the field is not 64 lowercase hex digits).
local function state(key, now)
  local fields = redis.pcall('HMGET', key, 'expires', 'subject_key')
  if fields.err then return false, nil end
  local expires, subject = nil, fields[2]
  if fields[1] then expires = tonumber(fields[1]) end
  if not (subject and #subject == 64 and string.match(subject, '^[0-9a-f]+$')) then
    subject = nil
  end
  return expires ~= nil and expires > now, subject
end

-- HSET the field/value pairs ARGV[first..last], a bounded number per call; `size` too, if given.
local function hset_args(key, first, last, size)
  local i = first
  while i <= last do
    local j = math.min(i + 999, last)
    if size then
      redis.call('HSET', key, 'size', size, unpack(ARGV, i, j))
      size = nil
    else
      redis.call('HSET', key, unpack(ARGV, i, j))
    end
    i = j + 1
  end
  if size then redis.call('HSET', key, 'size', size) end
end

-- HDEL the fields of `list` (a Lua array) from index `first` on, a bounded number per call.
local function hdel_list(key, list, first)
  local i = first
  while i <= #list do
    local j = math.min(i + 999, #list)
    redis.call('HDEL', key, unpack(list, i, j))
    i = j + 1
  end
end
";

/// `create` and `save`. `ARGV`: now, ttl, mode (`create` or `save`), then the record's
/// field/value pairs. The old hash (dead, damaged or replaced) is removed first.
const WRITE: &str = r"
local key, now, ttl, mode = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local is_live, subject = state(key, now)
if mode == 'create' then
  if is_live then return {0} end
elseif not is_live then
  return {0}
end
redis.call('UNLINK', key)
if ttl > 0 then
  hset_args(key, 4, #ARGV)
  redis.call('PEXPIRE', key, ARGV[2])
end
return {1, subject or ''}
";

/// `apply` and `touch`. `ARGV` as the one-server `apply`'s: now, ttl, the limit, clear, the
/// number of pairs to set (n), how many set values (k), how many removed fields are values (m),
/// the pairs, then the fields to remove.
const APPLY: &str = r"
-- The bytes the value field `field` holds in the hash (its name and text), 0 if it is not there.
local function stored(key, field)
  local len = redis.call('HSTRLEN', key, field)
  if len == 0 then return 0 end
  return #field + len
end

local key, now, ttl, limit = KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local is_live, subject = state(key, now)
if not is_live then return {0} end
if tonumber(ttl) <= 0 then
  redis.call('UNLINK', key)
  return {1, subject or ''}
end
local last_set = 7 + 2 * tonumber(ARGV[5])
local last_value_set = 7 + 2 * tonumber(ARGV[6])
local last_value_removed = last_set + tonumber(ARGV[7])
local size, cleared = nil, nil
if ARGV[4] == '1' then
  size, cleared = 0, {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'v:' then cleared[#cleared + 1] = field end
  end
elseif last_value_set > 7 or last_value_removed > last_set then
  local kept = redis.call('HGET', key, 'size')
  size = kept and string.match(kept, '^%d+$') and tonumber(kept)
  if not size then
    size = 0
    for _, field in ipairs(redis.call('HKEYS', key)) do
      if string.sub(field, 1, 2) == 'v:' then size = size + stored(key, field) end
    end
  end
  for i = 8, last_value_set, 2 do size = size - stored(key, ARGV[i]) end
  for i = last_set + 1, last_value_removed do size = size - stored(key, ARGV[i]) end
end
if size then
  for i = 8, last_value_set, 2 do size = size + #ARGV[i] + #ARGV[i + 1] end
  if size > limit then return {2, size} end
end
if cleared then hdel_list(key, cleared, 1) end
hset_args(key, 8, last_set, size)
hdel_list(key, ARGV, last_set + 1)
redis.call('PEXPIRE', key, ttl)
return {1, subject or ''}
";

/// `delete`. `ARGV`: now.
const DELETE: &str = r"
local key, now = KEYS[1], tonumber(ARGV[1])
local was_live, subject = state(key, now)
redis.call('UNLINK', key)
if was_live then return {1, subject or ''} end
return {0, subject or ''}
";

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

/// The cluster scripts, hashed once.
#[derive(Debug)]
pub(crate) struct ClusterScripts {
    pub(crate) write: Script,
    pub(crate) apply: Script,
    pub(crate) delete: Script,
    pub(crate) index_add: Script,
    pub(crate) index_remove: Script,
    pub(crate) index_read: Script,
}

/// The scripts, built on first use (only a cluster store uses them).
pub(crate) static SCRIPTS: LazyLock<ClusterScripts> = LazyLock::new(|| {
    let session = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
    let index = |body: &str| Script::new(&format!("{INDEX_PRELUDE}{body}"));
    ClusterScripts {
        write: session(WRITE),
        apply: session(APPLY),
        delete: session(DELETE),
        index_add: index(INDEX_ADD),
        index_remove: index(INDEX_REMOVE),
        index_read: index(INDEX_READ),
    }
});

impl ClusterScripts {
    /// All six, for loading them into every node ahead of use.
    pub(crate) fn all(&self) -> [&Script; 6] {
        [
            &self.write,
            &self.apply,
            &self.delete,
            &self.index_add,
            &self.index_remove,
            &self.index_read,
        ]
    }
}
