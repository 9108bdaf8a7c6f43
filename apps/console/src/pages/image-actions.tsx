import { useEffect, useState, type FormEvent } from 'react';
import { exportImage, jobArtifact, jobProblem, problemOf, pushImage, removeImage, tagImage, type DrydockProblemError, type Image, type Job } from '../api';
import { ProblemAlert } from '../components/problem-alert';
import { useAction } from '../components/use-load';
import { useJobEvents } from '../jobs/use-job-events';
import { go, href } from '../router';

/** A 409 from `docker rmi` in words: what holds the image, and what would let it go. */
export function explainConflict(problem: DrydockProblemError, image: Image): string | null {
  if (problem.status !== 409) return null;
  if (image.containers > 0 || /container/i.test(problem.detail)) {
    return `A container still uses this image (${image.containers || 'at least one'}). Remove the container first, or force the removal to untag it anyway.`;
  }
  if (image.repoTags.length > 1 || /multiple|referenced|tags/i.test(problem.detail)) {
    return `This image has ${image.repoTags.length} tags. Remove one tag by its name, or force the removal to delete every tag.`;
  }
  return 'The engine refused to remove this image as it stands; forcing the removal may succeed.';
}

export function ImageActions({ reference, image, engine, onChanged }: { reference: string; image: Image; engine?: string; onChanged(): void }) {
  const action = useAction();
  const [repository, setRepository] = useState('');
  const [tag, setTag] = useState('latest');
  const [message, setMessage] = useState('');
  const [exportJob, setExportJob] = useState<Job | null>(null);
  const conflict = action.problem ? explainConflict(action.problem, image) : null;

  const submitTag = async (event: FormEvent) => {
    event.preventDefault();
    const tagged = await action.run(() => tagImage(reference, repository.trim(), tag.trim(), engine));
    if (tagged) {
      setMessage(`Tagged ${repository.trim()}:${tag.trim()}`);
      onChanged();
    }
  };
  const push = async () => {
    const job = await action.run(() => pushImage(reference, false, engine));
    if (job) go('jobs', job.id);
  };
  const remove = async (force: boolean) => {
    if (!window.confirm(`Remove ${reference}${force ? ' (forced)' : ''}?`)) return;
    const result = await action.run(() => removeImage(reference, force, engine));
    if (result) {
      setMessage(`Untagged ${result.untagged.length}, deleted ${result.deleted.length}`);
      location.hash = href('images');
    }
  };
  const startExport = async () => {
    const job = await action.run(() => exportImage(reference, [reference]));
    if (job) setExportJob(job);
  };

  return (
    <section className="card stack" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div className="row">
        <button type="button" onClick={push} disabled={action.busy}>
          Push
        </button>
        <button type="button" className="secondary" onClick={startExport} disabled={action.busy}>
          Export as tar
        </button>
        <button type="button" className="danger" onClick={() => remove(false)} disabled={action.busy}>
          Remove
        </button>
      </div>
      <form className="row" onSubmit={submitTag} aria-label="Tag this image">
        <label>
          New repository
          <input required value={repository} placeholder="localhost:5001/team/app" onChange={(event) => setRepository(event.target.value)} />
        </label>
        <label>
          Tag
          <input required value={tag} onChange={(event) => setTag(event.target.value)} />
        </label>
        <button type="submit" disabled={action.busy}>
          Tag
        </button>
      </form>
      {message && <p role="status">{message}</p>}
      <ProblemAlert problem={action.problem} onDismiss={action.clear} />
      {conflict && (
        <div className="explain">
          <p>{conflict}</p>
          <button type="button" className="danger" onClick={() => remove(true)}>
            Remove anyway (force)
          </button>
        </div>
      )}
      {exportJob && <ExportDownload job={exportJob} reference={reference} />}
    </section>
  );
}

/** Follows an EXPORT job; once it succeeded, fetches the tar with the token and offers it as a download. */
function ExportDownload({ job, reference }: { job: Job; reference: string }) {
  const { view, problem } = useJobEvents(job.id);
  const [url, setUrl] = useState<string | null>(null);
  const [fetchProblem, setFetchProblem] = useState<DrydockProblemError | null>(null);
  useEffect(() => {
    if (view.state !== 'SUCCEEDED' || url) return;
    jobArtifact(job.id).then(
      (blob) => setUrl(URL.createObjectURL(blob)),
      (error: unknown) => setFetchProblem(problemOf(error)),
    );
  }, [view.state, job.id, url]);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  const file = `${reference.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`;
  return (
    <div className="stack">
      <p role="status">
        Export <a href={href('jobs', job.id)}>{job.id}</a>: {view.state ?? 'QUEUED'}
      </p>
      {url && (
        <a className="button" href={url} download={file}>
          Download {file}
        </a>
      )}
      <ProblemAlert problem={problem ?? fetchProblem ?? (view.error ? jobProblem(view.error, 'The export failed') : null)} />
    </div>
  );
}
