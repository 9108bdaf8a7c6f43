import type Dockerode from 'dockerode';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ErrorCode } from '@drydock/core';
import { engineCall, toDomainError } from './engine-errors';
import { imageFromInspect, isoFromEngine, isoFromUnix } from './mapping';
import { LineAssembler } from './lines';
import type { Image } from './types';

/**
 * Every container Drydock creates carries this label, with a value of its own
 * (a random UUID). Only containers whose value was set at creation, not
 * inherited from their image, are Drydock's: see isManaged.
 */
export const DRYDOCK_LABEL = 'io.drydock.managed';

/**
 * Capabilities dropped from Docker's default set: raw sockets, device nodes,
 * audit writes. The rest stay: package managers run as root inside the
 * container need CHOWN, SETUID, DAC_OVERRIDE and friends to do the seed's
 * "change it, then commit" work.
 */
export const DROPPED_CAPABILITIES: readonly string[] = ['NET_RAW', 'MKNOD', 'AUDIT_WRITE'];

/** Processes per container when the spec names no limit: a fork bomb stays inside its container. */
export const DEFAULT_PIDS_LIMIT = 512;

/** Per-container json-file log cap: an endless printer must not fill the engine's disk. */
const LOG_MAX_SIZE = '64m';
const LOG_MAX_FILES = '2';

/**
 * What may vary between containers Drydock creates. There is deliberately no
 * field for privileged mode, capabilities, mounts, devices, ports, or host
 * namespaces: what cannot be expressed here cannot reach the engine.
 */
export interface ContainerSpec {
  image: string;
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** Bytes; 0 means no limit. */
  memoryBytes: number;
  /** Billionths of a CPU, as the engine's NanoCpus; 0 means no limit. */
  nanoCpus: number;
  /** Processes; default DEFAULT_PIDS_LIMIT. */
  pidsLimit?: number;
  network: 'none';
}

/** The part of the Engine API's ContainerCreate body Drydock sends; everything else keeps the engine's default. */
export interface ContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Env: string[];
  WorkingDir: string;
  User: string;
  Labels: Record<string, string>;
  AttachStdin: false;
  AttachStdout: false;
  AttachStderr: false;
  Tty: false;
  OpenStdin: false;
  NetworkDisabled: boolean;
  HostConfig: {
    NetworkMode: 'none';
    Privileged: false;
    CapAdd: [];
    CapDrop: string[];
    SecurityOpt: string[];
    Binds: [];
    Mounts: [];
    Devices: [];
    PortBindings: Record<string, never>;
    PublishAllPorts: false;
    IpcMode: 'private';
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    PidsLimit: number;
    AutoRemove: false;
    LogConfig: { Type: 'json-file'; Config: Record<string, string> };
  };
}

/**
 * The engine half of the fence: the one place a create body is made. The
 * host-facing settings are constants; only the spec's narrow fields vary.
 * `marker` is the value of DRYDOCK_LABEL; it is applied last so no spec label
 * can replace it.
 */
export function containerCreateBody(spec: ContainerSpec, marker: string): ContainerCreateBody {
  return {
    Image: spec.image,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Env: spec.env ?? [],
    WorkingDir: spec.workingDir ?? '',
    User: spec.user ?? '',
    Labels: { ...spec.labels, [DRYDOCK_LABEL]: marker },
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Privileged: false,
      CapAdd: [],
      CapDrop: [...DROPPED_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      Binds: [],
      Mounts: [],
      Devices: [],
      PortBindings: {},
      PublishAllPorts: false,
      IpcMode: 'private',
      Memory: spec.memoryBytes,
      // Swap as large as the memory limit would double it; equal means no swap on top.
      MemorySwap: spec.memoryBytes > 0 ? spec.memoryBytes : 0,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit ?? DEFAULT_PIDS_LIMIT,
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILES } },
    },
  };
}

/** The engine's container states (`docker ps --filter status=`). */
export type ContainerState = 'created' | 'restarting' | 'running' | 'removing' | 'paused' | 'exited' | 'dead';

export interface ContainerSummary {
  id: string;
  shortId: string;
  name: string;
  image: string;
  imageId: string;
  command: string;
  created: string;
  state: string;
  status: string;
  labels: Record<string, string>;
}

export interface ContainerDetail extends ContainerSummary {
  running: boolean;
  /** Null while running or never started. */
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  /** Created by Drydock (see isManaged). */
  managed: boolean;
}

export interface CommitOptions {
  repository: string;
  tag: string;
  message?: string;
  author?: string;
  changes?: string[];
  pause?: boolean;
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface LogOptions {
  /** The last N lines only. */
  tail?: number;
  /** Only output since this UNIX time, in seconds (fractions allowed). */
  since?: number;
  /** Keep the answer open and pass on new output until the container stops. */
  follow?: boolean;
  signal?: AbortSignal;
}

export interface ListOptions {
  all: boolean;
  /** Only Drydock's own containers (isManaged). */
  labelled: boolean;
  /** Only containers in these states. */
  states?: readonly ContainerState[];
  /** Only containers carrying all of these labels with these values. */
  withLabels?: Readonly<Record<string, string>>;
}

const HEADER_BYTES = 8;
const STREAM_NAMES: Readonly<Record<number, OutputLine['stream']>> = { 1: 'stdout', 2: 'stderr' };

/**
 * Splits the engine's multiplexed output (no TTY: 8-byte frame headers, type
 * 1 stdout, 2 stderr, then a big-endian length) into lines, in the order the
 * frames arrived, each stream through its own LineAssembler (the line cap).
 * Frames are taken apart as they arrive: a frame's payload is passed on in
 * pieces, never held whole.
 */
export async function* demuxLines(chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>): AsyncGenerator<OutputLine> {
  const assemblers = { stdout: new LineAssembler(), stderr: new LineAssembler() };
  let header: Buffer = Buffer.alloc(0);
  /** The stream of the frame being read (null: stdin, skipped) and how many of its bytes are still to come. */
  let current: OutputLine['stream'] | null = null;
  let remaining = 0;
  let raw = false;

  function* feed(stream: OutputLine['stream'], payload: Buffer): Generator<OutputLine> {
    for (const line of assemblers[stream].push(payload)) yield { stream, line };
  }

  for await (const chunk of chunks) {
    // A view, not a copy: what is held past this chunk is copied by the line assembler.
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (raw) {
      yield* feed('stdout', bytes);
      continue;
    }
    while (bytes.length > 0) {
      if (remaining > 0) {
        const payload = bytes.subarray(0, remaining);
        bytes = bytes.subarray(payload.length);
        remaining -= payload.length;
        if (current) yield* feed(current, payload);
        continue;
      }
      const need = HEADER_BYTES - header.length;
      header = Buffer.concat([header, bytes.subarray(0, need)]);
      bytes = bytes.subarray(need);
      if (header.length < HEADER_BYTES) break;
      const type = header[0] as number;
      if (type > 2 || header[1] !== 0 || header[2] !== 0 || header[3] !== 0) {
        // Not a frame header: a TTY container's output is not multiplexed. Pass it through as stdout.
        raw = true;
        yield* feed('stdout', Buffer.concat([header, bytes]));
        break;
      }
      // Type 0 is stdin, which Drydock never attaches.
      current = STREAM_NAMES[type] ?? null;
      remaining = header.readUInt32BE(4);
      header = Buffer.alloc(0);
    }
  }
  // The last line without its newline still belongs to the output.
  for (const stream of ['stdout', 'stderr'] as const) {
    for (const line of assemblers[stream].end()) yield { stream, line };
  }
}

/**
 * A container is Drydock's when it carries DRYDOCK_LABEL with a value its
 * image does not. An image made by committing a Drydock container (or built
 * with that LABEL) carries the label too, and every container anyone creates
 * from it inherits it; Drydock always sets a fresh value, so an inherited one
 * gives such a container away. Without an image to compare with (it was
 * removed), the label alone decides.
 */
export function isManaged(containerLabels: Record<string, string> | null | undefined, imageLabels: Record<string, string> | null | undefined): boolean {
  const value = containerLabels?.[DRYDOCK_LABEL];
  if (value === undefined || value === '') return false;
  return imageLabels?.[DRYDOCK_LABEL] !== value;
}

/** What callers see of the engine's containers: the seam an in-memory fake stands in for in unit specs. */
export type ContainerClient = Pick<ContainerOperations, keyof ContainerOperations>;

/** Container operations. The fence (what a request may ask for) is the caller's; this builds exactly the spec. */
export class ContainerOperations {
  constructor(private readonly docker: Dockerode) {}

  /** Creates a container from `spec` (never pulling: an absent image is IMAGE_NOT_FOUND). */
  async create(spec: ContainerSpec): Promise<string> {
    const body = containerCreateBody(spec, randomUUID());
    const container = await engineCall('image', () => this.docker.createContainer(body as Dockerode.ContainerCreateOptions));
    return container.id;
  }

  async start(id: string): Promise<void> {
    await engineCall('container', () => this.docker.getContainer(id).start());
  }

  /**
   * Attaches to stdout and stderr. Resolves once the engine holds the attach
   * open (the engine registers the attach before it answers), so a caller
   * that starts the container afterwards misses no output. The lines then
   * arrive demultiplexed, complete, in order. Abort `signal` to let go of a
   * stream that is not read to its end.
   */
  async attach(id: string, signal?: AbortSignal): Promise<AsyncGenerator<OutputLine>> {
    const raw = (await engineCall('container', () =>
      this.docker.getContainer(id).attach({
        stream: true,
        stdout: true,
        stderr: true,
        ...(signal ? { abortSignal: signal } : {}),
      }),
    )) as unknown as Readable;
    return mapErrors(demuxLines(raw));
  }

  /**
   * The output so far (and on, with `follow`), as a stream of lines read from
   * the engine as the caller asks for them: never the whole log in memory.
   * `tail`: the last N lines; `since`: UNIX seconds. Abort `signal` (or stop
   * iterating) to let go of the engine's answer early.
   */
  async logs(id: string, options: LogOptions = {}): Promise<AsyncGenerator<OutputLine>> {
    const query: Record<string, string | number | boolean> = { follow: options.follow ?? false, stdout: true, stderr: true };
    if (options.tail !== undefined) query['tail'] = options.tail;
    if (options.since !== undefined) query['since'] = options.since;
    // dockerode's container.logs buffers the whole answer unless following: dial the request as a stream either way.
    const modem = this.docker.modem as { dial(options: object, callback: (error: unknown, data: unknown) => void): void };
    const raw = await engineCall(
      'container',
      () =>
        new Promise<Readable>((resolve, reject) =>
          modem.dial(
            {
              path: `/containers/${encodeURIComponent(id)}/logs?`,
              method: 'GET',
              isStream: true,
              ...(options.signal ? { abortSignal: options.signal } : {}),
              statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
              options: query,
            },
            (error, data) => (error ? reject(error) : resolve(data as Readable)),
          ),
        ),
    );
    return mapErrors(demuxLines(raw));
  }

  async wait(id: string): Promise<number> {
    const result = (await engineCall('container', () => this.docker.getContainer(id).wait())) as { StatusCode: number };
    return result.StatusCode;
  }

  async stop(id: string, seconds = 2): Promise<void> {
    await engineCall('container', async () => {
      try {
        await this.docker.getContainer(id).stop({ t: seconds });
      } catch (error) {
        // 304: already stopped, which is what we wanted.
        if ((error as { statusCode?: number }).statusCode !== 304) throw error;
      }
    });
  }

  /** `docker rm -v`: the container's anonymous volumes (an image's VOLUME) go with it, or every run would leave one behind. */
  async remove(id: string, force: boolean): Promise<void> {
    await engineCall('container', () => this.docker.getContainer(id).remove({ force, v: true }));
  }

  async inspect(id: string): Promise<ContainerDetail> {
    const data = await engineCall('container', () => this.docker.getContainer(id).inspect());
    const labels = data.Config.Labels ?? {};
    const managed = labels[DRYDOCK_LABEL] ? isManaged(labels, await this.imageLabels(data.Image)) : false;
    return {
      id: data.Id,
      shortId: data.Id.slice(0, 12),
      name: data.Name.replace(/^\//, ''),
      image: data.Config.Image,
      imageId: data.Image,
      command: [data.Path, ...(data.Args ?? [])].join(' '),
      created: isoFromEngine(data.Created),
      state: data.State.Status,
      status: data.State.Status,
      labels,
      running: data.State.Running,
      exitCode: data.State.Running || notYet(data.State.FinishedAt) ? null : data.State.ExitCode,
      startedAt: notYet(data.State.StartedAt) ? null : isoFromEngine(data.State.StartedAt),
      finishedAt: notYet(data.State.FinishedAt) ? null : isoFromEngine(data.State.FinishedAt),
      cmd: data.Config.Cmd ?? [],
      env: data.Config.Env ?? [],
      workingDir: data.Config.WorkingDir ?? '',
      user: data.Config.User ?? '',
      managed,
    };
  }

  /** Lists containers; `labelled` restricts to Drydock's own (isManaged). */
  async list(options: ListOptions): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = {};
    // The engine filters by the label's presence; isManaged then drops inherited ones.
    const labelFilters = Object.entries(options.withLabels ?? {}).map(([key, value]) => `${key}=${value}`);
    if (options.labelled) labelFilters.push(DRYDOCK_LABEL);
    if (labelFilters.length) filters['label'] = labelFilters;
    if (options.states?.length) filters['status'] = [...options.states];
    const rows = await engineCall('engine', () =>
      this.docker.listContainers({
        all: options.all,
        ...(Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {}),
      }),
    );
    const summaries = rows.map((row) => ({
      id: row.Id,
      shortId: row.Id.slice(0, 12),
      name: (row.Names[0] ?? '').replace(/^\//, ''),
      image: row.Image,
      imageId: row.ImageID,
      command: row.Command,
      created: isoFromUnix(row.Created),
      state: row.State,
      status: row.Status,
      labels: row.Labels ?? {},
    }));
    if (!options.labelled) return summaries;
    const images = new Map<string, Promise<Record<string, string> | null>>();
    const imageLabels = (imageId: string) => {
      let labels = images.get(imageId);
      if (!labels) images.set(imageId, (labels = this.imageLabels(imageId)));
      return labels;
    };
    const managed = await Promise.all(summaries.map(async (row) => isManaged(row.labels, await imageLabels(row.imageId))));
    return summaries.filter((_row, i) => managed[i]);
  }

  /** `docker commit`: answers the new image. */
  async commit(id: string, options: CommitOptions): Promise<Image> {
    const result = (await engineCall('container', () =>
      this.docker.getContainer(id).commit({
        repo: options.repository,
        tag: options.tag,
        comment: options.message ?? '',
        author: options.author ?? '',
        pause: options.pause ?? true,
        ...(options.changes?.length ? { changes: options.changes } : {}),
      }),
    )) as { Id: string };
    const data = await engineCall('image', () => this.docker.getImage(result.Id).inspect());
    return imageFromInspect(data, 0);
  }

  /** An image's labels; null when the image is gone. */
  private async imageLabels(imageId: string): Promise<Record<string, string> | null> {
    try {
      const image = await this.docker.getImage(imageId).inspect();
      return image.Config?.Labels ?? {};
    } catch (error) {
      const mapped = toDomainError(error, 'image');
      if (mapped.code === ErrorCode.IMAGE_NOT_FOUND) return null;
      throw mapped;
    }
  }
}

/** The engine's zero time ("0001-01-01T00:00:00Z") means "never". */
function notYet(time: string | undefined): boolean {
  return !time || time.startsWith('0001-');
}

/** A broken attach stream surfaces as the engine's error vocabulary, not a socket error. */
async function* mapErrors(lines: AsyncGenerator<OutputLine>): AsyncGenerator<OutputLine> {
  try {
    yield* lines;
  } catch (error) {
    throw toDomainError(error, 'container');
  }
}
