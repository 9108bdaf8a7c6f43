import { DrydockError, ErrorCode } from '@drydock/core';
import type Redis from 'ioredis';
import type { FastifyReply } from 'fastify';
import type { RegistryCredentials } from '../registries/registry-credentials.service';
import { ImagesService } from '../images/images.service';
import { newTestService, type FakeMember, type TestService } from '../testing/test-service';
import { HealthController } from './health.controller';

describe('HealthController.ready over two engines', () => {
  let t: TestService<ImagesService>;
  let health: HealthController;
  let status: number;
  const reply = { status: (code: number) => void (status = code) } as unknown as FastifyReply;
  const away = async (): Promise<void> => {
    throw new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, 'Docker engine unavailable: connect ENOENT');
  };
  beforeEach(async () => {
    t = await newTestService(ImagesService, {}, { engines: ['a', 'b'] });
    const redis = { ping: async () => 'PONG' } as unknown as Redis;
    const vault = { vaultHealth: () => ({ status: 'ok' }) } as unknown as RegistryCredentials;
    health = new HealthController(t.pool, redis, vault);
  });
  afterEach(() => t.close());

  it('stays ready while one engine answers, naming each with its status', async () => {
    (t.engines['b'] as FakeMember).engine.system.ping = away;
    const body = await health.ready(reply);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      engine: { status: 'up' },
      engines: { a: { status: 'up' }, b: { status: 'down', error: 'Docker engine unavailable: connect ENOENT' } },
    });
  });

  it('is unavailable when no engine answers, an engine that hangs counting as down within the bound', async () => {
    (t.engines['a'] as FakeMember).engine.system.ping = away;
    (t.engines['b'] as FakeMember).engine.system.ping = () => new Promise<never>(() => undefined);
    const started = Date.now();
    const body = await health.ready(reply);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unavailable', engine: { status: 'down' }, engines: { b: { status: 'down', error: 'no answer in 2000 ms' } } });
  });
});
