'use strict';
// The engine's BuildKit build stream (`POST /build?version=2`) read by a bench: each
// `{"id":"moby.buildkit.trace","aux":"<base64>"}` line is a protobuf StatusResponse.
// Only its logs are decoded. Names and field numbers are BuildKit's own
// (api/services/control/control.proto, Apache License 2.0; google/protobuf/timestamp.proto,
// BSD-3-Clause), the same as libs/docker/src/lib/buildkit/proto.ts, which a plain-JS bench
// cannot load.

const { StringDecoder } = require('node:string_decoder');
const { Root } = require('protobufjs');

const root = Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: {
              fields: {
                seconds: { type: 'int64', id: 1 },
                nanos: { type: 'int32', id: 2 },
              },
            },
          },
        },
      },
    },
    moby: {
      nested: {
        buildkit: {
          nested: {
            v1: {
              nested: {
                StatusResponse: {
                  fields: {
                    logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
                  },
                },
                VertexLog: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    timestamp: { type: 'google.protobuf.Timestamp', id: 2 },
                    stream: { type: 'int64', id: 3 },
                    msg: { type: 'bytes', id: 4 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});
const StatusResponse = root.lookupType('moby.buildkit.v1.StatusResponse');

/** The logs of one trace message: [{ vertex, stream (1 stdout, 2 stderr), msg: Buffer }]. */
function traceLogs(aux) {
  const status = StatusResponse.decode(Buffer.from(aux, 'base64'));
  return status.logs.map((log) => ({
    vertex: log.vertex,
    stream: Number(log.stream),
    msg: Buffer.from(log.msg),
  }));
}

/**
 * Whole output lines from a build's trace messages. BuildKit batches a step's output and
 * cuts it wherever a batch ended, mid-line and mid-character too, so each (vertex, stream)
 * keeps its own decoder and unterminated tail; `end()` returns the tails as lines.
 */
function traceLineReader() {
  const open = new Map();
  return {
    push(aux) {
      const lines = [];
      for (const log of traceLogs(aux)) {
        const key = `${log.vertex}\u0000${log.stream}`;
        let state = open.get(key);
        if (!state)
          open.set(
            key,
            (state = { decoder: new StringDecoder('utf8'), tail: '' }),
          );
        const parts = (state.tail + state.decoder.write(log.msg)).split('\n');
        state.tail = parts.pop();
        lines.push(...parts.map((line) => line.replace(/\r$/, '')));
      }
      return lines;
    },
    end() {
      const lines = [];
      for (const state of open.values()) {
        const rest = state.tail + state.decoder.end();
        if (rest) lines.push(rest.replace(/\r$/, ''));
      }
      open.clear();
      return lines;
    },
  };
}

/**
 * The lines of an engine build's response body, as they arrive: the classic builder's
 * `stream` messages (cut wherever the engine's reads of the container's output ended, so a
 * line is whole once its newline has come) and, unless `readTrace` is false, the output
 * inside BuildKit's trace messages. `write(piece, at)` hands each whole line to
 * `onLine(line, at)`; `end(at)` flushes the tails and returns what the stream said:
 * `{ imageId, error, rest }` (`rest`: what was left unparsed, for an error message).
 */
function buildStreamReader(onLine, { readTrace = true } = {}) {
  let pending = '';
  let partial = '';
  const trace = traceLineReader();
  const said = { imageId: null, error: null };
  return {
    write(piece, at) {
      pending += piece;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const raw = pending.slice(0, end).trim();
        pending = pending.slice(end + 1);
        if (!raw) continue;
        let message;
        try {
          message = JSON.parse(raw);
        } catch {
          continue;
        }
        if (message.aux?.ID) said.imageId = message.aux.ID;
        if (readTrace && message.id === 'moby.buildkit.trace' && typeof message.aux === 'string') {
          try {
            for (const line of trace.push(message.aux)) if (line) onLine(line, at);
          } catch (decodeError) {
            said.error ??= `undecodable BuildKit trace: ${decodeError.message}`;
          }
        }
        if (message.error) said.error ??= message.error;
        if (typeof message.stream === 'string') {
          const lines = (partial + message.stream).split('\n');
          partial = lines.pop();
          for (const line of lines) if (line) onLine(line.replace(/\r$/, ''), at);
        }
      }
    },
    end(at) {
      if (partial) onLine(partial.replace(/\r$/, ''), at);
      for (const line of trace.end()) onLine(line, at);
      return { ...said, rest: pending };
    },
  };
}

module.exports = { traceLogs, traceLineReader, buildStreamReader };
