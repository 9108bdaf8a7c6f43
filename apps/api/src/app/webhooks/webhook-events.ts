import { JobState, JobType, type JobRecord } from '@drydock/jobs';

export const WEBHOOK_EVENTS = [
  'job.queued',
  'job.started',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'image.built',
  'image.pushed',
  'image.pulled',
  'image.tagged',
  'image.deleted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** One event, before it is fanned out to the webhooks that want it. */
export interface WebhookEvent {
  type: WebhookEventType;
  /** The team whose webhooks get it (and every all-teams webhook); null: only all-teams webhooks. */
  team: string | null;
  data: Record<string, unknown>;
  /**
   * What makes the event one event, for those a process may be told of twice (a job's end seen
   * through again after its process died): a webhook gets one delivery per key. None: always new.
   */
  key?: string;
}

/**
 * What a webhook is told of a job: its identity, state, times, outcome, never
 * its request (a build's request carries the Dockerfile and build arguments,
 * and would make every payload as large as the largest request).
 */
export function jobSummary(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    team: job.team,
    owner: job.owner,
    engine: job.engine ?? null,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    attempts: job.attempts,
    result: job.result,
    error: job.error,
  };
}

const ENDED: Partial<Record<JobState, WebhookEventType>> = {
  [JobState.SUCCEEDED]: 'job.succeeded',
  [JobState.FAILED]: 'job.failed',
  [JobState.CANCELLED]: 'job.cancelled',
};

const IMAGE_MADE: Partial<Record<JobType, WebhookEventType>> = {
  [JobType.BUILD]: 'image.built',
  [JobType.PUSH]: 'image.pushed',
  [JobType.PULL]: 'image.pulled',
};

/** A job's end: job.succeeded/failed/cancelled, and for a BUILD, PUSH or PULL that succeeded, the image event too. */
export function endingEvents(job: JobRecord): WebhookEvent[] {
  const ended = ENDED[job.state];
  if (!ended) return [];
  const events: WebhookEvent[] = [{ type: ended, team: job.team, data: { job: jobSummary(job) }, key: `job:${job.id}:${ended}` }];
  const image = job.state === JobState.SUCCEEDED ? IMAGE_MADE[job.type] : undefined;
  if (image) {
    const result = job.result ?? {};
    events.push({
      type: image,
      team: job.team,
      data: { image: { id: result.imageId ?? null, digest: result.digest ?? null, tags: result.tags ?? [] }, job: jobSummary(job) },
      key: `job:${job.id}:${image}`,
    });
  }
  return events;
}

export function queuedEvent(job: JobRecord): WebhookEvent {
  return { type: 'job.queued', team: job.team, data: { job: jobSummary(job) }, key: `job:${job.id}:job.queued` };
}

export function startedEvent(job: JobRecord): WebhookEvent {
  return { type: 'job.started', team: job.team, data: { job: jobSummary(job) }, key: `job:${job.id}:job.started` };
}

/** A tag made through the API, for the caller's team. */
export function taggedEvent(team: string | null, imageId: string, reference: string): WebhookEvent {
  return { type: 'image.tagged', team, data: { image: { id: imageId, tags: [reference] } } };
}

/** An image (or one of its tags) removed through the API, for the caller's team. */
export function deletedEvent(team: string | null, reference: string, result: { untagged: string[]; deleted: string[] }): WebhookEvent {
  return { type: 'image.deleted', team, data: { image: { reference, untagged: result.untagged, deleted: result.deleted } } };
}

/** The body sent, in the Standard Webhooks shape: `{ type, timestamp, data }`. */
export function payloadOf(event: WebhookEvent, at: Date): string {
  return JSON.stringify({ type: event.type, timestamp: at.toISOString(), data: event.data });
}
