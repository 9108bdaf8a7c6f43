import type { Readable } from 'node:stream';
import type { RegistryAuth } from '@drydock/docker';

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
  remove(id: string): Promise<void>;
}

export const NO_CREDENTIALS: CredentialSource = { credentialFor: async () => null };
