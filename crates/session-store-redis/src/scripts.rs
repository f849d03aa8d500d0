//! The Lua scripts that make every write one atomic step on the server.
//!
//! Each script takes the session's hash as `KEYS[1]` and the store's clock as `ARGV[1]` (`now`,
//! milliseconds since the epoch), and first asks whether the hash holds a live session: a hash
//! whose `expires` field is a number greater than `now`. A key that is missing, not a hash,
//! lacking `expires`, or expired by the store's clock holds no live session, whatever Redis's own
//! TTL says. Every script answers 1 or 0; Redis runs each one without interleaving any other
//! command, so a check and the writes that follow it cannot be split by a concurrent request.
//!
//! The TTL (`PEXPIRE`, milliseconds) is computed by the caller from the same clock and passed in
//! as text; `0` means the record is already dead and is not written (or is removed).
//!
//! The record size limit: `create` and `save` write a whole record, so the caller checks its
//! size and passes the `size` field with the others. `apply` sees only the fields it changes: it
//! keeps the `size` field (the byte lengths of the value fields' names and texts, summed) up to
//! date, from the lengths of the value fields it sets and the old lengths (`HSTRLEN`) of those it
//! replaces or removes, and writes nothing if the result passes the limit. A change of metadata
//! alone (a touch) leaves the size as it is, and reads or writes no `size`.

use redis::Script;

/// Helpers shared by every script.
const PRELUDE: &str = r"
local function live(key, now)
  -- One call: a missing field or key answers false, a key that is not a hash an error table.
  local field = redis.pcall('HGET', key, 'expires')
  if type(field) ~= 'string' then return false end
  local expires = tonumber(field)
  return expires ~= nil and expires > now
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

/// `create` (insert-if-absent) and `save` (replace-if-present) in one script.
///
/// `ARGV`: now, ttl, mode (`create` or `save`), then the record's field/value pairs. The old hash
/// (dead, damaged or replaced) is removed first, so no field of it survives.
const WRITE: &str = r"
local key, now, ttl, mode = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3]
local is_live = live(key, now)
if mode == 'create' then
  if is_live then return 0 end
elseif not is_live then
  return 0
end
redis.call('UNLINK', key)
if tonumber(ttl) > 0 then
  hset_args(key, 4, #ARGV)
  redis.call('PEXPIRE', key, ttl)
end
return 1
";

/// `apply` and `touch`: key-level changes to a live record, within the size limit.
///
/// `ARGV`: now, ttl, the limit, clear (`1` or `0`), the number of field/value pairs to set (n),
/// how many of them set values (k, the first ones), how many of the fields to remove are values
/// (m, the first ones), the 2n arguments of the pairs, then the fields to remove. With clear,
/// every value field (`v:`) goes first. Answers `{2, size}`, writing nothing, when the values
/// would take `size` bytes, over the limit; a change of metadata alone (a touch) neither reads
/// nor writes the size.
const APPLY: &str = r"
-- The bytes the value field `field` holds in the hash (its name and text), 0 if it is not there.
local function stored(key, field)
  local len = redis.call('HSTRLEN', key, field)
  if len == 0 then return 0 end
  return #field + len
end

local key, now, ttl, limit = KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
if not live(key, now) then return 0 end
if tonumber(ttl) <= 0 then
  redis.call('UNLINK', key)
  return 1
end
local last_set = 7 + 2 * tonumber(ARGV[5])
local last_value_set = 7 + 2 * tonumber(ARGV[6])
local last_value_removed = last_set + tonumber(ARGV[7])
-- The values' size after the changes, when they change it.
local size, cleared = nil, nil
if ARGV[4] == '1' then
  size, cleared = 0, {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'v:' then cleared[#cleared + 1] = field end
  end
elseif last_value_set > 7 or last_value_removed > last_set then
  -- Digits only: Lua's tonumber would also take '-5', 'nan' or '0x10', and turn the check off.
  local kept = redis.call('HGET', key, 'size')
  size = kept and string.match(kept, '^%d+$') and tonumber(kept)
  if not size then
    -- Written without the field (or with a damaged one): measured once.
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
return 1
";

/// `delete`: removes the key, answering whether it held a live session.
///
/// `ARGV`: now.
const DELETE: &str = r"
local was_live = live(KEYS[1], tonumber(ARGV[1]))
redis.call('UNLINK', KEYS[1])
if was_live then return 1 end
return 0
";

/// The three scripts, hashed once.
///
/// `EVALSHA` sends the hash; the redis crate falls back to loading the script when the server does
/// not know it (after a restart, say).
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) write: Script,
    pub(crate) apply: Script,
    pub(crate) delete: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let with_prelude = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Scripts {
            write: with_prelude(WRITE),
            apply: with_prelude(APPLY),
            delete: with_prelude(DELETE),
        }
    }

    /// All three, for loading them into a server ahead of use.
    pub(crate) fn all(&self) -> [&Script; 3] {
        [&self.write, &self.apply, &self.delete]
    }
}
