import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { dropRedisKeys, startApp, writeTokensFile, type RunningApp } from '../support/app';
import { removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually, gql } from '../support/graphql';
import { waitForJob } from '../support/jobs';
import { expectProblem } from '../support/problem';
import { startProcess, type DrydockProcess } from '../support/process';
import { payloads, startReceiver, type Receiver } from '../support/receiver';
import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import { endingEvents } from '../../apps/api/src/app/webhooks/webhook-events';
import { WebhookDispatcher } from '../../apps/api/src/app/webhooks/webhook-queue';
import { WebhookStore } from '../../apps/api/src/app/webhooks/webhook-store';

interface DeliveryJson {
  id: string;
  event: string;
  status: string;
  attemptCount: number;
  responseCode: number | null;
  attempts: { outcome: string; responseCode: number | null; error: string | null }[];
}

const ALLOW = { DRYDOCK_WEBHOOK_ALLOW: '127.0.0.1/32' };

async function createWebhook(url: string, token: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await request(url).post('/v1/webhooks').set('authorization', `Bearer ${token}`).send(body);
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

async function deliveriesOf(url: string, token: string, webhookId: string): Promise<DeliveryJson[]> {
  const res = await request(url).get(`/v1/webhooks/${webhookId}/deliveries`).set('authorization', `Bearer ${token}`);
  expect(res.status).toBe(200);
  return res.body as DeliveryJson[];
}

async function build(url: string, token: string, tag: string): Promise<string> {
  const res = await request(url)
    .post('/v1/builds')
    .set('authorization', `Bearer ${token}`)
    .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo ${randomUUID()}`, tags: [tag] });
  expect(res.status).toBe(202);
  return (res.body as { id: string }).id;
}

describe('webhooks', () => {
  const ns = uniqueNamespace('e2e-hooks');
  let running: RunningApp;
  let ok: Receiver;
  let flaky: Receiver;
  let teamB: Receiver;
  let okHook: { id: string; secret: string };
  let flakyHook: { id: string; secret: string };
  let teamAJob: string;
  let teamBJob: string;

  beforeAll(async () => {
    [ok, flaky, teamB] = await Promise.all([startReceiver(), startReceiver([500, 500]), startReceiver()]);
    running = await startApp(
      { ...ALLOW, DRYDOCK_WEBHOOK_BACKOFF_MS: '200', DRYDOCK_WEBHOOK_ATTEMPTS: '5', DRYDOCK_TEAM_MAX_WEBHOOKS: '4' },
      {
        tokens: [
          { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${ns}/a/**`] },
          { name: 'builder-b', team: 'team-b', role: 'builder', namespaces: [`${ns}/b/**`] },
          { name: 'viewer-a', team: 'team-a', role: 'viewer' },
        ],
      },
    );
    const { url, tokens } = running;
    okHook = await createWebhook(url, tokens['builder-a'] as string, {
      url: ok.url,
      events: ['job.queued', 'job.started', 'job.succeeded', 'image.built', 'image.tagged', 'image.deleted'],
      description: 'CI',
    });
    flakyHook = await createWebhook(url, tokens['builder-a'] as string, { url: flaky.url, events: ['job.succeeded'] });
    await createWebhook(url, tokens['builder-b'] as string, { url: teamB.url, events: ['job.queued', 'job.started', 'job.succeeded', 'image.built'] });
    [teamAJob, teamBJob] = await Promise.all([
      build(url, tokens['builder-a'] as string, `${ns}/a/app:1`),
      build(url, tokens['builder-b'] as string, `${ns}/b/app:1`),
    ]);
    for (const id of [teamAJob, teamBJob]) expect((await waitForJob(url, running.token, id, 90_000)).state).toBe('SUCCEEDED');
  }, 120_000);

  afterAll(async () => {
    await running?.close();
    await Promise.all([ok, flaky, teamB].map((receiver) => receiver?.close()));
    if (running) await dropRedisKeys(running.config.keyPrefix);
    removeImagesUnder(ns);
  });

  it('delivers a job.succeeded for a build, signed so that the Standard Webhooks library\'s own verifier accepts it', async () => {
    const succeeded = await eventually(async () => payloads(ok).find((p) => p.type === 'job.succeeded'), 30_000, 'job.succeeded at the receiver');
    expect(okHook.secret).toMatch(/^whsec_/);
    const verified = new Webhook(okHook.secret).verify(succeeded.raw, succeeded.headers as Record<string, string>) as { type: string; data: { job: { id: string; state: string; team: string } } };
    expect(verified.type).toBe('job.succeeded');
    expect(verified.data.job).toMatchObject({ id: teamAJob, state: 'SUCCEEDED', team: 'team-a' });
    expect(() => new Webhook(okHook.secret).verify(succeeded.raw.replace('SUCCEEDED', 'FAILED'), succeeded.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(flakyHook.secret).verify(succeeded.raw, succeeded.headers as Record<string, string>)).toThrow();
    // The build's other events, each once: queued, started, and the image it made.
    const image = await eventually(async () => payloads(ok).find((p) => p.type === 'image.built'), 30_000, 'image.built');
    expect((image.data as { image: { tags: string[] } }).image.tags).toEqual([`${ns}/a/app:1`]);
    await eventually(async () => (payloads(ok).length >= 4 ? true : undefined), 30_000, 'four events');
    expect(payloads(ok).map((p) => p.type).sort()).toEqual(['image.built', 'job.queued', 'job.started', 'job.succeeded']);
  });

  it('retries a receiver that answers 500 twice: the third attempt delivers, with the same webhook-id, and the log shows all three', async () => {
    const delivered = await eventually(async () => {
      const [delivery] = await deliveriesOf(running.url, running.tokens['builder-a'] as string, flakyHook.id);
      return delivery?.status === 'SUCCEEDED' ? delivery : undefined;
    }, 30_000, 'the flaky delivery to succeed');
    expect(flaky.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(flaky.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivered.id]));
    expect(delivered).toMatchObject({ event: 'job.succeeded', attemptCount: 3, responseCode: 200 });
    expect(delivered.attempts.map((a) => [a.outcome, a.responseCode])).toEqual([['retry', 500], ['retry', 500], ['success', 200]]);
    // Each attempt signed afresh, each verifiable.
    for (const r of flaky.received) expect(() => new Webhook(flakyHook.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();

    const metrics = await request(running.url).get('/metrics').set('authorization', `Bearer ${running.token}`);
    expect(metrics.text).toMatch(/drydock_webhook_deliveries_total\{outcome="retry"\} [2-9]/);
  });

  it('redelivers a finished delivery on request: the same id and body once more, and a fourth attempt in the log', async () => {
    const [first] = await deliveriesOf(running.url, running.tokens['builder-a'] as string, flakyHook.id);
    const res = await request(running.url)
      .post(`/v1/webhooks/${flakyHook.id}/deliveries/${first?.id}/redeliver`)
      .set('authorization', `Bearer ${running.tokens['builder-a']}`);
    expect(res.status).toBe(202);
    await eventually(async () => (flaky.received.length === 4 ? true : undefined), 30_000, 'the redelivery');
    expect(flaky.received[3]?.body).toBe(flaky.received[0]?.body);
    expect(flaky.received[3]?.headers['webhook-id']).toBe(first?.id);
    const after = await eventually(async () => {
      const [delivery] = await deliveriesOf(running.url, running.tokens['builder-a'] as string, flakyHook.id);
      return delivery?.attemptCount === 4 && delivery.status === 'SUCCEEDED' ? delivery : undefined;
    }, 10_000, 'the redelivery logged');
    expect(after.attempts.at(-1)).toMatchObject({ outcome: 'success', responseCode: 200 });
    // Another team's token sees neither the webhook nor its deliveries.
    const other = await request(running.url)
      .post(`/v1/webhooks/${flakyHook.id}/deliveries/${first?.id}/redeliver`)
      .set('authorization', `Bearer ${running.tokens['builder-b']}`);
    expectProblem(other, 404, 'WEBHOOK_NOT_FOUND');
  });

  it("never sends team-a's events to a team-b webhook, which gets team-b's own", async () => {
    await eventually(async () => (payloads(teamB).some((p) => p.type === 'image.built') ? true : undefined), 30_000, "team-b's own events");
    // By now every team-a delivery is settled (the tests above): none reached team-b.
    await eventually(async () => (payloads(ok).length >= 4 ? true : undefined), 30_000, "team-a's deliveries");
    const jobIds = new Set(payloads(teamB).map((p) => p.data.job?.id));
    expect(jobIds).toEqual(new Set([teamBJob]));
    expect(payloads(teamB).every((p) => p.data.job?.team === 'team-b')).toBe(true);
    expect(payloads(ok).every((p) => p.data.job?.id === teamAJob)).toBe(true);
    expect(payloads(teamB).some((p) => p.data.job?.team === 'team-a')).toBe(false);
    // team-b's listing holds only its own webhook; no listing holds a secret.
    const listed = await request(running.url).get('/v1/webhooks').set('authorization', `Bearer ${running.tokens['builder-b']}`);
    expect((listed.body as { url: string }[]).map((hook) => hook.url)).toEqual([teamB.url]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
  });

  it("tells of a tag and a removal made through the API, as image.tagged and image.deleted, to the caller's team only", async () => {
    const auth = `Bearer ${running.tokens['builder-a']}`;
    const tagged = await request(running.url)
      .post(`/v1/images/${encodeURIComponent(`${ns}/a/app:1`)}/tags`)
      .set('authorization', auth)
      .send({ repository: `${ns}/a/app`, tag: 'retagged' });
    expect(tagged.status).toBe(201);
    const removed = await request(running.url).delete(`/v1/images/${encodeURIComponent(`${ns}/a/app:retagged`)}`).set('authorization', auth);
    expect(removed.status).toBe(200);
    const tag = await eventually(async () => payloads(ok).find((p) => p.type === 'image.tagged'), 30_000, 'image.tagged');
    expect((tag.data as { image: { tags: string[] } }).image.tags).toEqual([`${ns}/a/app:retagged`]);
    const deletion = await eventually(async () => payloads(ok).find((p) => p.type === 'image.deleted'), 30_000, 'image.deleted');
    expect((deletion.data as { image: { untagged: string[] } }).image.untagged).toContain(`${ns}/a/app:retagged`);
    expect(payloads(teamB).filter((p) => p.type.startsWith('image.')).map((p) => p.type)).toEqual(['image.built']);
  });

  it('refuses at creation, 400 WEBHOOK_TARGET_REFUSED, a URL at the metadata service, a private, loopback or unlisted address, or not http(s)', async () => {
    const token = running.tokens['builder-a'] as string;
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
      'http://192.168.1.10:8080/',
      'http://127.0.0.2:9000/hook',
      'http://[::1]:9000/hook',
      'http://[::ffff:169.254.169.254]/',
      'http://0.0.0.0:9000/',
      'http://user:pw@127.0.0.1:9000/',
      'ftp://127.0.0.1/hook',
      'not a url',
      `http://127.0.0.1:${testEnv.redisUrl.split(':').at(-1)}/`,
    ]) {
      const res = await request(running.url).post('/v1/webhooks').set('authorization', `Bearer ${token}`).send({ url, events: ['job.succeeded'] });
      expectProblem(res, 400, 'WEBHOOK_TARGET_REFUSED');
    }
    const graphql = await gql<unknown>(
      running.url,
      'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }',
      { input: { url: 'http://169.254.169.254/', events: ['job.succeeded'] } },
      { authorization: `Bearer ${token}` },
    );
    expect(graphql.errors?.[0]?.extensions?.code).toBe('WEBHOOK_TARGET_REFUSED');
    // Bounded input: unknown events, an over-long description; a viewer may not create one; the team's quota.
    for (const body of [{ url: ok.url, events: ['job.exploded'] }, { url: ok.url, events: [] }, { url: ok.url, events: ['job.queued'], description: 'x'.repeat(501) }]) {
      expectProblem(await request(running.url).post('/v1/webhooks').set('authorization', `Bearer ${token}`).send(body), 400, 'VALIDATION_FAILED');
    }
    expect((await request(running.url).post('/v1/webhooks').set('authorization', `Bearer ${running.tokens['viewer-a']}`).send({ url: ok.url, events: ['job.queued'] })).status).toBe(403);
    const allTeams = await request(running.url).post('/v1/webhooks').set('authorization', `Bearer ${token}`).send({ url: ok.url, events: ['job.queued'], allTeams: true });
    expectProblem(allTeams, 403, 'FORBIDDEN');
    await createWebhook(running.url, token, { url: ok.url, events: ['job.failed'] });
    await createWebhook(running.url, token, { url: ok.url, events: ['job.failed'] });
    expectProblem(await request(running.url).post('/v1/webhooks').set('authorization', `Bearer ${token}`).send({ url: ok.url, events: ['job.failed'] }), 409, 'QUOTA_EXCEEDED');
  });

  it('lists webhooks over GraphQL without their secrets, and removes one', async () => {
    const auth = { authorization: `Bearer ${running.tokens['builder-a']}` };
    const listed = await gql<{ webhooks: { id: string; url: string; team: string }[] }>(running.url, '{ webhooks { id url team events } }', {}, auth);
    expect(listed.data?.webhooks.map((hook) => hook.id)).toEqual(expect.arrayContaining([okHook.id, flakyHook.id]));
    const secretField = await gql(running.url, '{ webhooks { id secret } }', {}, auth);
    expect(secretField.status).toBe(400);
    const removed = await gql<{ removeWebhook: boolean }>(running.url, 'mutation($id: ID!) { removeWebhook(id: $id) }', { id: okHook.id }, auth);
    expect(removed.data?.removeWebhook).toBe(true);
    const again = await request(running.url).delete(`/v1/webhooks/${okHook.id}`).set('authorization', auth.authorization);
    expectProblem(again, 404, 'WEBHOOK_NOT_FOUND');
  });
});

/**
 * The API and a worker as separate processes: a delivery waiting out its
 * backoff lives in Redis, so the worker that made the first attempt may die
 * and another makes the next.
 */
describe('webhook deliveries across a worker killed between attempts', () => {
  const ns = uniqueNamespace('e2e-hooks-procs');
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-hooks-'));
  const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
  const token = tokens['admin'] as string;
  const shared = {
    ...ALLOW,
    DRYDOCK_KEY_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    DRYDOCK_TOKENS_FILE: file,
    DRYDOCK_DATA_DIR: dataDir,
    DRYDOCK_REDIS_GRACE_SECONDS: '5',
    // Long enough to kill the worker between the attempts, short enough for a test.
    DRYDOCK_WEBHOOK_BACKOFF_MS: '3000',
    DRYDOCK_WEBHOOK_TIMEOUT_MS: '2000',
  };
  const started: DrydockProcess[] = [];
  let receiver: Receiver;

  afterAll(async () => {
    for (const child of started) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await Promise.all(started.map((child) => child.exited));
    await receiver?.close();
    await dropRedisKeys(shared.DRYDOCK_KEY_PREFIX);
    removeImagesUnder(ns);
  });

  it('loses nothing: the next worker makes the next attempt, the receiver gets the event, and the log shows every attempt', async () => {
    receiver = await startReceiver([500]);
    const [api, first] = await Promise.all([startProcess('api', shared), startProcess('worker', shared)]);
    started.push(api, first);
    const hook = await createWebhook(api.url, token, { url: receiver.url, events: ['job.queued'] });
    await build(api.url, token, `${ns}/app:1`);

    await eventually(async () => {
      const [delivery] = await deliveriesOf(api.url, token, hook.id);
      return delivery?.attemptCount === 1 ? delivery : undefined;
    }, 30_000, 'the first, failed attempt');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(receiver.received).toHaveLength(1);

    started.push(await startProcess('worker', shared));
    const delivered = await eventually(async () => {
      const [delivery] = await deliveriesOf(api.url, token, hook.id);
      return delivery?.status === 'SUCCEEDED' ? delivery : undefined;
    }, 60_000, 'the delivery, by the second worker');
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 200]);
    expect(delivered.attempts.map((a) => [a.outcome, a.responseCode])).toEqual([['retry', 500], ['success', 200]]);
    const last = receiver.received[1];
    expect(new Webhook(hook.secret).verify(last?.body ?? '', last?.headers as Record<string, string>)).toMatchObject({ type: 'job.queued' });
  }, 120_000);
});

describe('webhook deliveries a process left half-done', () => {
  let running: RunningApp;
  let receiver: Receiver;
  let hook: { id: string; secret: string };

  beforeAll(async () => {
    receiver = await startReceiver();
    running = await startApp(ALLOW);
    hook = await createWebhook(running.url, running.token, { url: receiver.url, events: ['job.succeeded', 'image.pulled'] });
  });

  afterAll(async () => {
    await running?.close();
    await receiver?.close();
    if (running) await dropRedisKeys(running.config.keyPrefix);
  });

  it('sends a delivery whose process logged it and died before queueing it', async () => {
    const store = running.app.get(WebhookStore);
    // What publish() leaves when its process dies between the log and the queue.
    const stranded = await store.addDelivery(hook.id, 'job.succeeded', JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: {} }));
    expect(stranded).not.toBeNull();

    await running.app.get(WebhookDispatcher).requeueStranded(0);
    const delivered = await eventually(async () => {
      const found = (await deliveriesOf(running.url, running.token, hook.id)).find((delivery) => delivery.id === stranded?.id);
      return found?.status === 'SUCCEEDED' ? found : undefined;
    }, 30_000, 'the stranded delivery, sent');
    expect(delivered.attempts).toHaveLength(1);
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === stranded?.id)).toHaveLength(1);
  });

  it("makes one delivery per webhook of a job's end told twice, as a sweep does after its first process died", async () => {
    const job = { ...endedJob(), id: randomUUID() };
    const dispatcher = running.app.get(WebhookDispatcher);
    await dispatcher.publish(endingEvents(job));
    await dispatcher.publish(endingEvents(job));
    await dispatcher.requeueStranded(0);

    const settled = await eventually(async () => {
      const ofJob = (await deliveriesOf(running.url, running.token, hook.id)).filter((delivery) => receiverSaw(delivery.id, job.id));
      return ofJob.length === 2 && ofJob.every((delivery) => delivery.status === 'SUCCEEDED') ? ofJob : undefined;
    }, 30_000, 'job.succeeded and image.pulled, delivered');
    expect(settled.map((delivery) => delivery.event).sort()).toEqual(['image.pulled', 'job.succeeded']);
    expect(payloads(receiver).filter((p) => p.data.job?.id === job.id).map((p) => p.type).sort()).toEqual(['image.pulled', 'job.succeeded']);
  });

  function receiverSaw(deliveryId: string, jobId: string): boolean {
    return receiver.received.some((r) => r.headers['webhook-id'] === deliveryId && r.body.includes(jobId));
  }
});

/** A PULL that succeeded, as its record reads once ended. */
function endedJob(): JobRecord {
  const at = new Date().toISOString();
  return {
    id: '',
    type: JobType.PULL,
    state: JobState.SUCCEEDED,
    progress: 1,
    createdAt: at,
    startedAt: at,
    finishedAt: at,
    request: {},
    result: { imageId: 'sha256:abc' },
    error: null,
    team: 'ops',
    owner: 'admin',
    attempts: 1,
    timeoutSeconds: null,
    engine: null,
  };
}
