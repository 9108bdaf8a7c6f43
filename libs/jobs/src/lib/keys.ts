/**
 * What every Redis key and channel of a deployment starts with: its prefix as
 * a Redis Cluster hash tag, `{drydock}`. The whole prefix is the tag, so a
 * deployment's keys all hash to one slot: the Lua scripts and MULTIs that span
 * several jobs' keys (team slots, leases, BullMQ's own scripts) must, on a
 * Cluster, name keys of one slot only. A Cluster then gives a deployment
 * failover rather than sharding; deployments with other prefixes land on
 * other slots.
 */
export function redisKeyBase(prefix: string): string {
  if (!validKeyPrefix(prefix)) throw new Error(`invalid Redis key prefix "${prefix}"`);
  return `{${prefix}}`;
}

/**
 * Not empty, and none of PSUBSCRIBE's wildcards (the prefix ends up in a
 * pattern) nor braces (which would end the hash tag early).
 */
export function validKeyPrefix(prefix: string): boolean {
  return prefix.length > 0 && !/[*?[\]{}\\]/.test(prefix);
}

/**
 * Every Redis key and channel of the jobs library, derived from one prefix so
 * that a deployment (or a test) owns exactly `{prefix}:*` and nothing else.
 */
export class JobKeys {
  /** `{prefix}`, the hash tag every key below starts with (see redisKeyBase). */
  readonly base: string;

  constructor(readonly prefix: string) {
    this.base = redisKeyBase(prefix);
  }

  record(jobId: string): string {
    return `${this.base}:job:${jobId}`;
  }

  /** Sorted set of job ids scored by creation time (ms), for newest-first listing. */
  get index(): string {
    return `${this.base}:jobs`;
  }

  /**
   * Jobs whose record has ended but whose ending (terminal events, onJobEnded) is not yet seen
   * through, scored by when it began (or was last claimed): what a process that died mid-ending left.
   */
  get endings(): string {
    return `${this.base}:endings`;
  }

  /** Holds the name of the dedup key a job owns, so the job's end can release it. */
  dedupOwner(jobId: string): string {
    return `${this.base}:job:${jobId}:dedup`;
  }

  cancelRequested(jobId: string): string {
    return `${this.base}:job:${jobId}:cancel`;
  }

  eventCounter(jobId: string): string {
    return `${this.base}:job:${jobId}:seq`;
  }

  eventList(jobId: string): string {
    return `${this.base}:job:${jobId}:events`;
  }

  /** Each writer's latest append to the job, so that an append sent twice is stored once. */
  eventWriters(jobId: string): string {
    return `${this.base}:job:${jobId}:writers`;
  }

  /** Present once the terminal STATE event is stored; appends are refused from then on. */
  eventsClosed(jobId: string): string {
    return `${this.base}:job:${jobId}:closed`;
  }

  /** A team's waiting jobs of every type (`TYPE:id`, scored by queue time): what its waiting limit counts. */
  teamWaiting(team: string | null): string {
    return `${this.team(team)}:waiting`;
  }

  /** A team's waiting jobs of one type, in the order they start: a job's rank here is its `position`. */
  teamWaitingOf(team: string | null, type: string): string {
    return `${this.team(team)}:waiting:${type}`;
  }

  /** The ids of a team's jobs of one type that hold a running slot. */
  teamRunning(team: string | null, type: string): string {
    return `${this.team(team)}:running:${type}`;
  }

  /** Work only one job may do at a time (a push of one repository): who holds it, and `:waiting` who waits. */
  lease(key: string): string {
    return `${this.base}:lease:${key}`;
  }

  remembered(key: string): string {
    return `${this.base}:key:${key}`;
  }

  eventChannel(jobId: string): string {
    return `${this.base}:events:${jobId}`;
  }

  get eventChannelPattern(): string {
    return `${this.base}:events:*`;
  }

  get recordChannel(): string {
    return `${this.base}:records`;
  }

  get cancelChannel(): string {
    return `${this.base}:cancel`;
  }

  /** The base of a team's keys; jobs without a team (an admin token without one) share the empty name. */
  team(team: string | null): string {
    return `${this.base}:team:${team ?? ''}`;
  }

  /** BullMQ's own key prefix, under the tag as BullMQ asks for Cluster; its keys read `{prefix}:bull:{queue}:...`. */
  get bullPrefix(): string {
    return `${this.base}:bull`;
  }
}
