import { Cluster } from 'ioredis';
import { duplicateRedis, type RedisClient } from './redis-target';
import type { JobEventStore } from './event-store';
import type { JobKeys } from './keys';
import { type JobEvent, type JobRecord, type JobState, type JobType, isTerminalEvent } from './model';

export interface JobEventBusOptions {
  /** Where subscriber errors go (a reconnecting Redis, a malformed message). Default: console.error. */
  onError?: (error: Error) => void;
  /** Events read from the store at once when replaying. Default 500. */
  pageSize?: number;
  /** Live events held for a follower that does not keep up; past it the follower re-reads the store. Default 1000. */
  inboxLimit?: number;
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_INBOX_LIMIT = 1000;

export interface JobWatchFilter {
  type?: JobType;
  state?: JobState;
}

/** Tells a follower to re-read the store: the subscriber reconnected and may have missed messages. */
const RESYNC = Symbol('resync');
/** Tells an iterator the bus is closing. */
const CLOSED = Symbol('closed');

type Signal<T> = T | typeof RESYNC | typeof CLOSED;

/**
 * The process's one Redis subscriber: a pattern subscription for every job's
 * events, plus the record-change and cancel channels, fanned out to local
 * listeners. Any number of SSE streams, GraphQL subscriptions and workers
 * share it, so connections do not grow with clients.
 */
export class JobEventBus {
  private readonly keys: JobKeys;
  private readonly subscriber: RedisClient;
  private readonly followers = new Map<string, Set<Inbox<Signal<JobEvent>>>>();
  private readonly watchers = new Set<Inbox<Signal<JobRecord>>>();
  private readonly cancelListeners = new Set<(jobId: string) => void>();
  private readonly onError: (error: Error) => void;
  private readonly pageSize: number;
  private readonly inboxLimit: number;
  private readonly ready: Promise<void>;
  private connectedOnce = false;
  private closed = false;

  /** `redis` is only duplicated: the bus owns (and closes) its subscriber connection. */
  constructor(
    redis: RedisClient,
    private readonly events: JobEventStore,
    options: JobEventBusOptions = {},
  ) {
    this.keys = events.keys;
    this.onError = options.onError ?? ((error) => console.error('[jobs] event bus:', error));
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.inboxLimit = options.inboxLimit ?? DEFAULT_INBOX_LIMIT;
    // Subscriptions must queue while connecting and retry forever, whatever the shared client chose.
    this.subscriber = duplicateRedis(redis, { enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: false });
    this.subscriber.on('error', (error: Error) => this.onError(error));
    this.subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => this.onEvent(message));
    this.subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.subscriber.on('ready', () => this.onReady());
    // A Cluster moves its subscription to another node when the node holding it goes, without a
    // 'ready': a node leaving is when messages may have been missed.
    if (this.subscriber instanceof Cluster) this.subscriber.on('-node', () => this.resync());
    this.ready = this.subscribe();
    // Callers see a failed subscription through follow()/watchJobs(); this only avoids an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /**
   * The job's events from `fromSequence` on: first the stored ones, then live
   * ones, with no gap and no duplicate, ending after the terminal STATE
   * event (or when `signal` aborts or the bus closes). The caller checks the
   * job exists: for an unknown job this waits for events that never come.
   *
   * Memory per follower is bounded whatever the job's length and however
   * slowly the caller reads: the replay reads the store a page at a time, as
   * the caller asks for events, and live events that pile up past the inbox
   * limit are let go and re-read from the store when the caller gets there.
   */
  async *follow(jobId: string, fromSequence = 1, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    // Listen before reading the store, so nothing published meanwhile is lost;
    // what the replay already covered is skipped by sequence below.
    const inbox = new Inbox<Signal<JobEvent>>(this.inboxLimit, RESYNC);
    const listeners = this.followers.get(jobId) ?? new Set();
    listeners.add(inbox);
    this.followers.set(jobId, listeners);
    try {
      if (this.closed) return;
      await this.ready;
      let next = Math.max(1, Math.floor(fromSequence));
      let replay = true;
      while (!signal?.aborted) {
        if (replay) {
          const page = await this.events.range(jobId, next, this.pageSize);
          // A short page is the end of what is stored: live events take over.
          replay = page.length === this.pageSize;
          for (const event of page) {
            if (event.sequence < next) continue;
            yield event;
            next = event.sequence + 1;
            if (isTerminalEvent(event)) return;
          }
          if (!replay && (await this.events.isClosed(jobId))) {
            // Resumed after the terminal event: nothing more will ever come. Else the rest, the end included, is stored.
            if ((await this.events.count(jobId)) < next) return;
            replay = true;
          }
          continue;
        }
        const item = await inbox.take(signal);
        if (item === undefined || item === CLOSED) return;
        // A sequence ahead of the expected one means a message was missed (a
        // reconnect): the store has everything, so read the gap from it.
        if (item === RESYNC || item.sequence > next) {
          replay = true;
          continue;
        }
        if (item.sequence < next) continue;
        yield item;
        next = item.sequence + 1;
        if (isTerminalEvent(item)) return;
      }
    } finally {
      listeners.delete(inbox);
      if (listeners.size === 0 && this.followers.get(jobId) === listeners) this.followers.delete(jobId);
    }
  }

  /** Every job record change from now on (live only), until `signal` aborts or the bus closes. */
  async *watchJobs(signal?: AbortSignal, filter: JobWatchFilter = {}): AsyncGenerator<JobRecord> {
    // A watcher that does not keep up misses record changes rather than holding them all: the feed is live only.
    const inbox = new Inbox<Signal<JobRecord>>(this.inboxLimit, RESYNC);
    this.watchers.add(inbox);
    try {
      if (this.closed) return;
      await this.ready;
      while (!signal?.aborted) {
        const item = await inbox.take(signal);
        if (item === undefined || item === CLOSED) return;
        if (item === RESYNC) continue;
        if (filter.type !== undefined && item.type !== filter.type) continue;
        if (filter.state !== undefined && item.state !== filter.state) continue;
        yield item;
      }
    } finally {
      this.watchers.delete(inbox);
    }
  }

  /** Calls `listener` with the id of every job whose cancellation is requested, in any process. */
  onCancelRequested(listener: (jobId: string) => void): () => void {
    this.cancelListeners.add(listener);
    return () => this.cancelListeners.delete(listener);
  }

  /** Resolves once the subscriptions are active: what is published after this is delivered. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const listeners of this.followers.values()) for (const inbox of listeners) inbox.push(CLOSED);
    for (const inbox of this.watchers) inbox.push(CLOSED);
    this.cancelListeners.clear();
    // Not quit(): it would wait for ever on a Redis that is gone, and a subscriber has nothing to flush.
    this.subscriber.disconnect();
  }

  private async subscribe(): Promise<void> {
    await this.subscriber.psubscribe(this.keys.eventChannelPattern);
    await this.subscriber.subscribe(this.keys.recordChannel, this.keys.cancelChannel);
  }

  private onReady(): void {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    this.resync();
  }

  private resync(): void {
    // Reconnected: messages published while away are gone. Make sure the
    // subscriptions are back before telling followers to re-read the store.
    this.subscribe().then(
      () => {
        for (const listeners of this.followers.values()) for (const inbox of listeners) inbox.push(RESYNC);
      },
      (error: Error) => this.onError(error),
    );
  }

  private onEvent(message: string): void {
    const event = this.parse<JobEvent>(message);
    if (!event) return;
    const listeners = this.followers.get(event.jobId);
    if (listeners) for (const inbox of listeners) inbox.push(event);
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.keys.cancelChannel) {
      for (const listener of this.cancelListeners) {
        try {
          listener(message);
        } catch (error) {
          this.onError(error instanceof Error ? error : new Error(String(error)));
        }
      }
    } else if (channel === this.keys.recordChannel) {
      const record = this.parse<JobRecord>(message);
      if (record) for (const inbox of this.watchers) inbox.push(record);
    }
  }

  private parse<T>(message: string): T | undefined {
    try {
      return JSON.parse(message) as T;
    } catch (error) {
      this.onError(new Error('malformed message on a jobs channel', { cause: error }));
      return undefined;
    }
  }
}

/**
 * A single-consumer queue whose take() can be abandoned through a signal.
 * Past `limit` items it lets them all go for one `overflow` item, which tells
 * the consumer to fetch what it missed from where it is kept.
 */
class Inbox<T> {
  private items: T[] = [];
  private waiter: ((item: T) => void) | undefined;

  constructor(
    private readonly limit = Number.POSITIVE_INFINITY,
    private readonly overflow?: T,
  ) {}

  push(item: T): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(item);
    } else if (this.items.length >= this.limit && this.overflow !== undefined) {
      this.items = [this.overflow];
    } else {
      this.items.push(item);
    }
  }

  /** The next item, or undefined if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<T | undefined> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiter = undefined;
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (item) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(item);
      };
    });
  }
}
