/*
 * The Lua scripts of the Redis rate limiter (RedisRateLimiter). Each runs atomically in Redis and touches the
 * keys of one API only (one hash slot: `{api}` in every key), as a Redis Cluster would require.
 */

/**
 * The opening of both scripts: `now`, Redis's clock in ms, and `epoch`, the epoch key (KEYS[3]) as it was
 * (`known`, false when Redis had none) or, when Redis had none, set to `ARGV[epochArg]`.
 */
const clockAndEpoch = (epochArg: number) => `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = redis.call('GET', KEYS[3])
local epoch = known or ARGV[${epochArg}]
if not known then redis.call('SET', KEYS[3], epoch) end`;

/**
 * The sliding-window log of one API in Redis, checked and updated atomically. Redis's own clock is the only
 * clock, so replicas with skewed clocks still share one window.
 *
 * KEYS: the log (a sorted set of call times), the pause key (set from a 429's Retry-After), the epoch key
 * (set once per Redis lifetime: a new value means Redis lost the log, as after a restart without persistence).
 * ARGV: mode (`acquire`: add a call only if every window has room and no pause holds; `peek`: only look;
 * `record`: add a call whatever the windows say), a unique member, the longest window (ms), an epoch to set
 * when there is none, then `limit, windowMs` per window.
 * Returns: admitted (0/1), the ms until a call fits (0 when it fits now), the epoch, then per window the calls
 * in it (after the admission) and the ms until its oldest call slides out (-1 when empty).
 */
export const WINDOW_SCRIPT = `${clockAndEpoch(4)}
local mode = ARGV[1]
local longest = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local wait = 0
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then wait = pause end
local n = (#ARGV - 4) / 2
local info = {}
for i = 1, n do
  local limit = tonumber(ARGV[3 + 2 * i])
  local win = tonumber(ARGV[4 + 2 * i])
  local from = '(' .. string.format('%d', now - win)
  local count = redis.call('ZCOUNT', KEYS[1], from, '+inf')
  local oldest = -1
  if count > 0 then
    local first = redis.call('ZRANGE', KEYS[1], from, '+inf', 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
    oldest = tonumber(first[2]) + win - now
  end
  if count >= limit then
    local e = redis.call('ZRANGE', KEYS[1], from, '+inf', 'BYSCORE', 'LIMIT', count - limit, 1, 'WITHSCORES')
    local w = tonumber(e[2]) + win - now
    if w > wait then wait = w end
  end
  info[2 * i - 1] = count
  info[2 * i] = oldest
end
local admitted = 0
if (mode == 'acquire' and wait == 0) or mode == 'record' then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], longest + 1000)
  admitted = 1
  for i = 1, n do
    info[2 * i - 1] = info[2 * i - 1] + 1
    if info[2 * i] < 0 then info[2 * i] = tonumber(ARGV[4 + 2 * i]) end
  end
end
local out = { admitted, wait, epoch }
for i = 1, #info do out[#out + 1] = info[i] end
return out
`;

/**
 * Gives Redis back what this replica knows after Redis failed: its own calls (as ages in ms, so that no clock
 * but Redis's is used) and any Retry-After pause still running. When the epoch is still the one this replica
 * knew, Redis kept its log and only the calls made meanwhile in the local share are added; otherwise Redis
 * lost the log, and every call of this replica still in a window is.
 *
 * KEYS: the log, the pause key, the epoch key. ARGV: the known epoch ('' if none), an epoch to set when there
 * is none, a member prefix, the longest window (ms), the pause still to run (ms), how many of the ages that
 * follow are of calls Redis had already counted, then the ages. Returns the epoch.
 */
export const RESTORE_SCRIPT = `${clockAndEpoch(2)}
local lost = known ~= ARGV[1]
local first = 7
if not lost then first = 7 + tonumber(ARGV[6]) end
for i = first, #ARGV do
  redis.call('ZADD', KEYS[1], now - tonumber(ARGV[i]), ARGV[3] .. ':' .. i)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]))
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + 1000) end
local pause = tonumber(ARGV[5])
if pause > 0 and redis.call('PTTL', KEYS[2]) < pause then
  redis.call('SET', KEYS[2], '1', 'PX', pause)
end
return epoch
`;

/**
 * A call let go earlier is over: its member's time in the log becomes Redis's clock now (never earlier than it
 * was), and the log is kept at least one longest window from now. Nothing when the member has left the log.
 *
 * KEYS: the log. ARGV: the member, the longest window (ms). Returns 1 when the member was moved.
 */
export const SETTLE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not at or tonumber(at) >= now then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 1
`;

/** Extends the pause key to `ms` from now, never shortening a longer pause. */
export const PAUSE_SCRIPT = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
`;
