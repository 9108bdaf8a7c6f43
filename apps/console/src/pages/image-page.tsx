import { imageHistory, inspectImage } from '../api';
import { humanSize, relativeTime } from '../components/format';
import { ProblemAlert } from '../components/problem-alert';
import { useLoad } from '../components/use-load';
import { href } from '../router';
import { useCan } from '../session';
import { ImageActions } from './image-actions';

/** `docker image inspect` and `docker history` for one reference, and what the token may do with it. */
export function ImagePage({ reference, engine }: { reference: string; engine?: string }) {
  const image = useLoad(() => inspectImage(reference, engine), `inspect:${reference}:${engine ?? ''}`);
  const history = useLoad(() => imageHistory(reference, engine), `history:${reference}:${engine ?? ''}`);
  const canWrite = useCan('builder');
  const data = image.data;
  return (
    <>
      <p className="crumbs">
        <a href={href('images')}>Images</a> /
      </p>
      <h1 className="break">{reference}</h1>
      <ProblemAlert problem={image.problem} />
      {data && (
        <>
          <dl className="facts card">
            <dt>Image ID</dt>
            <dd>
              <code>{data.shortId}</code>
            </dd>
            <dt>Created</dt>
            <dd>
              <time dateTime={data.created} title={data.created}>
                {relativeTime(data.created)}
              </time>
            </dd>
            <dt>Size</dt>
            <dd>{humanSize(data.size)}</dd>
            <dt>Platform</dt>
            <dd>
              {data.os}/{data.architecture}
            </dd>
            <dt>Tags</dt>
            <dd className="break">{data.repoTags.map((tag) => `${tag.repository}:${tag.tag}`).join(', ') || '<none>'}</dd>
            <dt>Digests</dt>
            <dd className="break">{data.repoDigests.map((digest) => `${digest.repository}@${digest.digest}`).join(', ') || '—'}</dd>
            <dt>Command</dt>
            <dd className="break">
              <code>{[...(data.config.entrypoint ?? []), ...(data.config.cmd ?? [])].join(' ') || '—'}</code>
            </dd>
            <dt>Containers</dt>
            <dd>{data.containers}</dd>
            {data.engines && data.engines.length > 0 && (
              <>
                <dt>Engines</dt>
                <dd>{data.engines.join(', ')}</dd>
              </>
            )}
          </dl>
          {canWrite && <ImageActions reference={reference} image={data} engine={engine} onChanged={image.reload} />}
          <details className="card">
            <summary>Raw inspect JSON</summary>
            <pre className="raw">{JSON.stringify(data, null, 2)}</pre>
          </details>
        </>
      )}
      <h2>History</h2>
      <ProblemAlert problem={history.problem} />
      {history.data && (
        <table className="cards" aria-label="History">
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Created</th>
              <th scope="col">Created by</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {history.data.map((layer, index) => (
              <tr key={`${layer.id}-${index}`}>
                <td data-label="Layer">
                  <code>{layer.id.startsWith('sha256:') ? layer.id.slice(7, 19) : layer.id}</code>
                </td>
                <td data-label="Created">{relativeTime(layer.created)}</td>
                <td data-label="Created by" className="break">
                  <code>{layer.createdBy}</code>
                </td>
                <td data-label="Size">{humanSize(layer.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
