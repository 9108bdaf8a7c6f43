import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DockerEngine } from '@drydock/docker';
import type { FastifyReply } from 'fastify';
import type { RedisClient } from '@drydock/jobs';
import { Public } from '../auth/decorators';
import { REDIS } from '../redis/redis.module';
import { RegistryCredentials } from '../registries/registry-credentials.service';

type Status = 'up' | 'down';

const CHECK_TIMEOUT_MS = 2_000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);
}

/** Probes answer without a token: orchestrators have none. */
@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DockerEngine) private readonly engine: DockerEngine,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(RegistryCredentials) private readonly vault: RegistryCredentials,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when both the engine and Redis answer; names each so an operator sees
   * which is down. The vault is reported, not gated on: credentials no key
   * opens fail only the pushes and pulls that need them, the same on every
   * replica, and taking this one out of service would fix none of them.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const check = async (probe: () => Promise<unknown>): Promise<{ status: Status; error?: string }> => {
      try {
        await within(probe(), CHECK_TIMEOUT_MS);
        return { status: 'up' };
      } catch (error) {
        return { status: 'down', error: (error as Error).message };
      }
    };
    const [engine, redis] = await Promise.all([check(() => this.engine.system.ping()), check(() => this.redis.ping())]);
    const ok = engine.status === 'up' && redis.status === 'up';
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', engine, redis, vault: this.vault.vaultHealth() };
  }
}
