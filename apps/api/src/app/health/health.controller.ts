import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EnginePool } from '@drydock/docker';
import type { FastifyReply } from 'fastify';
import type { RedisClient } from '@drydock/jobs';
import { Public } from '../auth/decorators';
import { bounded } from '../engine/bounded';
import { REDIS } from '../redis/redis.module';
import { RegistryCredentials } from '../registries/registry-credentials.service';

type Status = 'up' | 'down';

interface Check {
  status: Status;
  error?: string;
}

async function check(probe: () => Promise<unknown>): Promise<Check> {
  try {
    await bounded(probe());
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: (error as Error).message };
  }
}

/** Probes answer without a token: orchestrators have none. */
@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EnginePool) private readonly pool: EnginePool,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(RegistryCredentials) private readonly vault: RegistryCredentials,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'getLiveness' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready while Redis and at least one engine answer: a job for an engine
   * that is down waits for it, and the others keep serving. Names each
   * engine (`engine` alone is the first's, as before there were several) so
   * an operator sees which is down. The vault is reported, not gated on:
   * credentials no key opens fail only the pushes and pulls that need them,
   * the same on every replica, and taking this one out of service would fix
   * none of them. Every probe is bounded and all run at once.
   */
  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const members = this.pool.all;
    const [redis, ...checks] = await Promise.all([check(() => this.redis.ping()), ...members.map((member) => check(() => member.engine.system.ping()))]);
    const engines = Object.fromEntries(members.map((member, i) => [member.name, checks[i] as Check]));
    const ok = redis.status === 'up' && checks.some((engine) => engine.status === 'up');
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', engine: checks[0], engines, redis, vault: this.vault.vaultHealth() };
  }
}
