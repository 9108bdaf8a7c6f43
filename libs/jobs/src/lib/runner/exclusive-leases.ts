import type { RedisClient } from '../redis-target';
import { LuaScript } from '../lua';
import type { JobRecordStore } from '../record-store';

/** A waiting list left by jobs that never came back (cancelled while parked) goes after this long untouched. */
const WAITERS_TTL_MS = 3_600_000;

const TERMINAL = `local function ended(raw)
  if not raw then return true end
  local state = cjson.decode(raw).state
  return state == 'SUCCEEDED' or state == 'FAILED' or state == 'CANCELLED'
end
`;

/**
 * Takes the lease for the job, or keeps it if the job holds it already (the
 * same job restarted after its worker died). A holder whose job has ended or
 * expired no longer holds it: a process that died in between never keeps a
 * key for longer than the job lives, and the lease's TTL bounds the rest.
 * Refused, the job joins the waiting list (once: the reply says whether it
 * was new there). KEYS: lease, waiting. ARGV: id, lease ms, record key prefix, now.
 * Replies {1} or {0, holder, joined}.
 */
const ACQUIRE = new LuaScript(`${TERMINAL}
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and not ended(redis.call('GET', ARGV[3] .. holder)) then
  local joined = redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ${WAITERS_TTL_MS})
  return {0, holder, joined}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1}
`);

/** Extends the lease while its job still holds it. KEYS: lease. ARGV: id, lease ms. */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/**
 * Gives the lease up (if the job still holds it) and answers the longest
 * waiting job whose record is still open, dropping the ended ones on the way.
 * KEYS: lease, waiting. ARGV: id, record key prefix.
 */
const RELEASE = new LuaScript(`${TERMINAL}
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if not ended(redis.call('GET', ARGV[2] .. id)) then return id end
  redis.call('ZREM', KEYS[2], id)
end
return false
`);

export type LeaseAttempt = { held: true } | { held: false; holder: string; firstRefusal: boolean };

/**
 * Keys only one job may work on at a time, across every worker process (a
 * push of one repository). A lease, not a lock for ever: it lapses `leaseMs`
 * after its last renewal, so a worker killed while holding one, or cut from
 * Redis, frees it. Jobs refused one wait in a list, so that the release can
 * wake the oldest at once instead of letting it poll.
 */
export class ExclusiveLeases {
  constructor(
    private readonly redis: RedisClient,
    private readonly records: JobRecordStore,
  ) {}

  async acquire(key: string, jobId: string, leaseMs: number): Promise<LeaseAttempt> {
    const reply = (await ACQUIRE.run(this.redis, this.keysOf(key), [jobId, leaseMs, this.records.keys.record(''), Date.now()])) as [
      number,
      string?,
      number?,
    ];
    if (Number(reply[0]) === 1) return { held: true };
    return { held: false, holder: String(reply[1]), firstRefusal: Number(reply[2]) === 1 };
  }

  /** False when the lease lapsed and someone else took it (or no one holds it). */
  async renew(key: string, jobId: string, leaseMs: number): Promise<boolean> {
    return Number(await RENEW.run(this.redis, [this.keysOf(key)[0]], [jobId, leaseMs])) === 1;
  }

  /** Gives the lease up; answers the job to wake next, if one waits. */
  async release(key: string, jobId: string): Promise<string | null> {
    const next = await RELEASE.run(this.redis, this.keysOf(key), [jobId, this.records.keys.record('')]);
    return typeof next === 'string' ? next : null;
  }

  /** Who holds the key now (null when free or lapsed). */
  holder(key: string): Promise<string | null> {
    return this.redis.get(this.keysOf(key)[0]);
  }

  private keysOf(key: string): [string, string] {
    const lease = this.records.keys.lease(key);
    return [lease, `${lease}:waiting`];
  }
}
