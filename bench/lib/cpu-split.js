'use strict';
// Where a build's CPU goes, process by process, read from /proc around each build: the
// engine (dockerd and containerd, with what they reaped: runc and the steps' own work),
// Drydock, the Redis behind REDIS_URL, and the bench's children (`tar | curl`, the docker
// CLI), which Node reaps so their time lands in the bench's own cutime/cstime. On 2 cores
// a build that keeps both busy takes about its CPU / 2 in wall time, so a side's extra CPU
// is, to a first approximation, its extra wall time.

const { readFileSync, readdirSync } = require('node:fs');
const { REDIS_URL } = require('./common');

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/** utime + stime of a process in ms, or with `children` + cutime + cstime (what it reaped), or only that. */
function cpuMsOf(pid, { self = true, children = false } = {}) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
  return ((self ? f[11] + f[12] : 0) + (children ? f[13] + f[14] : 0)) * (1000 / CLOCK_TICKS);
}

/** As cpuMsOf, 0 for a process gone meanwhile. */
function cpuMsOrZero(pid, options) {
  try {
    return cpuMsOf(pid, options);
  } catch {
    return 0;
  }
}

/** Every process as `{ pid, name, cmdline }`: `comm`, and the command line as one string (Redis rewrites its own). */
function processes() {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        const read = (file) => readFileSync(`/proc/${pid}/${file}`, 'utf8');
        return { pid: Number(pid), name: read('comm').trim(), cmdline: read('cmdline').replaceAll('\0', ' ') };
      } catch {
        return null;
      }
    })
    .filter(Boolean);
}

/** A probe for one Drydock process: `take()` a snapshot before a build, `since(snapshot)` after it. */
function cpuSplit(drydockPid) {
  const redisPort = new URL(REDIS_URL).port || '6379';
  const all = processes();
  const named = (name) => all.filter((p) => p.name === name);
  const engine = [...named('dockerd'), ...named('containerd')].map((p) => p.pid);
  const redis = named('redis-server')
    .filter((p) => new RegExp(`:${redisPort}(\\s|$)`).test(p.cmdline))
    .map((p) => p.pid);
  const take = () => ({
    engine: engine.reduce((sum, pid) => sum + cpuMsOrZero(pid, { children: true }), 0),
    drydock: cpuMsOrZero(drydockPid),
    redis: redis.reduce((sum, pid) => sum + cpuMsOrZero(pid), 0),
    clients: cpuMsOf(process.pid, { self: false, children: true }),
  });
  return {
    take,
    since(before) {
      const now = take();
      return Object.fromEntries(Object.keys(now).map((key) => [key, now[key] - before[key]]));
    },
  };
}

module.exports = { cpuSplit, cpuMsOf };
