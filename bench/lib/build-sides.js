'use strict';
// The sides bench/build compares: `docker build` through the Debian CLI, and a build through
// Drydock (POST /v1/builds, then its events over SSE), each timed from start to end.

const { spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const { nowMs, postBuild, sseUntilTerminal } = require('./drydock-jobs');

// The Debian 20.10 CLI opens its own BuildKit session; /usr/local/bin's 28.x needs buildx.
const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const BUILD_TIMEOUT_MS = 300_000;

/**
 * `docker build` as a user runs it, with `DOCKER_BUILDKIT` 1 or 0; resolves with its wall time
 * in ms. The engine here has no bridge network, so callers pass `--network none`.
 * `onOutput(text, msSinceStart)` sees the output as it comes.
 */
function cliBuild(
  args,
  {
    buildkit = false,
    stdin = null,
    timeoutMs = BUILD_TIMEOUT_MS,
    onOutput = () => undefined,
  } = {},
) {
  return new Promise((done, fail) => {
    const started = nowMs();
    const child = spawn(DOCKER_CLI, ['build', ...args], {
      env: { ...process.env, DOCKER_BUILDKIT: buildkit ? '1' : '0' },
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (piece) => {
      onOutput(String(piece), nowMs() - started);
      output += piece;
      if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    if (stdin) {
      stdin.on('error', (error) => child.kill() && fail(error));
      child.stdin.on('error', () => undefined);
      stdin.pipe(child.stdin);
    }
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = nowMs() - started;
      if (code === 0) done(ms);
      else
        fail(
          new Error(
            `docker build ${args.join(' ')}: exit ${code ?? signal}\n${output.slice(-2000)}`,
          ),
        );
    });
  });
}

/**
 * A build through Drydock: POST the tar, follow SSE to the terminal event; ms from the POST's
 * start, with the phases on the way (202 answer as the client saw it; RUNNING state, first step
 * event, first step completed, context loaded, last step event by the server's event times). On BuildKit the first step is the engine
 * reading the context (`[internal] load remote build context`), so its completion says when
 * the engine had the whole tar.
 */
async function drydockBuild(
  drydock,
  query,
  body,
  timeoutMs = BUILD_TIMEOUT_MS,
) {
  const started = nowMs();
  // Phases by the server's clock (the same machine): a build sent in walk order starts before the 202.
  const startedWall = Date.now();
  // A function posts the context itself (tar | curl); anything else is a stream to send.
  const posted = typeof body === 'function' ? await body(drydock, query, timeoutMs) : await postBuild(drydock, query, body, { timeoutMs });
  const serverMs = (iso) => (iso ? Date.parse(iso) - startedWall : NaN);
  let runningAt = NaN;
  let firstStepAt = NaN;
  let firstStepId = null;
  let firstDoneAt = NaN;
  let firstName = '';
  let lastStepAt = NaN;
  let contextDoneAt = NaN;
  const terminal = await sseUntilTerminal(drydock, posted.job.id, {
    timeoutMs,
    onEvent: (event) => {
      const at = serverMs(event.at);
      if (event.kind === 'STATE' && event.state === 'RUNNING') runningAt = at;
      if (!event.step) return;
      const id = event.step.id ?? event.step.index;
      if (Number.isNaN(firstStepAt)) {
        firstStepAt = at;
        firstStepId = id;
        firstName = event.step.name ?? event.step.instruction ?? '';
      }
      if (
        id === firstStepId &&
        event.step.completedAt &&
        Number.isNaN(firstDoneAt)
      )
        firstDoneAt = at;
      if (/load (remote )?build context/.test(event.step.name ?? '') && event.step.completedAt)
        contextDoneAt = serverMs(event.step.completedAt);
      lastStepAt = at;
    },
  });
  if (terminal.event.state !== 'SUCCEEDED') {
    throw new Error(
      `job ${posted.job.id} ended ${terminal.event.state}: ${JSON.stringify(terminal.event.error ?? terminal.event.message)}`,
    );
  }
  return {
    ms: terminal.at - started,
    phases: {
      accepted: posted.at - started,
      running: runningAt,
      firstStep: firstStepAt,
      firstStepDone: firstDoneAt,
      lastStep: lastStepAt,
      contextDone: contextDoneAt,
    },
    firstStepName: firstName,
    jobId: posted.job.id,
  };
}

module.exports = { BUILD_TIMEOUT_MS, DOCKER_CLI, cliBuild, drydockBuild };
