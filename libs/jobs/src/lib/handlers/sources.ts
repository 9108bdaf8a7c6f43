import type { Readable } from 'node:stream';
import type { ContextState, DockerEngine, RegistryAuth } from '@drydock/docker';

/** The engines a worker may be told to use, by name (an EnginePool): a handler asks for its job's. */
export interface EngineSource {
  engine(name: string): DockerEngine;
}

/**
 * Where a handler gets a registry login. Job data never carries a password
 * (BullMQ keeps job data in clear text in Redis): it names the team and the
 * registry, and the worker asks for the credential just before the engine call.
 */
export interface CredentialSource {
  credentialFor(team: string | null, registry: string): Promise<RegistryAuth | null>;
}

/** Build contexts spooled by the API, streamed to the engine by the worker. */
export interface ContextSource {
  open(id: string): Promise<Readable>;
  /** The context's file, where the worker can read it in place: BuildKit is then served it through its session's FileSync. */
  path?(id: string): string;
  /** Where the context's upload stands: a build may start while it still arrives (sent in walk order). */
  state?(id: string): Promise<ContextState>;
  /** Calls `onChange` when the context's upload, received in this process, ends or fails; answers how to stop. */
  watch?(id: string, onChange: () => void): () => void;
  remove(id: string): Promise<void>;
}

export const NO_CREDENTIALS: CredentialSource = { credentialFor: async () => null };

/**
 * Build secrets by id, per team, for BuildKit's secrets provider. Job data
 * holds the ids; the worker asks for each value when BuildKit does.
 */
export interface BuildSecretSource {
  secretFor(team: string | null, id: string): Promise<Buffer | null>;
}

export const NO_BUILD_SECRETS: BuildSecretSource = { secretFor: async () => null };
