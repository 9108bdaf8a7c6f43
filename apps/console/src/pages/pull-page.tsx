import { useState, type FormEvent } from 'react';
import { listEngines, pullImage } from '../api';
import { ProblemAlert } from '../components/problem-alert';
import { useAction, useLoad } from '../components/use-load';
import { go } from '../router';

/** `docker pull`: queues the job, then shows it live on its own page. */
export function PullPage() {
  const [reference, setReference] = useState('');
  const [engine, setEngine] = useState('');
  const engines = useLoad(listEngines, 'engines');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const job = await action.run(() => pullImage(reference.trim(), engine || undefined));
    if (job) go('jobs', job.id);
  };
  return (
    <>
      <h1>Pull an image</h1>
      <form className="card stack" onSubmit={submit}>
        <label htmlFor="pull-reference">Reference</label>
        <input id="pull-reference" required value={reference} placeholder="localhost:5001/team/app:1" onChange={(event) => setReference(event.target.value)} />
        {(engines.data?.length ?? 0) > 1 && (
          <>
            <label htmlFor="pull-engine">Engine</label>
            <select id="pull-engine" value={engine} onChange={(event) => setEngine(event.target.value)}>
              <option value="">the least busy</option>
              {engines.data?.map((item) => (
                <option key={item.name}>{item.name}</option>
              ))}
            </select>
          </>
        )}
        <button type="submit" disabled={action.busy}>
          Pull
        </button>
      </form>
      <ProblemAlert problem={action.problem ?? engines.problem} />
    </>
  );
}
