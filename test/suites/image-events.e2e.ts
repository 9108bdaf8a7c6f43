import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnginePool } from '@drydock/docker';
import type { Client } from 'graphql-ws';
import type { EventEmitter } from 'node:events';
import request from 'supertest';
import { startApp, type RunningApp } from '../support/app';
import { docker, ensureFixture, removeImagesLabelled, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, wsClient } from '../support/graphql';
import { present } from '../support/present';

/**
 * The `imageEvents` subscription relays the engine's own image events: a
 * subscriber over graphql-ws sees the tag Drydock just made, and the untag and
 * delete of a removal, whoever made the change.
 */

interface ImageEventBody {
  action: string;
  id: string;
  reference: string | null;
  at: string;
}

const SUBSCRIPTION = 'subscription { imageEvents { action id reference at } }';
const enc = encodeURIComponent;

describe('image events over graphql-ws', () => {
  const ns = uniqueNamespace('e2e-image-events');
  const SUITE_LABEL = 'drydock.e2e.suite';
  const repo = `${ns}/app`;
  let running: RunningApp;
  /** The harness's admin token; set once the app runs. */
  let authorization = '';
  const connect = (): Client => wsClient(running.wsUrl, { authorization });
  let client: Client;
  let imageId: string;

  /**
   * Subscribes, and resolves `ready` once the subscription demonstrably
   * receives events: a probe tag is made (and remade) until its event arrives,
   * so nothing the test does afterwards can race the subscription's start.
   */
  function subscribe(
    until: (events: ImageEventBody[]) => boolean,
    on: Client = client,
  ): {
    events: ImageEventBody[];
    done: Promise<ImageEventBody[]>;
    ready: Promise<void>;
  } {
    const events: ImageEventBody[] = [];
    const probe = `${ns}/probe:${Math.random().toString(36).slice(2, 8)}`;
    const done = collect<ImageEventBody>(
      on,
      SUBSCRIPTION,
      {},
      (items) => {
        events.splice(0, events.length, ...items);
        return until(items);
      },
      60_000,
    );
    let settled = false;
    void done.finally(() => (settled = true)).catch(() => undefined);
    const ready = (async () => {
      await eventually(
        async () => {
          if (settled)
            throw new Error(
              `the subscription ended before it was ready: ${JSON.stringify(events)}`,
            );
          if (events.some((e) => e.action === 'tag' && e.reference === probe))
            return true;
          docker('tag', imageId, probe);
          return undefined;
        },
        30_000,
        'the subscription receiving events',
      );
    })();
    return { events, done, ready };
  }

  beforeAll(async () => {
    ensureFixture();
    const dir = mkdtempSync(join(tmpdir(), 'drydock-e2e-ctx-'));
    try {
      writeFileSync(
        join(dir, 'Dockerfile'),
        `FROM ${testEnv.fixture}\nLABEL ${SUITE_LABEL}="${ns}"\n`,
      );
      const out = docker('build', '-q', '-t', `${repo}:base`, dir);
      imageId = /sha256:[a-f0-9]{64}/.exec(out)?.[0] ?? '';
      if (!imageId) throw new Error(`docker build printed no image id: ${out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // This suite makes many changes quickly: the per-token mutation budget is not what it tests.
    running = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    authorization = running.auth.authorization;
    client = connect();
  });

  afterAll(async () => {
    await client?.dispose();
    await running?.close();
    removeImagesLabelled(SUITE_LABEL, ns);
  });

  it('sees a tag event naming the new reference after a REST tag', async () => {
    const target = `${repo}:tagged-by-rest`;
    const sub = subscribe((events) =>
      events.some((e) => e.action === 'tag' && e.reference === target),
    );
    await sub.ready;

    const res = await request(running.url)
      .post(`/v1/images/${enc(imageId)}/tags`)
      .set('authorization', authorization)
      .send({ repository: repo, tag: 'tagged-by-rest' })
      .expect(201);
    expect(res.body.id).toBe(imageId);

    const events = await sub.done;
    const tagEvent = present(events.find(
      (e) => e.action === 'tag' && e.reference === target,
    ), 'the tag event');
    expect(tagEvent).toMatchObject({
      action: 'tag',
      id: imageId,
      reference: target,
    });
    expect(new Date(tagEvent.at).toISOString()).toBe(tagEvent.at);
    expect(Math.abs(Date.now() - Date.parse(tagEvent.at))).toBeLessThan(
      60_000,
    );
  });

  it('sees an untag event after a REST remove of one tag, and untag and delete when the last tag goes', async () => {
    // A second image, so that its last tag can go without touching the suite's base image.
    ensureFixture();
    const dir = mkdtempSync(join(tmpdir(), 'drydock-e2e-ctx-'));
    let doomed: string;
    try {
      writeFileSync(
        join(dir, 'Dockerfile'),
        `FROM ${testEnv.fixture}\nLABEL ${SUITE_LABEL}="${ns}" doomed="yes"\n`,
      );
      doomed =
        /sha256:[a-f0-9]{64}/.exec(
          docker('build', '-q', '-t', `${repo}:doomed-1`, dir),
        )?.[0] ?? '';
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    docker('tag', doomed, `${repo}:doomed-2`);

    const sub = subscribe((events) =>
      events.some((e) => e.action === 'delete' && e.id === doomed),
    );
    await sub.ready;

    const first = await request(running.url)
      .delete(`/v1/images/${enc(`${repo}:doomed-1`)}`)
      .set('authorization', authorization)
      .expect(200);
    expect(first.body).toEqual({ untagged: [`${repo}:doomed-1`], deleted: [] });
    await eventually(
      async () =>
        sub.events.some((e) => e.action === 'untag' && e.id === doomed)
          ? true
          : undefined,
      30_000,
      'the untag event',
    );

    const last = await request(running.url)
      .delete(`/v1/images/${enc(`${repo}:doomed-2`)}`)
      .set('authorization', authorization)
      .expect(200);
    expect(last.body.deleted).toContain(doomed);

    const events = (await sub.done).filter((e) => e.id === doomed);
    const actions = events.map((e) => e.action);
    expect(actions.filter((a) => a === 'untag').length).toBeGreaterThanOrEqual(
      2,
    );
    expect(actions).toContain('delete');
    // The delete comes after the untags that led to it.
    expect(actions.lastIndexOf('delete')).toBeGreaterThan(
      actions.indexOf('untag'),
    );
  });

  it('sees events of changes made outside Drydock too (docker tag, docker rmi)', async () => {
    const target = `${repo}:tagged-by-cli`;
    const sub = subscribe(
      (events) =>
        events.some((e) => e.action === 'tag' && e.reference === target) &&
        events.some((e) => e.action === 'untag' && e.id === imageId),
    );
    await sub.ready;
    docker('tag', imageId, target);
    await eventually(
      async () =>
        sub.events.some((e) => e.action === 'tag' && e.reference === target)
          ? true
          : undefined,
      30_000,
      'the CLI tag event',
    );
    docker('rmi', target);
    const events = await sub.done;
    expect(
      events.find((e) => e.action === 'tag' && e.reference === target),
    ).toMatchObject({ id: imageId });
  });

  it('keeps serving a subscriber when another one disconnects', async () => {
    const leaving = connect();
    const target = `${repo}:after-disconnect`;
    const staying = subscribe((events) =>
      events.some((e) => e.action === 'tag' && e.reference === target),
    );
    const gone = subscribe(() => false, leaving);
    await Promise.all([staying.ready, gone.ready]);

    // The leaving client drops its socket mid-subscription; the server must clean up and carry on.
    await leaving.dispose();
    await expect(gone.done).resolves.toBeDefined();

    await request(running.url)
      .post(`/v1/images/${enc(imageId)}/tags`)
      .set('authorization', authorization)
      .send({ repository: repo, tag: 'after-disconnect' })
      .expect(201);
    const events = await staying.done;
    expect(
      events.find((e) => e.action === 'tag' && e.reference === target),
    ).toMatchObject({ id: imageId });

    // No listener outlives its subscriber (white-box: the catalogue's emitter is private).
    const emitter = (
      running.app.get(EnginePool).first.catalog as unknown as { emitter: EventEmitter }
    ).emitter;
    await eventually(
      async () => (emitter.listenerCount('image') === 0 ? true : undefined),
      10_000,
      'every image-event listener removed',
    );
  });
});
