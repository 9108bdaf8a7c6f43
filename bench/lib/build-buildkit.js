'use strict';
// bench/build's BuildKit part: Drydock (builder=buildkit) against `DOCKER_BUILDKIT=1 docker
// build` (the 20.10 CLI, its own session and file sync) on the same directories, at three
// context sizes, with the Engine API called directly (`/build?version=2`, the tar as body, no
// session) as the floor. Pairs alternate which side goes first; every build is --no-cache, and
// before each one the context's data files get new bytes and new times, so neither BuildKit's
// build cache nor its per-directory file-sync cache can skip the transfer.

const { execFileSync, spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeSync,
  writeFileSync,
} = require('node:fs');
const { cpus, loadavg, tmpdir } = require('node:os');
const { join } = require('node:path');
const { docker, fixed } = require('./common');
const { cliBuild, drydockBuild } = require('./build-sides');
const { cpuSplit } = require('./cpu-split');
const {
  FIXTURE,
  MIB,
  engineBuild,
  idleRss,
  median,
  mib,
  nowMs,
  packDir,
  postBuildCurl,
  sampleRss,
} = require('./drydock-jobs');

const BIG_TIMEOUT_MS = 900_000;
// What sends Drydock the context: `tar --sort=name | curl -T -` as the README's example does (the engine
// floor gets the same tar from this process), or `js`, tar-stream in this process (as a Node client would).
const PACKER = (process.env.BENCH_BK_PACKER || 'tar').toLowerCase();
if (PACKER !== 'tar' && PACKER !== 'js') throw new Error(`BENCH_BK_PACKER: ${PACKER} (tar, js)`);

function packContext(dir) {
  if (PACKER === 'js') return packDir(dir);
  const tar = spawn('tar', ['-C', dir, '--sort=name', '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  tar.on('exit', (code) => {
    if (code) tar.stdout.destroy(new Error(`tar exited ${code}`));
  });
  return tar.stdout;
}
const SIZES = (process.env.BENCH_BK_SIZES || 'small,100mb,1gib')
  .split(',')
  .map((s) => s.trim().toLowerCase());
const MID_MB = Number(process.env.BENCH_BK_MID_MB || 100);
// The floor costs a third build per round: on by default where it is cheap, not at 1 GiB.
const FLOOR_BIG = process.env.BENCH_BK_FLOOR_BIG === '1';

function writeRandomFile(path, bytes) {
  const fd = openSync(path, 'w');
  try {
    for (let left = bytes; left > 0; left -= MIB)
      writeSync(fd, randomBytes(Math.min(MIB, left)));
  } finally {
    closeSync(fd);
  }
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/**
 * New head bytes in every data file and a new mtime on every file: nothing can be reused.
 * Then `sync`, untimed: each build starts with no dirty pages left by the one before (at
 * 1 GiB a few builds' worth pile up past the kernel's background threshold, and the build
 * that happens to run when writeback starts pays for its predecessors, whichever side).
 */
function freshen(dir) {
  const when = new Date();
  for (const path of filesUnder(dir)) {
    if (path.endsWith('.bin')) {
      const fd = openSync(path, 'r+');
      try {
        writeSync(fd, randomBytes(4096), 0, 4096, 0);
      } finally {
        closeSync(fd);
      }
    }
    utimesSync(path, when, when);
  }
  execFileSync('sync');
}

/** The three contexts: the seed-like build with a few KB or MID_MB of assets, and 1 GiB COPY'd whole. */
function makeContext(size, seedDockerfile, bigBytes) {
  const dir = mkdtempSync(join(tmpdir(), `drydock-bench-bk-${size}-`));
  if (size === '1gib') {
    // COPY . : BuildKit's file sync sends only what the Dockerfile uses, so all of it is used.
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM ${FIXTURE}\nCOPY . /ctx/\nRUN ls -l /ctx && du -sk /ctx\n`,
    );
    writeRandomFile(join(dir, 'big.bin'), bigBytes);
    return {
      dir,
      label: `${mib(bigBytes)} MiB (one random file, COPY . /ctx/, one RUN)`,
      target: 1.15,
      big: true,
    };
  }
  writeFileSync(join(dir, 'Dockerfile'), seedDockerfile);
  writeFileSync(join(dir, 'app.sh'), '#!/bin/sh\necho "bench app 1.0"\n', {
    mode: 0o755,
  });
  mkdirSync(join(dir, 'assets'));
  const each = size === 'small' ? 512 : Math.round((MID_MB * MIB) / 8);
  for (let i = 1; i <= 8; i++)
    writeRandomFile(join(dir, 'assets', `asset-${i}.bin`), each);
  const label =
    size === 'small'
      ? `${fixed((8 * each + seedDockerfile.length + 40) / 1024, 1)} KiB (seed-like Dockerfile, 8 assets)`
      : `${MID_MB} MiB (seed-like Dockerfile, 8 random assets)`;
  return { dir, label, target: 1.05, big: false };
}

function removeImage(tag) {
  try {
    docker(['rmi', tag]);
  } catch {
    // Not built: the run failed before it.
  }
}

/** When the CLI's plain progress said its context transfer (`[internal] load build context`) was DONE. */
function contextWatch() {
  let pending = '';
  let vertex = null;
  let doneAt = NaN;
  return {
    feed(text, at) {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const named = /^#(\d+) \[internal\] load build context/.exec(line);
        if (named) vertex = named[1];
        if (
          vertex &&
          Number.isNaN(doneAt) &&
          line.startsWith(`#${vertex} DONE`)
        )
          doneAt = at;
      }
    },
    doneAt: () => doneAt,
  };
}

function sidesFor(drydock, context, { repository, runId }, record) {
  const timeoutMs = context.big ? BIG_TIMEOUT_MS : 300_000;
  const tagOf = (side, label) => `${repository}:${runId}-bk-${side}-${label}`;
  const probe = cpuSplit(drydock.pid);
  // From after freshen's `sync` (its writeback is nobody's build) to the build's end, before the image is removed.
  const cpuOf = (side, label, before) => {
    if (label !== 'warmup') record.cpu[side].push(probe.since(before));
  };
  const sides = {
    drydock: async (label) => {
      const tag = tagOf('drydock', label);
      freshen(context.dir);
      const cpu = probe.take();
      const sampler = context.big ? sampleRss(drydock.pid, 50) : null;
      try {
        const run = await drydockBuild(
          drydock,
          { t: tag, nocache: 'true', builder: 'buildkit', contextOrder: 'sorted' },
          PACKER === 'tar'
            ? (target, query, ms) => postBuildCurl(target, query, context.dir, { timeoutMs: ms })
            : packDir(context.dir),
          timeoutMs,
        );
        cpuOf('drydock', label, cpu);
        if (label !== 'warmup')
          record.phases.push({ ...run.phases, name: run.firstStepName });
        return run.ms;
      } finally {
        if (sampler)
          record.rssPeaks.push(Math.max(...sampler.stop().map((s) => s.rss)));
        removeImage(tag);
      }
    },
    cli: async (label) => {
      const tag = tagOf('cli', label);
      freshen(context.dir);
      const cpu = probe.take();
      try {
        const watch = contextWatch();
        const ms = await cliBuild(
          [
            '--no-cache',
            '--network',
            'none',
            '--progress',
            'plain',
            '-t',
            tag,
            context.dir,
          ],
          { buildkit: true, timeoutMs, onOutput: watch.feed },
        );
        cpuOf('cli', label, cpu);
        if (label !== 'warmup') record.cliContextDone.push(watch.doneAt());
        return ms;
      } finally {
        removeImage(tag);
      }
    },
    engine: async (label) => {
      const tag = tagOf('engine', label);
      freshen(context.dir);
      const cpu = probe.take();
      const started = nowMs();
      try {
        await engineBuild(
          packContext(context.dir),
          { t: tag, version: '2', nocache: '1', networkmode: 'none' },
          undefined,
          { timeoutMs },
        );
        const ms = nowMs() - started;
        cpuOf('engine', label, cpu);
        return ms;
      } finally {
        removeImage(tag);
      }
    },
  };
  if (context.big && !FLOOR_BIG) delete sides.engine;
  return sides;
}

const LABELS = {
  drydock: 'drydock (POST+SSE)',
  cli: 'docker build (CLI)',
  engine: 'engine API direct',
};
const busy = (load) =>
  load > cpus().length
    ? ` (load above ${cpus().length} cores: figures are noisy)`
    : '';

/** Each side's CPU per build, median ms by process, and their sum against the wall time. */
function printCpu(names, cpu, wall) {
  const parts = names.map((side) => {
    const runs = cpu[side];
    const keys = Object.keys(runs[0] ?? {});
    const byKey = keys.map((key) => `${key} ${fixed(median(runs.map((run) => run[key])), 0)}`);
    const sum = median(runs.map((run) => keys.reduce((total, key) => total + run[key], 0)));
    return `${side}: ${byKey.join(', ')}; sum ${fixed(sum, 0)} in ${fixed(wall[side], 0)} wall`;
  });
  console.log(`CPU per build (median ms; engine = dockerd and containerd with the steps they ran, clients = tar | curl or the docker CLI): ${parts.join(' | ')}`);
}

async function measureSize(drydock, size, options, warm) {
  const context = makeContext(size, options.seedDockerfile, options.bigBytes);
  const record = { phases: [], rssPeaks: [], cliContextDone: [], cpu: { drydock: [], cli: [], engine: [] } };
  try {
    const sides = sidesFor(drydock, context, options, record);
    const names = Object.keys(sides);
    console.log(
      `\n--- BuildKit, ${size}: ${context.label}; ${options.runs} rounds, order alternating${names.includes('engine') ? '' : ', no engine floor (BENCH_BK_FLOOR_BIG=1 adds it)'}`,
    );
    if (warm) {
      const ms = {};
      for (const side of names) ms[side] = await sides[side]('warmup');
      console.log(
        `warm-up (not counted): ${names.map((side) => `${side} ${fixed(ms[side], 0)} ms`).join(', ')}`,
      );
    }
    const idle = context.big ? await idleRss(drydock.pid) : NaN;
    const times = Object.fromEntries(names.map((side) => [side, []]));
    const loads = [];
    for (let round = 1; round <= options.runs; round++) {
      // Alternate who goes first (rotate when the floor is a third side).
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const side of order) times[side].push(await sides[side](round));
      loads.push(loadavg()[0]);
    }
    const med = Object.fromEntries(
      names.map((side) => [side, median(times[side])]),
    );
    const ratio = med.drydock / med.cli;
    const pairRatio = median(times.drydock.map((ms, i) => ms / times.cli[i]));
    const list = (values, digits = 0) =>
      values.map((v) => fixed(v, digits)).join(', ');
    console.log('                    median ms   runs (ms)');
    for (const side of names)
      console.log(
        `${LABELS[side].padEnd(18)}  ${fixed(med[side], 0).padStart(9)}   [${list(times[side])}]`,
      );
    console.log(
      `load (1-min) after each round: ${list(loads, 1)}${busy(Math.max(...loads))}`,
    );
    const phase = (key) => fixed(median(record.phases.map((p) => p[key])), 0);
    console.log(
      `drydock phases (median ms from the POST's start, by the server's event times): 202 answered ${phase('accepted')}, RUNNING ${phase('running')}, ` +
        `first step "${record.phases[0]?.name}" at ${phase('firstStep')}, done ${phase('firstStepDone')}, context loaded ${phase('contextDone')}, last step ${phase('lastStep')}, terminal ${fixed(med.drydock, 0)}; ` +
        `the CLI's "[internal] load build context" DONE at ${fixed(median(record.cliContextDone), 0)} ms (median from spawn)`,
    );
    printCpu(names, record.cpu, med);
    const met = ratio <= context.target;
    const floor = med.engine
      ? `; drydock / engine API ${fixed(med.drydock / med.engine, 3)}, cli / engine API ${fixed(med.cli / med.engine, 3)}`
      : '';
    console.log(
      `ratio drydock / cli: ${fixed(ratio, 3)} (median of pair ratios ${fixed(pairRatio, 3)}; target <= ${context.target}) [${met ? 'met' : 'MISSED'}]${floor}`,
    );
    const row = {
      size,
      drydock: med.drydock,
      cli: med.cli,
      engine: med.engine,
      ratio,
      target: context.target,
      met,
      load: median(loads),
    };
    if (context.big) {
      const over = Math.max(...record.rssPeaks) - idle;
      row.rssOver = over;
      row.rssMet = over < 150e6;
      console.log(
        `API process RSS (pid ${drydock.pid}, API and worker in one process): idle ${mib(idle)} MiB, peak per Drydock run ` +
          `[${record.rssPeaks.map((p) => mib(p)).join(', ')}] MiB; max peak - idle ${mib(over)} MiB (${fixed(over / 1e6, 1)} MB; target < 150 MB) [${row.rssMet ? 'met' : 'MISSED'}]`,
      );
    }
    return row;
  } finally {
    rmSync(context.dir, { recursive: true, force: true });
  }
}

/** Runs every size in BENCH_BK_SIZES; resolves with how many targets were missed. */
async function compareBuildkit(drydock, options) {
  console.log(
    `\n=== BuildKit: drydock builder=buildkit against DOCKER_BUILDKIT=1 ${require('./build-sides').DOCKER_CLI} build --network none, --no-cache both sides`,
  );
  console.log(
    PACKER === 'tar'
      ? 'drydock gets the context as `tar --sort=name -cf - . | curl -T -` sends it, with contextOrder=sorted; the engine floor the same tar from this process (BENCH_BK_PACKER=js: tar-stream in this process for both)'
      : 'drydock and the engine floor get the context from tar-stream in this process, drydock with contextOrder=sorted (BENCH_BK_PACKER=tar: tar | curl)',
  );
  const rows = [];
  for (const [i, size] of SIZES.entries()) {
    if (!['small', '100mb', '1gib'].includes(size))
      throw new Error(
        `BENCH_BK_SIZES: unknown size ${size} (small, 100mb, 1gib)`,
      );
    rows.push(await measureSize(drydock, size, options, i === 0));
  }
  console.log(
    '\nBuildKit summary        drydock ms   cli ms  engine ms   ratio  target    load',
  );
  for (const r of rows) {
    console.log(
      `${r.size.padEnd(22)} ${fixed(r.drydock, 0).padStart(10)} ${fixed(r.cli, 0).padStart(8)} ${(r.engine ? fixed(r.engine, 0) : '-').padStart(10)} ` +
        `${fixed(r.ratio, 3).padStart(7)}  <= ${r.target} ${(r.met ? 'met' : 'MISSED').padEnd(6)} ${fixed(r.load, 1)}` +
        (r.rssOver !== undefined
          ? `   RSS peak - idle ${fixed(r.rssOver / 1e6, 1)} MB [${r.rssMet ? 'met' : 'MISSED'}]`
          : ''),
    );
  }
  return rows.filter((r) => !r.met || r.rssMet === false).length;
}

module.exports = { compareBuildkit };
