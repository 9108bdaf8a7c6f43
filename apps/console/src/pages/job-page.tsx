import { cancelJob, consoleProblem, getJob, isLiveCut, type JobState } from '../api';
import { percent, relativeTime } from '../components/format';
import { ProblemAlert } from '../components/problem-alert';
import { useAction, useLoad } from '../components/use-load';
import { BuildSteps } from '../jobs/build-steps';
import { LogLines } from '../jobs/log-lines';
import { TransferLayers } from '../jobs/transfer-layers';
import { useJobEvents } from '../jobs/use-job-events';
import { isTerminal } from '../jobs/view';
import { href } from '../router';
import { useCan } from '../session';

export function StateBadge({ state }: { state: JobState | null }) {
  return <span className={`badge state-${(state ?? 'QUEUED').toLowerCase()}`}>{state ?? 'QUEUED'}</span>;
}

/** One job: its record, and its events replayed from the first, then live. */
export function JobPage({ id }: { id: string }) {
  const job = useLoad(() => getJob(id), `job:${id}`);
  const { view, problem } = useJobEvents(id);
  const canCancel = useCan('builder');
  const action = useAction();
  const state = view.state ?? job.data?.state ?? null;
  const type = job.data?.type;
  const cancel = async () => {
    if (await action.run(() => cancelJob(id))) job.reload();
  };
  const failure = view.error ?? job.data?.error ?? null;
  return (
    <>
      <p className="crumbs">
        <a href={href('jobs')}>Jobs</a> /
      </p>
      <div className="page-head">
        <h1 className="break">
          {type ?? 'Job'} <code>{id}</code>
        </h1>
        <span aria-live="polite" data-testid="job-state">
          <StateBadge state={state} />
        </span>
      </div>
      <ProblemAlert problem={job.problem ?? problem ?? action.problem} />
      {job.data && (
        <dl className="facts card">
          <dt>What</dt>
          <dd className="break">
            <code>{describeRequest(job.data.request)}</code>
          </dd>
          <dt>Team</dt>
          <dd>{job.data.team ?? '—'}</dd>
          <dt>Engine</dt>
          <dd>{job.data.engine ?? '—'}</dd>
          <dt>Created</dt>
          <dd>{relativeTime(job.data.createdAt)}</dd>
          <dt>Progress</dt>
          <dd>
            <progress aria-label="Job progress" max={1} value={view.progress ?? (state === 'SUCCEEDED' ? 1 : 0)} /> {percent(view.progress)}
          </dd>
        </dl>
      )}
      {canCancel && !isTerminal(state) && (
        <button type="button" className="danger" onClick={cancel} disabled={action.busy}>
          Cancel job
        </button>
      )}
      {failure && state === 'FAILED' && (
        <div className="failure" role="alert">
          <p className="alert-title">The job failed</p>
          <p className="alert-detail">{failure.message}</p>
          <p className="alert-code">
            <code>{failure.code}</code>
          </p>
        </div>
      )}
      {view.result && <ResultFacts result={view.result} />}
      {(type === 'PULL' || type === 'PUSH') && <TransferLayers view={view} />}
      {type === 'BUILD' && <BuildSteps view={view} />}
      {view.lines.length > 0 && (
        <section>
          <h2>Output</h2>
          <LogLines lines={view.lines} label="Job output" />
        </section>
      )}
      {view.droppedLines > 0 && <p className="hint">{view.droppedLines} more lines not shown.</p>}
      {problem && isLiveCut(problem) && <ProblemAlert problem={consoleProblem(0, problem.code, 'Live updates stopped', 'Reload the page to follow the job again.')} />}
    </>
  );
}

function ResultFacts({ result }: { result: NonNullable<ReturnType<typeof useJobEvents>['view']['result']> }) {
  return (
    <dl className="facts card" aria-label="Result">
      {result.imageId && (
        <>
          <dt>Image</dt>
          <dd className="break">
            <code>{result.imageId}</code>
          </dd>
        </>
      )}
      {result.digest && (
        <>
          <dt>Digest</dt>
          <dd className="break">
            <code>{result.digest}</code>
          </dd>
        </>
      )}
      {result.tags && result.tags.length > 0 && (
        <>
          <dt>Tags</dt>
          <dd className="break">{result.tags.join(', ')}</dd>
        </>
      )}
      {result.steps !== null && result.steps !== undefined && (
        <>
          <dt>Steps</dt>
          <dd>
            {result.steps} ({result.cachedSteps ?? 0} cached)
          </dd>
        </>
      )}
    </dl>
  );
}

function describeRequest(request: Record<string, unknown>): string {
  const pick = ['reference', 'target', 'tags', 'references', 'image'].map((key) => request[key]).find((value) => value !== undefined);
  if (Array.isArray(pick)) return pick.join(', ');
  return typeof pick === 'string' ? pick : JSON.stringify(request).slice(0, 200);
}
