import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import { endingEvents, payloadOf } from './webhook-events';

function job(type: JobType, state: JobState): JobRecord {
  return {
    id: 'j1', type, state, progress: 1, createdAt: 't0', startedAt: 't1', finishedAt: 't2',
    request: { dockerfile: 'FROM scratch', buildArgs: { TOKEN: 'x' } },
    result: { imageId: 'sha256:abc', tags: ['team-a/app:1'] }, error: null, team: 'team-a', owner: 'ci', attempts: 1, engine: 'default',
  };
}

describe('endingEvents', () => {
  it('tells of a succeeded build as job.succeeded and image.built, for the job\'s team', () => {
    const events = endingEvents(job(JobType.BUILD, JobState.SUCCEEDED));
    expect(events.map((e) => [e.type, e.team])).toEqual([['job.succeeded', 'team-a'], ['image.built', 'team-a']]);
    expect(events[1]?.data['image']).toEqual({ id: 'sha256:abc', digest: null, tags: ['team-a/app:1'] });
  });

  it('tells of pushes and pulls as image.pushed and image.pulled, and of a run as the job alone', () => {
    expect(endingEvents(job(JobType.PUSH, JobState.SUCCEEDED)).map((e) => e.type)).toEqual(['job.succeeded', 'image.pushed']);
    expect(endingEvents(job(JobType.PULL, JobState.SUCCEEDED)).map((e) => e.type)).toEqual(['job.succeeded', 'image.pulled']);
    expect(endingEvents(job(JobType.RUN, JobState.SUCCEEDED)).map((e) => e.type)).toEqual(['job.succeeded']);
  });

  it('makes no image event of a failed or cancelled build', () => {
    expect(endingEvents(job(JobType.BUILD, JobState.FAILED)).map((e) => e.type)).toEqual(['job.failed']);
    expect(endingEvents(job(JobType.BUILD, JobState.CANCELLED)).map((e) => e.type)).toEqual(['job.cancelled']);
    expect(endingEvents(job(JobType.BUILD, JobState.RUNNING))).toEqual([]);
  });

  it("never sends the job's request, which may hold a Dockerfile and build arguments", () => {
    const [event] = endingEvents(job(JobType.BUILD, JobState.SUCCEEDED));
    const body = payloadOf(event as never, new Date(0));
    expect(body).not.toContain('buildArgs');
    expect(JSON.parse(body)).toMatchObject({ type: 'job.succeeded', timestamp: '1970-01-01T00:00:00.000Z', data: { job: { id: 'j1' } } });
  });
});
