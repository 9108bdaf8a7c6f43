import { useEffect, useState } from 'react';
import { JOB_STATES, JOB_TYPES, listEngines, listJobs, subscribeJobUpdated, type DrydockProblemError, type JobFilter, type JobState, type JobSummary, type JobType } from '../api';
import { percent, relativeTime } from '../components/format';
import { ProblemAlert } from '../components/problem-alert';
import { useLoad } from '../components/use-load';
import { href } from '../router';
import { useSession } from '../session';
import { StateBadge } from './job-page';

function matches(job: JobSummary, filter: JobFilter): boolean {
  return (!filter.type || job.type === filter.type) && (!filter.state || job.state === filter.state) && (!filter.team || job.team === filter.team) && (!filter.engine || job.engine === filter.engine);
}

/** The newest jobs, kept current by the jobUpdated subscription. */
export function JobsPage() {
  const { me } = useSession();
  const [filter, setFilter] = useState<JobFilter>({});
  const engines = useLoad(listEngines, 'engines');
  const listed = useLoad(() => listJobs({ ...filter, limit: 100 }), `jobs:${JSON.stringify(filter)}`);
  const [jobs, setJobs] = useState<JobSummary[]>([]);
  const [liveProblem, setLiveProblem] = useState<DrydockProblemError | null>(null);

  useEffect(() => setJobs(listed.data ?? []), [listed.data]);
  useEffect(
    () =>
      subscribeJobUpdated({
        next: (job) =>
          setJobs((current) => {
            const index = current.findIndex((candidate) => candidate.id === job.id);
            if (index >= 0) return current.map((candidate, at) => (at === index ? { ...candidate, ...job } : candidate));
            return matches(job, filter) ? [job, ...current].slice(0, 200) : current;
          }),
        error: setLiveProblem,
      }),
    [filter],
  );

  const set = (key: keyof JobFilter, value: string) => setFilter((current) => ({ ...current, [key]: value || undefined }));
  const shown = jobs.filter((job) => matches(job, filter));
  return (
    <>
      <h1>Jobs</h1>
      <div className="toolbar">
        <label>
          State
          <select value={filter.state ?? ''} onChange={(event) => set('state', event.target.value as JobState)}>
            <option value="">any</option>
            {JOB_STATES.map((state) => (
              <option key={state}>{state}</option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={filter.type ?? ''} onChange={(event) => set('type', event.target.value as JobType)}>
            <option value="">any</option>
            {JOB_TYPES.map((type) => (
              <option key={type}>{type}</option>
            ))}
          </select>
        </label>
        {me.role === 'admin' && (
          <label>
            Team
            <input value={filter.team ?? ''} placeholder="every team" onChange={(event) => set('team', event.target.value.trim())} />
          </label>
        )}
        {(engines.data?.length ?? 0) > 1 && (
          <label>
            Engine
            <select value={filter.engine ?? ''} onChange={(event) => set('engine', event.target.value)}>
              <option value="">any</option>
              {engines.data?.map((engine) => (
                <option key={engine.name}>{engine.name}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      <ProblemAlert problem={listed.problem ?? liveProblem} />
      <table className="cards" aria-label="Jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Type</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Team</th>
            <th scope="col">Engine</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((job) => (
            <tr key={job.id}>
              <td data-label="Job">
                <a href={href('jobs', job.id)}>
                  <code>{job.id}</code>
                </a>
              </td>
              <td data-label="Type">{job.type}</td>
              <td data-label="State">
                <StateBadge state={job.state} />
                {job.position ? ` #${job.position}` : ''}
              </td>
              <td data-label="Progress">{percent(job.progress)}</td>
              <td data-label="Team">{job.team ?? '—'}</td>
              <td data-label="Engine">{job.engine ?? '—'}</td>
              <td data-label="Created">{relativeTime(job.createdAt)}</td>
            </tr>
          ))}
          {shown.length === 0 && !listed.loading && (
            <tr>
              <td colSpan={7}>No jobs match.</td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
