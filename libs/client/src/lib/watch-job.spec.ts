import { frame, localServer, type LocalServer } from '../testing/local-server';
import { DrydockProblemError } from './problem';
import { SseLimitError } from './sse';
import type { Transport } from './transport';
import { JobStreamError, watchJob, type JobEvent, type WatchJobOptions } from './watch-job';

describe('watchJob', () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const transport = (url: string): Transport => ({ baseUrl: url, fetch: (request) => fetch(request), headers: { authorization: 'Bearer t0ken' } });
  const collect = async (url: string, options: WatchJobOptions = {}): Promise<JobEvent[]> => {
    const events: JobEvent[] = [];
    for await (const event of watchJob(transport(url), 'job-1', { retryDelayMs: 1, ...options })) events.push(event);
    return events;
  };
  const lastEventIds = () => server?.requests.map((request) => request.headers['last-event-id']);

  it('resumes a stream cut after two events with Last-Event-ID 2, and yields every event once, in order, up to the terminal one', async () => {
    server = await localServer((_request, response, index) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (index === 0) {
        response.write(': stream open\n\n' + frame(1, 'STATE', 'QUEUED') + frame(2, 'STATE', 'RUNNING'));
        // Cut mid-stream: the socket goes, the job has not ended.
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      }
      response.end(frame(3, 'LOG') + frame(4, 'STATE', 'SUCCEEDED'));
    });
    const events = await collect(server.url);
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3, 4]);
    expect(lastEventIds()).toEqual([undefined, '2']);
    expect(server.requests.map((request) => [request.url, request.headers['authorization'], request.headers['accept']])).toEqual([
      ['/v1/jobs/job-1/events', 'Bearer t0ken', 'text/event-stream'],
      ['/v1/jobs/job-1/events', 'Bearer t0ken', 'text/event-stream'],
    ]);
  });

  it('resumes a stream that ended cleanly before the terminal event, and starts after a given lastEventId', async () => {
    server = await localServer((_request, response, index) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(index === 0 ? frame(6, 'LOG') : frame(7, 'STATE', 'FAILED'));
    });
    const events = await collect(server.url, { lastEventId: 5 });
    expect(events.map((event) => [event.sequence, event.state])).toEqual([
      [6, null],
      [7, 'FAILED'],
    ]);
    expect(lastEventIds()).toEqual(['5', '6']);
  });

  it('stops reading after the terminal event even when the server keeps the stream open', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(frame(1, 'STATE', 'CANCELLED'));
    });
    expect((await collect(server.url)).map((event) => event.state)).toEqual(['CANCELLED']);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up with a JobStreamError after maxRetries cuts in a row without a new event', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(': nothing\n\n');
    });
    await expect(collect(server.url, { maxRetries: 2 })).rejects.toThrow(JobStreamError);
    expect(server.requests).toHaveLength(3);
  });

  it("carries the code of the server's `event: error` when it gives up", async () => {
    server = await localServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`event: error\ndata: ${JSON.stringify({ code: 'REDIS_UNAVAILABLE', message: 'Redis is away' })}\n\n`);
    });
    const failure = await collect(server.url, { maxRetries: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobStreamError);
    expect((failure as JobStreamError).code).toBe('REDIS_UNAVAILABLE');
  });

  it('throws the problem of a refused stream (404 JOB_NOT_FOUND) at once, without reconnecting', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'https://drydock.dev/problems/job-not-found', title: 'Job not found', status: 404, detail: 'no job job-1', code: 'JOB_NOT_FOUND' }));
    });
    const failure = await collect(server.url).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DrydockProblemError);
    expect(failure).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND', detail: 'no job job-1' });
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a line longer than its bound, without reconnecting to get it again', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${'x'.repeat(64 * 1024)}`);
    });
    await expect(collect(server.url, { maxLineLength: 4096 })).rejects.toThrow(SseLimitError);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an event whose data lines add up past its bound', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 0123456789\n'.repeat(100));
    });
    await expect(collect(server.url, { maxLineLength: 100, maxEventLength: 500 })).rejects.toThrow(/over 500 characters/);
  });

  it("ends with the signal's reason when aborted mid-stream", async () => {
    server = await localServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(frame(1, 'STATE', 'RUNNING'));
    });
    const controller = new AbortController();
    const seen: number[] = [];
    const watching = (async () => {
      for await (const event of watchJob(transport(server.url), 'job-1', { signal: controller.signal })) {
        seen.push(event.sequence);
        controller.abort(new Error('enough'));
      }
    })();
    await expect(watching).rejects.toThrow('enough');
    expect(seen).toEqual([1]);
  });
});
