import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import { jobEndingEntry } from './job-ending';

const job = (patch: Partial<JobRecord>): JobRecord => ({
  id: 'j1',
  type: JobType.PUSH,
  state: JobState.SUCCEEDED,
  progress: 1,
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  request: { ref: 'localhost:5001/team-a/app:1', password: 'never' },
  result: null,
  error: null,
  team: 'team-a',
  owner: 'builder-a',
  attempts: 1,
  ...patch,
});

describe('jobEndingEntry', () => {
  it('names the job, its owner and team, and what it acted on, never a secret', () => {
    expect(jobEndingEntry(job({}))).toEqual({
      principal: { name: 'builder-a', team: 'team-a', role: '' },
      action: 'job PUSH',
      target: 'jobId=j1 state=SUCCEEDED ref=localhost:5001/team-a/app:1',
      outcome: 'ok',
      requestId: null,
    });
  });

  it('ends with the failure code, or CANCELLED', () => {
    expect(jobEndingEntry(job({ state: JobState.FAILED, error: { code: 'REGISTRY_UNAUTHORIZED', message: 'no' } as JobRecord['error'] })).outcome).toBe('REGISTRY_UNAUTHORIZED');
    expect(jobEndingEntry(job({ state: JobState.CANCELLED })).outcome).toBe('CANCELLED');
    expect(jobEndingEntry(job({ owner: null, team: null })).principal).toEqual({ name: '', team: '', role: '' });
  });
});
