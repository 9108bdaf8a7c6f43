import { dropRedisKeys, startApp, type RunningApp } from './app';
import { testEnv } from './env';
import { eventually } from './graphql';
import { RegistryProcess } from './registry-process';
import { SecondDockerd } from './second-dockerd';

/** What a fault suite breaks: an engine and a registry of its own, and Drydock in this process on that engine. */
export interface FaultRig {
  engine: SecondDockerd;
  registry: RegistryProcess;
  running: RunningApp;
  /** Readiness 200 again: the engine answers and its events are followed. */
  whenReady(): Promise<void>;
  destroy(): Promise<void>;
}

/** Starts the rig; `prepare` makes the suite's images in the engine before Drydock starts. */
export async function startFaultRig(engineArgs: string[], prepare: (rig: Omit<FaultRig, 'running' | 'whenReady' | 'destroy'>) => Promise<void>): Promise<FaultRig> {
  const [engine, registry] = await Promise.all([SecondDockerd.start(engineArgs), RegistryProcess.start()]);
  await engine.docker('pull', testEnv.fixture);
  await prepare({ engine, registry });
  const running = await startApp({ DOCKER_HOST: engine.host, DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
  const whenReady = async () => {
    await eventually(async () => ((await fetch(`${running.url}/health/ready`)).ok ? true : undefined), 20_000, 'Drydock to be ready');
  };
  await whenReady();
  return {
    engine,
    registry,
    running,
    whenReady,
    destroy: async () => {
      await running.close();
      await dropRedisKeys(running.config.keyPrefix);
      await Promise.all([engine.destroy(), registry.destroy()]);
    },
  };
}
