//! The Lua scripts that make every write one atomic step on the server.
//!
//! Each script but the listing takes the session's hash as `KEYS[1]` and the store's clock as
//! `ARGV[1]` (`now`, milliseconds since the epoch), and first asks whether the hash holds a live
//! session: a hash whose `expires` field is a number greater than `now`. A key that is missing,
//! not a hash, lacking `expires`, or expired by the store's clock holds no live session, whatever
//! Redis's own TTL says. Every write script answers 1 or 0; Redis runs each one without
//! interleaving any other command, so a check and the writes that follow it cannot be split by a
//! concurrent request.
//!
//! A bound session's subject index (see [`listing`](crate::listing)) is kept by the same
//! scripts: `create` and `save` get it as `KEYS[2]`; `apply`, `touch` and `delete` find it
//! through the hash's `subject_key` field, read with `expires`.
//!
//! The caller passes `ttl`, the record's `expires - now` in milliseconds on the same clock; `0`
//! means the record is already dead and is not written (or is removed). The key's own TTL
//! (`PEXPIRE`) runs to the expiry's *deadline*, the first whole minute of the store's clock after
//! it: the `expires` field alone says whether the session is live, and the TTL only reclaims
//! memory, up to a minute after the session died. An `apply` whose new expiry falls in the same
//! minute as the old one (a session used again within a minute of its last write, which is most
//! requests) leaves the TTL as it is, saving a `PEXPIRE`.
//!
//! The record size limit: `create` and `save` write a whole record, so the caller checks its
//! size and passes the `size` field with the others. `apply` sees only the fields it changes: it
//! keeps the `size` field (the byte lengths of the value fields' names and texts, summed, an
//! empty field's name, and each packed value as if in a field of its own) up to date, from the lengths of the value fields it sets and the old lengths of those it replaces
//! (their texts, read with the liveness check, for short values; `HSTRLEN` for long ones) or
//! removes (`HSTRLEN`), and writes nothing if the result passes the limit. A change of metadata
//! alone (a touch) leaves the size as it is, and reads or writes no `size`.
//!
//! Packed values (see [`layout`](crate::layout)): `apply` writes each changed value to its own
//! field, over the packed one, and removes a value of a packed hash with an empty field. When a
//! change may have added fields (its `HSET` says it did) and the hash then has more than
//! [`PACK_FIELDS`](crate::layout::PACK_FIELDS), with the values within
//! [`PACK_MAX`](crate::layout::PACK_MAX), it packs them again, in the same script. Overridden and
//! removed packed values still count in `size` until then; a change that this count puts over
//! the limit prunes them from the pack first (with the values it sets, which stay in fields of
//! their own), and is refused only if the values' own size passes the limit.

use redis::Script;

use crate::layout;

/// The liveness check of `create`, `save` and `delete`.
const STATE: &str = r"
-- Whether `key` holds a live session, and the subject digest its hash names (nil when unbound, or
-- when the field is not 64 lowercase hex digits). One call for both: HMGET answers false for a
-- missing field or key, an error table for a key that is not a hash.
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
";

/// Numbers, and the TTL's deadline.
const NUMBERS: &str = r"
-- A whole number as Redis reads an integer: Lua's own conversion of a number argument may write
-- one in exponent form ('3.6e+10'), which PEXPIRE refuses.
local function int(n)
  return string.format('%.0f', n)
end

-- Redis drops a session's key at the deadline of its expiry: the first whole minute of the store's
-- clock after it. Only the field says whether a session is live; the TTL reclaims memory, and an
-- expiry that moves within its minute (most requests) costs no PEXPIRE.
local GRID = 60000
local function deadline(expires)
  return (math.floor(expires / GRID) + 1) * GRID
end
";

/// The subject index's upkeep.
const INDEX: &str = r"
-- The index key of the subject digest `subject`, beside the session key `key`, which is the
-- prefix and 64 hex digits; the index is the prefix, 'subject:' and the subject's digest.
local function index_of(key, subject)
  return string.sub(key, 1, -65) .. 'subject:' .. subject
end

-- Gives the index the TTL of its longest-lived entry (scores are the deadlines of expiries), and a
-- minute more: it outlives none of its sessions by more than two minutes, and none outlives it
-- (an entry a release before deadlines scored with its exact expiry may have its session's
-- expiry moved within that minute without being scored again). A last entry long dead (TTL <=
-- 0) makes Redis drop the key.
local function index_ttl(index, now)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIRE', index, int(tonumber(top[2]) + GRID - now)) end
end

-- Drops the entries scored over a minute ago: their sessions are dead (a score is the deadline of
-- an expiry, or, written by a release before deadlines, an expiry an apply since may have moved
-- within its minute).
local function prune(index, now)
  return redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. int(now - GRID))
end

-- Takes the session key's entry out of an index. Best effort: an index that is not a sorted set
-- (written by something else) must not stop a delete.
local function unindex(index, key, now)
  if redis.pcall('ZREM', index, string.sub(key, -64)) == 1 then index_ttl(index, now) end
end

-- Files the session key in an index under a new expiry's deadline; best effort as above.
local function reindex(index, key, expires, now)
  if type(redis.pcall('ZADD', index, int(deadline(expires)), string.sub(key, -64))) == 'number' then
    index_ttl(index, now)
  end
end
";

/// Bounded `HSET` and `HDEL` (a call takes a bounded number of arguments from Lua).
const FIELDS: &str = r"
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

-- HDEL the fields list[first..last] (a Lua array), a bounded number per call.
local function hdel_list(key, list, first, last)
  local i = first
  while i <= last do
    local j = math.min(i + 999, last)
    redis.call('HDEL', key, unpack(list, i, j))
    i = j + 1
  end
end
";

/// `create` (insert-if-absent) and `save` (replace-if-present) in one script.
///
/// `KEYS`: the session's hash, then, for a bound record, its subject's index. `ARGV`: now, ttl,
/// mode (`create` or `save`), then the record's field/value pairs. The old hash (dead, damaged or
/// replaced) is removed first, so no field of it survives, and leaves the index it was in unless
/// the record goes to the same one.
///
/// A bound record's index is written first, so that an index Redis refuses (a key that is not a
/// sorted set) fails the call before anything else is written; its entries scored over a minute
/// ago are pruned.
const WRITE: &str = r"
local key, index, now, ttl, mode = KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local is_live, subject = state(key, now)
if mode == 'create' then
  if is_live then --NOT_DONE-- end
elseif not is_live then
  --NOT_DONE--
end
--WRITE_INDEX--
redis.call('UNLINK', key)
if ttl > 0 then
  hset_args(key, 4, #ARGV)
  redis.call('PEXPIRE', key, int(deadline(now + ttl) - now))
end
--WRITTEN--
";

/// `WRITE`'s index upkeep on one server.
const WRITE_INDEX: &str = r"
if index and ttl > 0 then
  prune(index, now)
  redis.call('ZADD', index, int(deadline(now + ttl)), string.sub(key, -64))
  index_ttl(index, now)
end
if subject then
  local was = index_of(key, subject)
  if was ~= index or ttl <= 0 then unindex(was, key, now) end
end
";

/// `apply` and `touch`: key-level changes to a live record, within the size limit.
///
/// `ARGV`: now, ttl, the limit, clear (`1` or `0`), the number of field/value pairs to set (n),
/// how many of them set values (k, the first ones), how many of the fields to remove are values
/// (m, the first ones), how many of the values set are short (s, the first ones), the 2n
/// arguments of the pairs, the fields to remove, then the s short values' field names again.
/// With clear, every value field (`v:`) and the pack go first (and s is 0). Answers `{2, size}`, writing
/// nothing, when the values would take `size` bytes, over the limit; a change of metadata alone
/// (a touch) neither reads nor writes the size. A bound record's index entry follows the new
/// expiry (or goes, with the record, when the record is dead).
///
/// Lean on purpose, since it runs on nearly every request: each `redis.call` costs Redis about a
/// microsecond, and so do a few dozen Lua steps (a helper function defined is a closure made on
/// every run). The liveness check, the size and the old texts of the short values set come from
/// one `HMGET`; the changes go in one `HSET`; the TTL is set only when the new expiry leaves the
/// old one's minute (see the module docs); helpers are defined only on the paths that use them
/// (the `--UNINDEX--`, `--REINDEX--` and `--FIELDS--` hooks, filled per [`Variant`]; the packing
/// is one closure, run only when it is due). For a counter: two calls, and a third (`HLEN`) when
/// the counter's field is new (its first write after the values were packed).
const APPLY: &str = r"
local GRID = 60000
local key, now, ttl = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local last_set = 8 + 2 * tonumber(ARGV[5])
local last_value_set = 8 + 2 * tonumber(ARGV[6])
local last_value_removed = last_set + tonumber(ARGV[7])
local shorts = tonumber(ARGV[8])
local last_removed = #ARGV - shorts
-- One read: liveness, subject, kept size, and the old texts of the short values set.
local f = redis.pcall('HMGET', key, 'expires', 'subject_key', 'size',
  unpack(ARGV, last_removed + 1, last_removed + shorts))
if f.err then return 0 end
local expires = f[1] and tonumber(f[1])
if not (expires and expires > now) then return 0 end
local subject = f[2]
if subject and not (#subject == 64 and string.match(subject, '^[0-9a-f]+$')) then
  subject = nil
end
if ttl <= 0 then
  redis.call('UNLINK', key)
  --UNINDEX--
  --ENDED--
end
-- The values' size after the changes, when they change it; whether removals leave empty fields.
local size, cleared, tombstones = nil, nil, false
if ARGV[4] == '1' then
  size, cleared = 0, {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'v:' or field == 'pack' then cleared[#cleared + 1] = field end
  end
elseif last_value_set > 8 or last_value_removed > last_set then
  -- The bytes the value field `field` holds in the hash (its name and text; an empty field, a
  -- removed packed value, its name), 0 if not there.
  local function stored(field)
    local len = redis.call('HSTRLEN', key, field)
    if len > 0 then return #field + len end
    if redis.call('HEXISTS', key, field) == 1 then return #field end
    return 0
  end
  -- Digits only: Lua's tonumber would also take '-5', 'nan' or '0x10', and turn the check off.
  size = f[3] and string.match(f[3], '^%d+$') and tonumber(f[3])
  if not size then
    -- Written without the field (or with a damaged one): measured once.
    size = 0
    for _, field in ipairs(redis.call('HKEYS', key)) do
      if string.sub(field, 1, 2) == 'v:' then
        size = size + stored(field)
      elseif field == 'pack' then
        -- Its length: more than its values count, which the next packing mends.
        size = size + redis.call('HSTRLEN', key, field)
      end
    end
  end
  for j = 1, shorts do
    local old = f[3 + j]
    if old then size = size - #ARGV[last_removed + j] - #old end
  end
  for i = 9 + 2 * shorts, last_value_set, 2 do size = size - stored(ARGV[i]) end
  for i = last_set + 1, last_value_removed do size = size - stored(ARGV[i]) end
  if last_value_removed > last_set then
    -- A packed value is removed by an empty field over it, which counts its name.
    tombstones = redis.call('HEXISTS', key, 'pack') == 1
    if tombstones then
      for i = last_set + 1, last_value_removed do size = size + #ARGV[i] end
    end
  end
end
--PACKING--
-- Whether the pack was pruned of the values fields override (the size is then exact).
local pruned = false
if size then
  for i = 9, last_value_set, 2 do size = size + #ARGV[i] + #ARGV[i + 1] end
  local limit = tonumber(ARGV[3])
  if size > limit then
    -- Packed values overridden or removed by fields still count: pruned of them, and of those
    -- this call changes, the pack leaves the size the values' own.
    if cleared or redis.call('HEXISTS', key, 'pack') == 0 then return {2, size} end
    local exact = prune(limit)
    if not exact or exact > limit then return {2, exact or size} end
    size, pruned = exact, true
  end
end
-- Whether the changes may have added fields.
local added = 1
if not cleared and last_removed == last_set and last_set <= 1008 then
  -- The usual change: one HSET.
  if size then
    added = redis.call('HSET', key, 'size', size, unpack(ARGV, 9, last_set))
  else
    added = redis.call('HSET', key, unpack(ARGV, 9, last_set))
  end
else
  --FIELDS--
  if cleared then hdel_list(key, cleared, 1, #cleared) end
  hset_args(key, 9, last_set, size)
  if last_value_removed > last_set then
    if tombstones and not pruned then
      -- A packed value is removed by an empty field over it.
      local empty = {}
      for i = last_set + 1, last_value_removed do
        empty[#empty + 1] = ARGV[i]
        empty[#empty + 1] = ''
      end
      for i = 1, #empty, 1000 do
        redis.call('HSET', key, unpack(empty, i, math.min(i + 999, #empty)))
      end
    else
      hdel_list(key, ARGV, last_set + 1, last_value_removed)
    end
  end
  if last_removed > last_value_removed then hdel_list(key, ARGV, last_value_removed + 1, last_removed) end
end
-- Packed again when fields pile up, unless the values are too large to pack (the kept size is
-- at least theirs).
if added > 0 then
  local kept = size or (f[3] and string.match(f[3], '^%d+$') and tonumber(f[3]))
  if kept and kept <= PACK_MAX and redis.call('HLEN', key) > PACK_FIELDS then pack_all() end
end
-- The TTL already reaches the old expiry's deadline, which serves while the new one shares it.
local cell = math.floor((now + ttl) / GRID)
local moved = math.floor(expires / GRID) ~= cell
if moved then
  redis.call('PEXPIRE', key, string.format('%.0f', (cell + 1) * GRID - now))
  -- The same for the index entry, scored by that deadline.
  --REINDEX--
end
--APPLIED--
";

/// `apply`'s packing (see [`layout`](crate::layout)): the values a hash holds, in one `pack` field.
const PACKING: &str = r"
-- The entries of a pack, as put(name, text) calls in its order; false for a pack this store
-- did not write.
local function each_packed(pack, put)
  local at = 1
  while at <= #pack do
    local _, head, name_len, text_len = string.find(pack, '^(%d+):(%d+):', at)
    if not head then return false end
    local name_end = head + tonumber(name_len)
    local stop = name_end + tonumber(text_len)
    if stop > #pack then return false end
    put(string.sub(pack, head + 1, name_end), string.sub(pack, name_end + 1, stop))
    at = stop + 1
  end
  return true
end

-- An entry of a pack.
local function entry(name, text)
  return #name .. ':' .. #text .. ':' .. name .. text
end

-- Packs the hash's values, all of them: the pack's, then the `v:` fields' over them (an empty
-- one removes its value), into one `pack` field with their size; the `v:` fields go. Nothing is
-- written for a pack this store did not write.
local function pack_all()
  local all = redis.call('HGETALL', key)
  local texts, names, loose = {}, {}, {}
  local function put(name, text)
    if texts[name] == nil then names[#names + 1] = name end
    texts[name] = text
  end
  for i = 1, #all, 2 do
    if all[i] == 'pack' and not each_packed(all[i + 1], put) then return end
  end
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'v:' then
      loose[#loose + 1] = all[i]
      put(string.sub(all[i], 3), all[i + 1])
    end
  end
  local parts, size = {}, 0
  for _, name in ipairs(names) do
    local text = texts[name]
    if text ~= '' then
      parts[#parts + 1] = entry(name, text)
      size = size + 2 + #name + #text
    end
  end
  for i = 1, #loose, 1000 do
    redis.call('HDEL', key, unpack(loose, i, math.min(i + 999, #loose)))
  end
  if #parts > 0 then
    redis.call('HSET', key, 'pack', table.concat(parts), 'size', size)
  else
    redis.call('HDEL', key, 'pack')
    redis.call('HSET', key, 'size', 0)
  end
end

-- Prunes the pack of the values a `v:` field overrides or removes, and of those this call's
-- ARGV changes, and drops the empty fields (nothing packed lies under them any more); the other
-- `v:` fields stay as they are, and so the values this call sets go to fields of their own. The
-- pack only shrinks, and a value changed again is not counted twice again. Answers the values'
-- size with this call's changes (not yet written), having written nothing if it passes `limit`;
-- nil, nothing written, for a pack this store did not write.
local function prune(limit)
  local all = redis.call('HGETALL', key)
  local loose, empty, pack = {}, {}, ''
  for i = 1, #all, 2 do
    local field, text = all[i], all[i + 1]
    if field == 'pack' then
      pack = text
    elseif string.sub(field, 1, 2) == 'v:' then
      if text == '' then empty[#empty + 1] = field end
      loose[string.sub(field, 3)] = #field + #text
    end
  end
  for i = 9, last_value_set, 2 do loose[string.sub(ARGV[i], 3)] = #ARGV[i] + #ARGV[i + 1] end
  for i = last_set + 1, last_value_removed do loose[string.sub(ARGV[i], 3)] = 0 end
  local parts, size = {}, 0
  local function keep(name, text)
    if loose[name] == nil then
      parts[#parts + 1] = entry(name, text)
      size = size + 2 + #name + #text
    end
  end
  if not each_packed(pack, keep) then return nil end
  for name, len in pairs(loose) do
    -- An empty field counts nothing: its length is its name's and the prefix's.
    if len > #name + 2 then size = size + len end
  end
  if size > limit then return size end
  for i = 1, #empty, 1000 do
    redis.call('HDEL', key, unpack(empty, i, math.min(i + 999, #empty)))
  end
  if #parts > 0 then
    redis.call('HSET', key, 'pack', table.concat(parts))
  else
    redis.call('HDEL', key, 'pack')
  end
  return size
end
";

/// `delete`: removes the key and its index entry, answering whether it held a live session.
///
/// `ARGV`: now.
const DELETE: &str = r"
local key, now = KEYS[1], tonumber(ARGV[1])
local was_live, subject = state(key, now)
redis.call('UNLINK', key)
--UNINDEX--
--DELETED--
";

/// `list_subject`: the live sessions a subject's index names, pruning the others.
///
/// `KEYS`: the index (the prefix, `subject:` and the subject's digest). `ARGV`: now. Entries
/// scored over a minute ago go at once; then each remaining entry's hash is read, and
/// entries whose hash is gone, dead, or names another subject go too. Answers, per live entry, its
/// session's hex digest and the `binding`, `created`, `last_active` and `expires` texts.
const LIST: &str = r"
local index, now = KEYS[1], tonumber(ARGV[1])
local prefix, subject = string.sub(index, 1, -73), string.sub(index, -64)
local pruned = prune(index, now)
local listed = {}
for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local f = redis.pcall('HMGET', prefix .. member, 'subject_key', 'binding', 'created',
    'last_active', 'expires')
  local expires = nil
  if not f.err and f[5] then expires = tonumber(f[5]) end
  if f.err or f[1] ~= subject or expires == nil or expires <= now then
    pruned = pruned + redis.call('ZREM', index, member)
  else
    listed[#listed + 1] = {member, f[2] or '', f[3] or '', f[4] or '', f[5]}
  end
end
-- An index emptied is gone; one that lost entries gets its remaining ones' TTL.
if pruned > 0 and #listed > 0 then index_ttl(index, now) end
return listed
";

/// Where a store keeps its subject indexes, which decides how the session scripts end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    /// One server: the session scripts keep the index too, and answer 1 or 0.
    Single,
    /// A Redis Cluster: the index lies in another slot, so the session scripts leave it alone and
    /// answer the subject the hash was bound to (`{1, subject}`, `''` for none), for the caller to
    /// keep the index with calls of its own; `apply` answers it only when the index must change
    /// (the record ended, or its expiry moved to another minute). "Not done" is `0` in both.
    Cluster,
}

/// The session scripts, hashed once.
///
/// Commands built with [`command::evalsha`](crate::command::evalsha) send the hash; a server
/// that does not know a script (after a restart, say) gets it loaded.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) write: Script,
    pub(crate) apply: Script,
    pub(crate) delete: Script,
    pub(crate) list: Script,
}

impl Scripts {
    /// The scripts of `variant`: one body each, its hooks filled in (see [`fill`]).
    pub(crate) fn new(variant: Variant, pack_values: bool) -> Self {
        let prelude = format!("{STATE}{NUMBERS}{INDEX}{FIELDS}");
        let apply = apply_body(pack_values);
        Scripts {
            write: Script::new(&fill(variant, &format!("{prelude}{WRITE}"))),
            apply: Script::new(&fill(variant, &apply)),
            delete: Script::new(&fill(variant, &format!("{prelude}{DELETE}"))),
            list: Script::new(&format!("{prelude}{LIST}")),
        }
    }

    /// All four, for loading them into a server ahead of use.
    pub(crate) fn all(&self) -> [&Script; 4] {
        [&self.write, &self.apply, &self.delete, &self.list]
    }
}

/// The `apply` script of a store with the client-side cache, run on its tracking connection
/// (one server): [`APPLY`] reading the key again once it has written it.
///
/// The tracking connection has `NOLOOP` on, so its own writes send it no invalidation; but Redis
/// then forgets every connection's tracking of the key, its own included, and a later write by
/// another process would not be announced. A read after the write (`EXISTS`, inside the script,
/// tracked for the calling connection) tracks the key again, so the entry the cache keeps for
/// it, updated with the same changes, is invalidated like any other.
pub(crate) fn tracked_apply(pack_values: bool) -> Script {
    let body =
        apply_body(pack_values).replace("--APPLIED--", "redis.call('EXISTS', key)\n--APPLIED--");
    Script::new(&fill(Variant::Single, &body))
}

/// [`APPLY`] with its packing, which is the same for every variant; with `pack_values` off,
/// nothing is packed (`PACK_MAX` is -1), and packs are still read and pruned.
fn apply_body(pack_values: bool) -> String {
    let pack_max = if pack_values {
        i64::try_from(layout::PACK_MAX).unwrap_or(i64::MAX)
    } else {
        -1
    };
    let packing = format!(
        "local PACK_FIELDS = {}\nlocal PACK_MAX = {pack_max}\n{PACKING}",
        layout::PACK_FIELDS,
    );
    APPLY.replace("--PACKING--", &packing)
}

/// `body` with its hooks (`--NAME--` lines) filled in for `variant`: how a script keeps the
/// subject index (or leaves it to the caller) and what it answers.
fn fill(variant: Variant, body: &str) -> String {
    let index = format!("{NUMBERS}{INDEX}");
    let single = [
        ("--NOT_DONE--", "return 0".to_owned()),
        ("--WRITE_INDEX--", WRITE_INDEX.to_owned()),
        ("--WRITTEN--", "return 1".to_owned()),
        (
            "--UNINDEX--",
            format!("if subject then\n{index}\nunindex(index_of(key, subject), key, now)\nend"),
        ),
        ("--ENDED--", "return 1".to_owned()),
        (
            "--REINDEX--",
            format!(
                "if subject then\n{index}\nreindex(index_of(key, subject), key, now + ttl, now)\nend"
            ),
        ),
        ("--APPLIED--", "return 1".to_owned()),
        (
            "--DELETED--",
            "if was_live then return 1 end\nreturn 0".to_owned(),
        ),
        ("--FIELDS--", FIELDS.to_owned()),
    ];
    let cluster = [
        ("--NOT_DONE--", "return 0".to_owned()),
        ("--WRITE_INDEX--", String::new()),
        ("--WRITTEN--", "return {1, subject or ''}".to_owned()),
        ("--UNINDEX--", String::new()),
        ("--ENDED--", "return {1, subject or ''}".to_owned()),
        ("--REINDEX--", String::new()),
        (
            "--APPLIED--",
            "if moved and subject then return {1, subject} end\nreturn {1, ''}".to_owned(),
        ),
        (
            "--DELETED--",
            "if was_live then return {1, subject or ''} end\nreturn {0, subject or ''}".to_owned(),
        ),
        ("--FIELDS--", FIELDS.to_owned()),
    ];
    let hooks = match variant {
        Variant::Single => single,
        Variant::Cluster => cluster,
    };
    hooks.iter().fold(body.to_owned(), |body, (hook, text)| {
        body.replace(hook, text)
    })
}

/// The grid, in milliseconds, of the deadlines the scripts give TTLs and index scores (their
/// `GRID`): the first multiple of it after an expiry.
pub(crate) const DEADLINE_GRID_MS: u64 = 60_000;

/// The deadline of an expiry at `expires_ms`, as the scripts compute it.
pub(crate) fn deadline_ms(expires_ms: u64) -> u64 {
    (expires_ms / DEADLINE_GRID_MS)
        .saturating_add(1)
        .saturating_mul(DEADLINE_GRID_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_is_filled_and_the_grids_agree() {
        for variant in [Variant::Single, Variant::Cluster] {
            for body in [
                WRITE,
                &apply_body(true),
                &apply_body(false),
                DELETE,
                WRITE_INDEX,
            ] {
                let filled = fill(variant, body);
                let hook = filled
                    .match_indices("--")
                    .find(|(at, _)| filled[at + 2..].starts_with(|c: char| c.is_ascii_uppercase()));
                assert_eq!(hook, None, "{variant:?}: a hook left in\n{filled}");
            }
        }
        assert!(NUMBERS.contains(&format!("local GRID = {DEADLINE_GRID_MS}")));
        assert!(APPLY.contains(&format!("local GRID = {DEADLINE_GRID_MS}")));
        assert_eq!(deadline_ms(0), 60_000);
        assert_eq!(deadline_ms(59_999), 60_000);
        assert_eq!(deadline_ms(60_000), 120_000);
    }
}
