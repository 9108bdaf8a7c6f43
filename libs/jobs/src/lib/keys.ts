/**
 * Every Redis key and channel of the jobs library, derived from one prefix so
 * that a deployment (or a test) owns exactly `{prefix}:*` and nothing else.
 */
export class JobKeys {
  constructor(readonly prefix: string) {
    if (!prefix || /[*?[\]]/.test(prefix)) {
      // The prefix ends up in a PSUBSCRIBE pattern, where these are wildcards.
      throw new Error(`invalid jobs key prefix "${prefix}"`);
    }
  }

  record(jobId: string): string {
    return `${this.prefix}:job:${jobId}`;
  }

  /** Sorted set of job ids scored by creation time (ms), for newest-first listing. */
  get index(): string {
    return `${this.prefix}:jobs`;
  }

  /** Holds the name of the dedup key a job owns, so the job's end can release it. */
  dedupOwner(jobId: string): string {
    return `${this.prefix}:job:${jobId}:dedup`;
  }

  cancelRequested(jobId: string): string {
    return `${this.prefix}:job:${jobId}:cancel`;
  }

  eventCounter(jobId: string): string {
    return `${this.prefix}:job:${jobId}:seq`;
  }

  eventList(jobId: string): string {
    return `${this.prefix}:job:${jobId}:events`;
  }

  /** Each writer's latest append to the job, so that an append sent twice is stored once. */
  eventWriters(jobId: string): string {
    return `${this.prefix}:job:${jobId}:writers`;
  }

  /** Present once the terminal STATE event is stored; appends are refused from then on. */
  eventsClosed(jobId: string): string {
    return `${this.prefix}:job:${jobId}:closed`;
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
    return `${this.prefix}:lease:${key}`;
  }

  remembered(key: string): string {
    return `${this.prefix}:key:${key}`;
  }

  eventChannel(jobId: string): string {
    return `${this.prefix}:events:${jobId}`;
  }

  get eventChannelPattern(): string {
    return `${this.prefix}:events:*`;
  }

  get recordChannel(): string {
    return `${this.prefix}:records`;
  }

  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** The base of a team's keys; jobs without a team (an admin token without one) share the empty name. */
  team(team: string | null): string {
    return `${this.prefix}:team:${team ?? ''}`;
  }

  /** BullMQ's own key prefix; its keys then read `{prefix}:bull:{queue}:...`. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}
