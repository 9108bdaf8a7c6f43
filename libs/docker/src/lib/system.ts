import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { engineCall } from './engine-errors';
import { decodeJsonLines } from './stream';
import type { EngineEvent, EngineInfo } from './types';
import { Builder } from './buildkit/trace';

/** BuildKit came to the Engine API (`version=2`, /session) in 1.39, on Linux engines only. */
export function engineBuilders(apiVersion: string, os: string): Builder[] {
  const [major = 0, minor = 0] = apiVersion.split('.').map(Number);
  const buildkit = os.toLowerCase() === 'linux' && (major > 1 || (major === 1 && minor >= 39));
  return buildkit ? [Builder.BUILDKIT, Builder.LEGACY] : [Builder.LEGACY];
}

export class SystemOperations {
  constructor(private readonly docker: Dockerode) {}

  async ping(): Promise<void> {
    await engineCall('engine', () => this.docker.ping());
  }

  async info(): Promise<EngineInfo> {
    const [version, info] = await engineCall('engine', () => Promise.all([this.docker.version(), this.docker.info()]));
    return {
      version: version.Version,
      apiVersion: version.ApiVersion,
      os: version.Os,
      architecture: version.Arch,
      kernelVersion: version.KernelVersion,
      images: info.Images,
      containers: info.Containers,
      containersRunning: info.ContainersRunning,
      storageDriver: info.Driver,
      rootDir: info.DockerRootDir,
      builders: engineBuilders(version.ApiVersion, version.Os),
    };
  }

  /**
   * The engine's image and container events, live, until the signal aborts or
   * the connection drops (then the generator ends; callers reconnect).
   * `onOpen` runs once the engine holds the stream open.
   */
  async *events(signal: AbortSignal, onOpen?: () => void): AsyncGenerator<EngineEvent> {
    const body = (await engineCall('engine', () =>
      this.docker.getEvents({ filters: { type: ['image', 'container'] }, abortSignal: signal } as Dockerode.GetEventsOptions),
    )) as unknown as Readable;
    // The engine answered: from here on it reports every change.
    onOpen?.();
    try {
      for await (const raw of decodeJsonLines(body)) {
        const message = raw as unknown as RawEvent;
        const at = new Date(Math.floor((message.timeNano ?? message.time * 1e9) / 1e6)).toISOString();
        const attributes = message.Actor?.Attributes ?? {};
        if (message.Type === 'image') {
          yield { type: 'image', event: { action: message.Action, id: message.Actor?.ID ?? message.id ?? '', reference: attributes['name'] ?? null, at } };
        } else if (message.Type === 'container') {
          yield { type: 'container', event: { action: message.Action, id: message.Actor?.ID ?? message.id ?? '', image: attributes['image'] ?? null, at } };
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      body.destroy();
    }
  }
}

interface RawEvent {
  Type: string;
  Action: string;
  id?: string;
  time: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}
