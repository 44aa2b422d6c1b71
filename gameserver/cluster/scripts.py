"""The Lua scripts: each check-and-write of cluster mode runs in Redis as one script.

Redis runs a script to its end before it serves any other command, so a check (is this
node's lease alive? is it still the room's owner at this epoch?) and the write that
depends on it cannot be separated by another node's write. With ``appendfsync always``
the script's writes are on disk before its reply leaves Redis.

Every script answers a table whose first item says what happened (``ok`` or why not)
and never raises for an expected refusal, so callers tell refusals from failures.
Keys follow ``keys.py``; a claim builds the *old* owner's keys from the prefix (a
standalone Redis runs that; Redis Cluster would not, see ``keys.py``).
"""

from __future__ import annotations

from .redis_api import Script

#: KEYS: node lease, nodes set. ARGV: token, lease ms, node id.
#: -> {"ok"} or {"in_use", ms the other process's lease still runs}
REGISTER = Script(
    "register",
    """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SADD', KEYS[2], ARGV[3])
  return {'ok'}
end
return {'in_use', redis.call('PTTL', KEYS[1])}
""",
)

#: KEYS: node lease. ARGV: token, lease ms.
#: -> {"ok"} (the lease runs ``lease ms`` from now) or {"lost"} (expired or taken over)
HEARTBEAT = Script(
    "heartbeat",
    """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'ok'}
end
return {'lost'}
""",
)

#: KEYS: room, claimer's lease, claimer's rooms set. ARGV: node id, token, room id, prefix.
#: -> {"ok", epoch, 1 if newly claimed else 0} | {"held", owner, epoch} | {"lost"}
CLAIM = Script(
    "claim",
    """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'lost'} end
local room = redis.call('HMGET', KEYS[1], 'owner', 'token', 'epoch')
local owner, token, epoch = room[1], room[2], tonumber(room[3] or '0')
if owner then
  if owner == ARGV[1] and token == ARGV[2] then return {'ok', epoch, 0} end
  local lease = ARGV[4] .. ':node:' .. owner
  if redis.call('GET', lease) == token then return {'held', owner, epoch} end
  redis.call('SREM', lease .. ':rooms', ARGV[3])
end
epoch = epoch + 1
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2], 'epoch', epoch)
redis.call('SADD', KEYS[3], ARGV[3])
return {'ok', epoch, 1}
""",
)

#: KEYS: room, owner's rooms set. ARGV: node id, epoch, room id.
#: -> {"ok"} or {"stale", current owner or "", current epoch}
RELEASE = Script(
    "release",
    """
local room = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if room[1] ~= ARGV[1] or room[2] ~= ARGV[2] then
  return {'stale', room[1] or '', tonumber(room[2] or '0')}
end
redis.call('HDEL', KEYS[1], 'owner', 'token')
redis.call('SREM', KEYS[2], ARGV[3])
return {'ok'}
""",
)

#: The fenced append. KEYS: room, appender's lease, stream. ARGV: node id, epoch,
#: position of the first record, then one msgpack payload per record. A header (at
#: position 1) also sets the room's ``log`` to the stream: its current match.
#: -> {"ok", length, 1 if they were already there else 0}
#:  | {"stale", owner or "", epoch} | {"lost"} | {"conflict", length}
#: A retry of an append whose reply was lost finds its own records and answers ok.
APPEND = Script(
    "append",
    """
local room = redis.call('HMGET', KEYS[1], 'owner', 'token', 'epoch')
if room[1] ~= ARGV[1] or room[3] ~= ARGV[2] then
  return {'stale', room[1] or '', tonumber(room[3] or '0')}
end
if redis.call('GET', KEYS[2]) ~= room[2] then return {'lost'} end
local first = tonumber(ARGV[3])
local count = #ARGV - 3
local length = redis.call('XLEN', KEYS[3])
if length >= first then
  if length < first + count - 1 then return {'conflict', length} end
  local entries = redis.call('XRANGE', KEYS[3], '0-' .. first, '0-' .. (first + count - 1))
  for i, entry in ipairs(entries) do
    if entry[2][1] ~= 'r' or entry[2][2] ~= ARGV[3 + i] then return {'conflict', length} end
  end
  return {'ok', length, 1}
end
if length + 1 ~= first then return {'conflict', length} end
if first == 1 then redis.call('HSET', KEYS[1], 'log', KEYS[3]) end
for i = 1, count do
  redis.call('XADD', KEYS[3], '0-' .. (first + i - 1), 'r', ARGV[3 + i])
end
return {'ok', first + count - 1, 0}
""",
)

#: KEYS: nodes set. ARGV: prefix. -> every room whose owner's lease is gone, or is held
#: by a newer process under the same node id (a restart). Drops from the nodes set the
#: nodes that are gone and own nothing. Reads every owned room: O(rooms) in Redis.
ORPHANS = Script(
    "orphans",
    """
local rooms = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lease = ARGV[1] .. ':node:' .. node
  local token = redis.call('GET', lease)
  local owned = redis.call('SMEMBERS', lease .. ':rooms')
  if not token and #owned == 0 then redis.call('SREM', KEYS[1], node) end
  for _, room in ipairs(owned) do
    if redis.call('HGET', ARGV[1] .. ':room:' .. room, 'token') ~= token then
      table.insert(rooms, room)
    end
  end
end
return rooms
""",
)

#: KEYS: room. -> {owner or "", epoch, key of the room's latest match log or ""}
ROOM = Script(
    "room",
    """
local room = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'log')
return {room[1] or '', tonumber(room[2] or '0'), room[3] or ''}
""",
)

#: KEYS: secret. ARGV: a new random secret. -> the cluster's secret (the first one set).
SECRET = Script(
    "secret",
    """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1])}
""",
)

#: KEYS: lobby hash. ARGV: room id, then the entry (or nothing: remove the room).
#: -> {"ok"}
LOBBY = Script(
    "lobby",
    """
if #ARGV > 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else redis.call('HDEL', KEYS[1], ARGV[1]) end
return {'ok'}
""",
)

#: KEYS: lobby hash. ARGV: prefix. Removes the rooms listed by node processes whose
#: lease is gone (expired, or taken by a later process under the same node id) and that
#: no node owns (never claimed: no match started). A claimed one stays listed until
#: its new owner lists it again or releases it.
#: -> the number of rooms removed
LOBBY_PRUNE = Script(
    "lobby_prune",
    """
local entries = redis.call('HGETALL', KEYS[1])
local removed = 0
for i = 1, #entries, 2 do
  local node, token = string.match(entries[i + 1], '^(%S+) (%S+) ')
  local owned = redis.call('HGET', ARGV[1] .. ':room:' .. entries[i], 'owner')
  if not owned and redis.call('GET', ARGV[1] .. ':node:' .. node) ~= token then
    redis.call('HDEL', KEYS[1], entries[i])
    removed = removed + 1
  end
end
return removed
""",
)

#: KEYS: a node's bus stream, the hash of the last batch seen from each sender. ARGV:
#: how many messages the stream keeps, the sender, the batch's number (1, 2, ... per
#: sender), then the messages. A batch already added (a retry whose first reply was
#: lost) is not added again. -> {"ok", 1 if it was already there else 0}
BUS_SEND = Script(
    "bus_send",
    """
if tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') >= tonumber(ARGV[3]) then
  return {'ok', 1}
end
for i = 4, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[i])
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return {'ok', 0}
""",
)

#: KEYS: a node's bus stream. -> the id of its newest message ("0-0" when none).
BUS_LAST_ID = Script(
    "bus_last_id",
    """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return '0-0' end
return last[1][1]
""",
)

#: KEYS: lobby hash. -> every entry, flat: room id, entry, room id, entry, ...
LOBBY_READ = Script("lobby_read", "return redis.call('HGETALL', KEYS[1])")

#: KEYS: nodes set. ARGV: prefix. -> the ids of the nodes whose lease is alive.
LIVE_NODES = Script(
    "live_nodes",
    """
local live = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. ':node:' .. node) == 1 then table.insert(live, node) end
end
return live
""",
)

#: KEYS: invites hash. ARGV: invite code, then the entry (or nothing: remove the code).
#: -> {"ok"} or {"taken"} when another room already has the code
INVITE = Script(
    "invite",
    """
if #ARGV > 1 then
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return {'taken'} end
else redis.call('HDEL', KEYS[1], ARGV[1]) end
return {'ok'}
""",
)
