import { Inject, Optional } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import type { JobEvent, JobRecord } from '@drydock/jobs';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { viewerOf } from '../auth/requester';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { JobEventModel, JobModel, JobPageModel } from './job.model';
import { JobEventsArgs, JobUpdatedArgs, ListJobsQuery } from './jobs.dto';
import { JobsService } from './jobs.service';

/**
 * Wraps a generator so that a client's unsubscribe (graphql-ws calls
 * `return()`) aborts the underlying Redis follow at once.
 */
function cancellable<T>(start: (signal: AbortSignal) => Promise<AsyncGenerator<T>> | AsyncGenerator<T>): AsyncIterableIterator<T> {
  const abort = new AbortController();
  const source = Promise.resolve(start(abort.signal));
  return {
    async next() {
      return (await source).next();
    },
    async return() {
      abort.abort();
      await (await source.catch(() => null))?.return(undefined);
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      abort.abort();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Tells `observe` of each event as it is handed to graphql-ws, which writes it to the socket. */
async function* delivered(events: AsyncGenerator<JobEvent>, observe: (event: JobEvent) => void): AsyncGenerator<JobEvent> {
  for await (const event of events) {
    observe(event);
    yield event;
  }
}

@Resolver(() => JobModel)
export class JobsResolver {
  constructor(
    private readonly service: JobsService,
    @Optional() @Inject(DrydockMetrics) private readonly metrics: DrydockMetrics | null = null,
  ) {}

  @Query(() => JobModel, { nullable: true })
  @RequireRole('viewer')
  job(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<JobRecord | null> {
    return this.service.find(id, viewerOf(principal));
  }

  @Query(() => [JobModel])
  @RequireRole('viewer')
  jobs(@Args() args: ListJobsQuery, @CurrentPrincipal() principal: Principal): Promise<JobRecord[]> {
    return this.service.list(args, viewerOf(principal));
  }

  @Query(() => JobPageModel, { description: 'jobs, newest first, a page at a time: pass `nextCursor` back as `cursor`' })
  @RequireRole('viewer')
  jobsPage(@Args() args: ListJobsQuery, @CurrentPrincipal() principal: Principal): Promise<JobPageModel> {
    return this.service.page(args, viewerOf(principal));
  }

  @Mutation(() => JobModel)
  @RequireRole('builder')
  cancelJob(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<JobRecord> {
    return this.service.cancel(id, viewerOf(principal));
  }

  @Subscription(() => JobEventModel, {
    description: 'replays from fromSequence (default 1), then live; completes after the terminal event',
    resolve: (event: JobEvent) => event,
  })
  @RequireRole('viewer')
  jobEvents(@Args() args: JobEventsArgs, @CurrentPrincipal() principal: Principal): AsyncIterableIterator<JobEvent> {
    const subscribedAt = Date.now();
    return cancellable(async (signal) =>
      delivered(await this.service.events(args.jobId, args.fromSequence ?? 1, signal, viewerOf(principal)), (event) =>
        this.metrics?.eventDelivered('graphql_ws', event.at, subscribedAt),
      ),
    );
  }

  @Subscription(() => JobModel, { resolve: (record: JobRecord) => record })
  @RequireRole('viewer')
  jobUpdated(@Args() args: JobUpdatedArgs, @CurrentPrincipal() principal: Principal): AsyncIterableIterator<JobRecord> {
    return cancellable((signal) => this.service.watch(args, signal, viewerOf(principal)));
  }
}
