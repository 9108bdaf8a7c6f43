import { redisKeyBase } from '@drydock/jobs';
import type Redis from 'ioredis';
import type { Response } from 'supertest';
import type { GraphQLResponse } from './graphql';

/**
 * Everything the process writes to stdout/stderr while the suite runs: pino
 * writes to fd 1 through sonic-boom (fs.write), Nest and libraries may use
 * the streams or the console. Swallowed, kept, and searched for secrets.
 */
export function captureOutput(): { text(): string; restore(): void } {
  const fs = require('node:fs') as typeof import('node:fs');
  const chunks: string[] = [];
  const std = (fd: unknown): boolean => fd === 1 || fd === 2;
  const realWrite = fs.write;
  const realWriteSync = fs.writeSync;
  const asText = (data: unknown): string => (Buffer.isBuffer(data) || data instanceof Uint8Array ? Buffer.from(data).toString('utf8') : String(data));
  (fs as { write: unknown }).write = function (fd: number, data: unknown, ...rest: unknown[]) {
    if (!std(fd)) return (realWrite as (...args: unknown[]) => void).call(fs, fd, data, ...rest);
    chunks.push(asText(data));
    const callback = rest[rest.length - 1] as (error: null, written: number) => void;
    const written = Buffer.byteLength(asText(data));
    process.nextTick(() => callback(null, written));
  };
  (fs as { writeSync: unknown }).writeSync = function (fd: number, data: unknown, ...rest: unknown[]) {
    if (!std(fd)) return (realWriteSync as (...args: unknown[]) => number).call(fs, fd, data, ...rest);
    chunks.push(asText(data));
    return Buffer.byteLength(asText(data));
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(asText(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(asText(chunk)), true)),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void chunks.push(args.map(asText).join(' '))),
    ),
  ];
  return {
    text: () => chunks.join(''),
    restore: () => {
      (fs as { write: unknown }).write = realWrite;
      (fs as { writeSync: unknown }).writeSync = realWriteSync;
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** Every value under a key prefix, as text, whatever the key's type. */
export async function dumpRedis(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisKeyBase(prefix)}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
        : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
        : type === 'set' ? JSON.stringify(await redis.smembers(key))
        : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'))
        : type === 'stream' ? JSON.stringify(await redis.xrange(key, '-', '+'))
        : `<${type}>`;
      dump.set(key, value ?? '');
    }
  } while (cursor !== '0');
  return dump;
}

/** Every answer a suite gets, kept as text (status, headers, body) to be searched for a secret at the end. */
export function keepAnswers(): { seen<T extends Response | GraphQLResponse<unknown>>(answer: T): T; add(...texts: string[]): void; all: string[] } {
  const all: string[] = [];
  return {
    all,
    seen: (answer) => {
      all.push('text' in answer ? `${answer.status} ${JSON.stringify(answer.headers)} ${answer.text}` : JSON.stringify(answer));
      return answer;
    },
    add: (...texts) => void all.push(...texts),
  };
}
