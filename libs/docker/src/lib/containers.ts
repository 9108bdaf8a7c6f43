import type Dockerode from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { engineCall } from './engine-errors';
import { imageFromInspect, isoFromEngine, isoFromUnix } from './mapping';
import type { Image } from './types';

/** Every container Drydock creates carries this label; only those are visible through the API. */
export const DRYDOCK_LABEL = 'io.drydock.managed';

export interface ContainerSpec {
  image: string;
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** Bytes; 0 means no limit. */
  memoryBytes: number;
  /** Billionths of a CPU, as the engine's NanoCpus. */
  nanoCpus: number;
  network: 'none';
}

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
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
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

/** Container operations. The fence (what a request may ask for) is the caller's; this builds exactly the spec. */
export class ContainerOperations {
  constructor(private readonly docker: Dockerode) {}

  async create(spec: ContainerSpec): Promise<string> {
    const container = await engineCall('image', () =>
      this.docker.createContainer({
        Image: spec.image,
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        Env: spec.env ?? [],
        WorkingDir: spec.workingDir ?? '',
        User: spec.user ?? '',
        Labels: { ...spec.labels, [DRYDOCK_LABEL]: 'true' },
        AttachStdout: false,
        AttachStderr: false,
        Tty: false,
        OpenStdin: false,
        NetworkDisabled: spec.network === 'none',
        HostConfig: {
          NetworkMode: spec.network,
          Privileged: false,
          CapDrop: ['NET_RAW', 'MKNOD', 'AUDIT_WRITE'],
          SecurityOpt: ['no-new-privileges'],
          Memory: spec.memoryBytes,
          NanoCpus: spec.nanoCpus,
          PidsLimit: 512,
          AutoRemove: false,
        },
      }),
    );
    return container.id;
  }

  async start(id: string): Promise<void> {
    await engineCall('container', () => this.docker.getContainer(id).start());
  }

  /** Follows stdout and stderr from the start, demultiplexed, one complete line at a time. */
  async *follow(id: string, signal?: AbortSignal): AsyncGenerator<OutputLine> {
    const raw = (await engineCall('container', () =>
      this.docker.getContainer(id).logs({
        follow: true,
        stdout: true,
        stderr: true,
        ...(signal ? { abortSignal: signal } : {}),
      }),
    )) as unknown as Readable;
    yield* this.demuxLines(raw);
  }

  /** The whole output so far (not following). */
  async output(id: string, tail?: number): Promise<OutputLine[]> {
    const raw = (await engineCall('container', () =>
      this.docker.getContainer(id).logs({
        follow: false,
        stdout: true,
        stderr: true,
        ...(tail !== undefined ? { tail } : {}),
      }),
    )) as unknown as Buffer;
    const stream = new PassThrough();
    stream.end(raw);
    const lines: OutputLine[] = [];
    for await (const line of this.demuxLines(stream)) lines.push(line);
    return lines;
  }

  private async *demuxLines(raw: Readable): AsyncGenerator<OutputLine> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    // Without a TTY the engine multiplexes both streams with 8-byte frame headers.
    this.docker.modem.demuxStream(raw, stdout, stderr);
    const merged = new PassThrough({ objectMode: true });
    const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
    const feed = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
      pending[name] += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending[name].indexOf('\n')) >= 0) {
        merged.write({ stream: name, line: pending[name].slice(0, newline) });
        pending[name] = pending[name].slice(newline + 1);
      }
    };
    stdout.on('data', feed('stdout'));
    stderr.on('data', feed('stderr'));
    raw.on('end', () => {
      // A last line without its newline still belongs to the output.
      for (const name of ['stdout', 'stderr'] as const) {
        if (pending[name]) merged.write({ stream: name, line: pending[name] });
      }
      merged.end();
    });
    raw.on('error', (error) => merged.destroy(error));
    try {
      for await (const line of merged) yield line as OutputLine;
    } finally {
      raw.destroy();
    }
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

  async remove(id: string, force: boolean): Promise<void> {
    await engineCall('container', () => this.docker.getContainer(id).remove({ force }));
  }

  async inspect(id: string): Promise<ContainerDetail> {
    const data = await engineCall('container', () => this.docker.getContainer(id).inspect());
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
      labels: data.Config.Labels ?? {},
      running: data.State.Running,
      exitCode: data.State.Running ? null : data.State.ExitCode,
      startedAt: data.State.StartedAt && !data.State.StartedAt.startsWith('0001') ? isoFromEngine(data.State.StartedAt) : null,
      finishedAt: data.State.FinishedAt && !data.State.FinishedAt.startsWith('0001') ? isoFromEngine(data.State.FinishedAt) : null,
      cmd: data.Config.Cmd ?? [],
      env: data.Config.Env ?? [],
      workingDir: data.Config.WorkingDir ?? '',
      user: data.Config.User ?? '',
    };
  }

  /** Lists containers; `labelled` restricts to Drydock's own. */
  async list(options: { all: boolean; labelled: boolean }): Promise<ContainerSummary[]> {
    const rows = await engineCall('engine', () =>
      this.docker.listContainers({
        all: options.all,
        ...(options.labelled ? { filters: JSON.stringify({ label: [`${DRYDOCK_LABEL}=true`] }) } : {}),
      }),
    );
    return rows.map((row) => ({
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
    return imageFromInspect(data, 1);
  }
}
