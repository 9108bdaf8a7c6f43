import { useState, type FormEvent } from 'react';
import { buildImage, buildImageFromTar, consoleProblem, listEngines } from '../api';
import { folderEntries, packTar } from '../build/tar';
import { ProblemAlert } from '../components/problem-alert';
import { useAction, useLoad } from '../components/use-load';
import { go } from '../router';
import { useSession } from '../session';

type Source = 'editor' | 'tar' | 'folder';
interface ArgRow {
  id: number;
  key: string;
  value: string;
}

const STARTER = 'FROM busybox\nRUN echo hello\n';

function words(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((word) => word.trim())
    .filter(Boolean);
}

/** `docker build` from a Dockerfile typed here, a tar, or a folder packed into a tar in the browser. */
export function BuildPage() {
  const { me } = useSession();
  const [source, setSource] = useState<Source>('editor');
  const [dockerfile, setDockerfile] = useState(STARTER);
  const [tags, setTags] = useState('');
  const [args, setArgs] = useState<ArgRow[]>([]);
  const [secrets, setSecrets] = useState('');
  const [engine, setEngine] = useState('');
  const [files, setFiles] = useState<FileList | null>(null);
  const engines = useLoad(listEngines, 'engines');
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const buildArgs = Object.fromEntries(args.filter((row) => row.key.trim()).map((row) => [row.key.trim(), row.value]));
    const common = { tags: words(tags), buildArgs, secrets: words(secrets), engine: engine || undefined };
    const job = await action.run(async () => {
      if (source === 'editor') return buildImage({ ...common, dockerfile });
      if (!files || files.length === 0) throw consoleProblem(0, 'VALIDATION_FAILED', 'No context chosen', source === 'tar' ? 'Choose a tar file.' : 'Choose a folder.');
      const context = source === 'tar' ? (files[0] as File) : packTar(folderEntries(files));
      return buildImageFromTar(context, common);
    });
    if (job) go('jobs', job.id);
  };

  const setArg = (id: number, field: 'key' | 'value', value: string) => setArgs((rows) => rows.map((row) => (row.id === id ? { ...row, [field]: value } : row)));

  return (
    <>
      <h1>Build an image</h1>
      <form className="card stack" onSubmit={submit}>
        <fieldset className="segmented">
          <legend>Context</legend>
          {(
            [
              ['editor', 'Write a Dockerfile'],
              ['tar', 'Upload a tar'],
              ['folder', 'Upload a folder'],
            ] as Array<[Source, string]>
          ).map(([value, label]) => (
            <label key={value}>
              <input type="radio" name="source" value={value} checked={source === value} onChange={() => setSource(value)} /> {label}
            </label>
          ))}
        </fieldset>
        {source === 'editor' && (
          <>
            <label htmlFor="dockerfile">Dockerfile</label>
            <textarea id="dockerfile" className="editor" spellCheck={false} rows={12} value={dockerfile} onChange={(event) => setDockerfile(event.target.value)} />
          </>
        )}
        {source === 'tar' && (
          <>
            <label htmlFor="context-tar">Context tar (may be gzipped)</label>
            <input id="context-tar" type="file" accept=".tar,.tgz,.tar.gz,application/x-tar,application/gzip" onChange={(event) => setFiles(event.target.files)} />
          </>
        )}
        {source === 'folder' && (
          <>
            <label htmlFor="context-folder">Context folder (packed into a tar here, with its Dockerfile)</label>
            <input
              id="context-folder"
              type="file"
              multiple
              onChange={(event) => setFiles(event.target.files)}
              ref={(input) => input?.setAttribute('webkitdirectory', '')}
            />
          </>
        )}
        <label htmlFor="tags">Tags (space or comma separated)</label>
        <input id="tags" required value={tags} placeholder={me.namespaces[0] ? `e.g. ${me.namespaces[0].replace(/\*\*?/g, 'app')}:1` : 'team/app:1'} onChange={(event) => setTags(event.target.value)} />
        <fieldset className="stack">
          <legend>Build args</legend>
          {args.map((row) => (
            <div className="row" key={row.id}>
              <label>
                Name
                <input value={row.key} onChange={(event) => setArg(row.id, 'key', event.target.value)} />
              </label>
              <label>
                Value
                <input value={row.value} onChange={(event) => setArg(row.id, 'value', event.target.value)} />
              </label>
              <button type="button" className="secondary" onClick={() => setArgs((rows) => rows.filter((candidate) => candidate.id !== row.id))}>
                Remove arg
              </button>
            </div>
          ))}
          <button type="button" className="secondary" onClick={() => setArgs((rows) => [...rows, { id: Date.now() + rows.length, key: '', value: '' }])}>
            Add build arg
          </button>
        </fieldset>
        <label htmlFor="secrets">Secret ids (for RUN --mount=type=secret)</label>
        <input id="secrets" value={secrets} placeholder="npmrc, deploy-key" onChange={(event) => setSecrets(event.target.value)} />
        {(engines.data?.length ?? 0) > 1 && (
          <>
            <label htmlFor="build-engine">Engine</label>
            <select id="build-engine" value={engine} onChange={(event) => setEngine(event.target.value)}>
              <option value="">routed by the API</option>
              {engines.data?.map((item) => (
                <option key={item.name}>{item.name}</option>
              ))}
            </select>
          </>
        )}
        <button type="submit" disabled={action.busy}>
          Build
        </button>
      </form>
      <ProblemAlert problem={action.problem ?? engines.problem} />
    </>
  );
}
