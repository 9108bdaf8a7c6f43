'use strict';
// A pass-through in front of the engine's socket, for a Drydock the bench starts with
// DOCKER_HOST=unix://<tap>: every request goes on to the engine unchanged, upgrades
// (`POST /session`'s h2c, attach's tcp) as raw bytes both ways. The response body of each
// `POST /build` is also read, as the bench reads the engine's own stream, and each of its
// output lines is handed to `onBuildLine(line, at)` the moment its bytes left the engine:
// the start of "from the engine's trace to a subscriber". The hop costs Drydock a little,
// so a latency measured from here is, if anything, too high.

const { mkdtempSync, rmSync } = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { engineTarget, nowMs } = require('./common');
const { buildStreamReader } = require('./buildkit-trace');

const BUILD = /^\/(?:v[\d.]+\/)?build(?:\?|$)/;

/** Resolves with `{ dockerHost, onBuildLine, close() }`; set `onBuildLine` to listen. */
async function startEngineTap() {
  const engine = engineTarget();
  const tcp = engine.socketPath ? null : new URL(engine.base);
  const upstream = tcp ? { host: tcp.hostname, port: Number(tcp.port) } : { socketPath: engine.socketPath };
  const raw = tcp ? upstream : { path: engine.socketPath };
  const dir = mkdtempSync(join(tmpdir(), 'drydock-bench-tap-'));
  const socketPath = join(dir, 'engine.sock');
  const tap = { dockerHost: `unix://${socketPath}`, onBuildLine: () => undefined, close };
  const sockets = new Set();

  const server = http.createServer((req, res) => {
    const forward = http.request({ ...upstream, agent: false, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.statusMessage, answer.headers);
      // A stream that says nothing for a while (`GET /events`) still answers at once.
      res.flushHeaders();
      if (!(req.method === 'POST' && BUILD.test(req.url))) {
        answer.pipe(res);
      } else {
        // The time first, then the bytes on to Drydock, then the decoding: the tap's own
        // work is not counted against Drydock, and its hop is.
        let at = 0;
        const reader = buildStreamReader((line) => tap.onBuildLine(line, at));
        answer.setEncoding('utf8');
        answer.on('data', () => (at = nowMs()));
        answer.pipe(res);
        answer.on('data', (piece) => reader.write(piece, at));
        answer.on('end', () => reader.end(nowMs()));
      }
      answer.on('error', () => res.destroy());
    });
    forward.on('error', () => res.destroy());
    // Drydock cancelling or giving up: the engine hears of it as it would directly.
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  server.on('upgrade', (req, socket, head) => {
    const onward = net.connect(raw);
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    onward.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) onward.write(head);
    onward.pipe(socket).pipe(onward);
    onward.on('error', () => socket.destroy());
    socket.on('error', () => onward.destroy());
    onward.on('close', () => socket.destroy());
    socket.on('close', () => onward.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(socketPath, done);
  });

  function close() {
    for (const socket of sockets) socket.destroy();
    return new Promise((done) => server.close(() => done())).finally(() => rmSync(dir, { recursive: true, force: true }));
  }
  return tap;
}

module.exports = { startEngineTap };
