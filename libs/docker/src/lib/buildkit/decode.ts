import type { Readable } from 'node:stream';
import { DrydockError, ErrorCode } from '@drydock/core';
import { classifyMessage } from '../engine-errors';
import { decodeJsonLines, MAX_JSON_LINE_BYTES, type EngineMessage } from '../stream';
import { StatusResponse } from './proto';
import type { BuildkitMessage, BuildkitVertex, BuildkitVertexLog, BuildkitVertexStatus } from './trace';

const TRACE_ID = 'moby.buildkit.trace';
const IMAGE_ID = 'moby.image.id';

interface Timestamp {
  seconds?: number;
  nanos?: number;
}

interface RawStatus {
  vertexes?: Array<{ digest: string; inputs?: string[]; name: string; cached: boolean; started?: Timestamp; completed?: Timestamp; error: string }>;
  statuses?: Array<{ ID: string; vertex: string; name: string; current: number; total: number; started?: Timestamp; completed?: Timestamp }>;
  logs?: Array<{ vertex: string; stream: number; msg: Uint8Array }>;
}

function iso(time: Timestamp | undefined): string | null {
  if (!time) return null;
  const ms = Number(time.seconds ?? 0) * 1000 + Math.floor(Number(time.nanos ?? 0) / 1e6);
  // Go's zero time (year 1) marks an unset gogoproto stdtime field.
  return ms <= 0 ? null : new Date(ms).toISOString();
}

/** One `moby.buildkit.trace` aux payload (base64 of a protobuf StatusResponse) as plain objects. */
export function decodeTrace(aux: string): Extract<BuildkitMessage, { kind: 'trace' }> {
  const raw = StatusResponse.toObject(StatusResponse.decode(Buffer.from(aux, 'base64')), { longs: Number, arrays: true }) as RawStatus;
  const vertexes: BuildkitVertex[] = (raw.vertexes ?? []).map((v) => ({
    digest: v.digest,
    inputs: v.inputs ?? [],
    name: v.name ?? '',
    cached: v.cached ?? false,
    startedAt: iso(v.started),
    completedAt: iso(v.completed),
    error: v.error ? v.error : null,
  }));
  const statuses: BuildkitVertexStatus[] = (raw.statuses ?? []).map((s) => ({
    id: s.ID ?? '',
    vertex: s.vertex ?? '',
    name: s.name ?? '',
    current: s.current ?? 0,
    total: s.total ?? 0,
    startedAt: iso(s.started),
    completedAt: iso(s.completed),
  }));
  const logs: BuildkitVertexLog[] = (raw.logs ?? []).map((l) => ({
    vertex: l.vertex ?? '',
    // BuildKit numbers the streams as file descriptors: 1 stdout, 2 stderr.
    stream: l.stream === 2 ? 'STDERR' : 'STDOUT',
    data: Buffer.from(l.msg ?? new Uint8Array()),
  }));
  return { kind: 'trace', vertexes, statuses, logs };
}

/** A line of the build stream: EngineMessage's shape, but BuildKit's trace aux is a string. */
type Line = Omit<EngineMessage, 'aux'> & { aux?: unknown };

function message(line: Line): BuildkitMessage | null {
  const text = line.errorDetail?.message ?? line.error;
  if (text !== undefined) throw new DrydockError(classifyMessage(text) ?? ErrorCode.BUILD_FAILED, text);
  if (line.id === TRACE_ID && typeof line.aux === 'string') {
    try {
      return decodeTrace(line.aux);
    } catch {
      return null;
    }
  }
  if (line.id === IMAGE_ID && typeof (line.aux as { ID?: unknown } | undefined)?.ID === 'string') {
    return { kind: 'image', id: (line.aux as { ID: string }).ID };
  }
  return null;
}

/**
 * The messages of a `/build?version=2` response; throws the stream's error
 * line as the legacy path does (BUILD_FAILED unless the text says more).
 * Lines are split and capped as every engine stream is (decodeJsonLines); a
 * line that is not one of BuildKit's messages is skipped.
 */
export async function* decodeBuildkitStream(body: Readable, maxLineBytes = MAX_JSON_LINE_BYTES): AsyncGenerator<BuildkitMessage> {
  for await (const line of decodeJsonLines(body, maxLineBytes)) {
    const decoded = message(line as Line);
    if (decoded) yield decoded;
  }
}
