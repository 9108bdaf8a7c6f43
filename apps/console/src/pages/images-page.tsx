import { useMemo, useState } from 'react';
import { listEngines, listImages, type Image } from '../api';
import { humanSize, relativeTime } from '../components/format';
import { ProblemAlert } from '../components/problem-alert';
import { useLoad } from '../components/use-load';
import { href } from '../router';

/** One line of `docker images`: an image once per repo:tag, a dangling one as <none>. */
interface Row {
  key: string;
  repository: string;
  tag: string;
  ref: string;
  image: Image;
}

type SortKey = 'repository' | 'tag' | 'shortId' | 'created' | 'size';
/** Rows drawn at once: an engine may hold thousands of images, and a table of them all is slow to draw and to read. */
const PAGE_ROWS = 100;

const COLUMNS: Array<[SortKey, string]> = [
  ['repository', 'Repository'],
  ['tag', 'Tag'],
  ['shortId', 'Image ID'],
  ['created', 'Created'],
  ['size', 'Size'],
];

function rowsOf(images: Image[]): Row[] {
  return images.flatMap((image) =>
    image.repoTags.length
      ? image.repoTags.map((repoTag) => ({ key: `${image.id}|${repoTag.repository}:${repoTag.tag}`, repository: repoTag.repository, tag: repoTag.tag, ref: `${repoTag.repository}:${repoTag.tag}`, image }))
      : [{ key: image.id, repository: '<none>', tag: '<none>', ref: image.id, image }],
  );
}

function compare(a: Row, b: Row, key: SortKey): number {
  switch (key) {
    case 'created':
      return Date.parse(a.image.created) - Date.parse(b.image.created);
    case 'size':
      return a.image.size - b.image.size;
    case 'shortId':
      return a.image.shortId.localeCompare(b.image.shortId);
    default:
      return a[key].localeCompare(b[key]);
  }
}

export function ImagesPage() {
  const [engine, setEngine] = useState('');
  const engines = useLoad(listEngines, 'engines');
  const images = useLoad(() => listImages(engine || undefined), `images:${engine}`);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'created', descending: true });
  const several = (engines.data?.length ?? 0) > 1;
  const [shown, setShown] = useState(PAGE_ROWS);

  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const all = rowsOf(images.data ?? []).filter((row) => !needle || `${row.repository}:${row.tag} ${row.image.shortId}`.toLowerCase().includes(needle));
    all.sort((a, b) => compare(a, b, sort.key) * (sort.descending ? -1 : 1));
    return all;
  }, [images.data, filter, sort]);

  const sortBy = (key: SortKey) => setSort((current) => ({ key, descending: current.key === key ? !current.descending : key === 'created' || key === 'size' }));

  return (
    <>
      <div className="page-head">
        <h1>Images</h1>
        <button type="button" className="secondary" onClick={images.reload}>
          Refresh
        </button>
      </div>
      <div className="toolbar">
        <label>
          Filter
          <input type="search" value={filter} placeholder="repository, tag or id" onChange={(event) => setFilter(event.target.value)} />
        </label>
        {several && (
          <label>
            Engine
            <select value={engine} onChange={(event) => setEngine(event.target.value)}>
              <option value="">all engines</option>
              {engines.data?.map((item) => (
                <option key={item.name} value={item.name}>
                  {item.name}
                  {item.healthy ? '' : ' (not answering)'}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <ProblemAlert problem={images.problem ?? engines.problem} />
      {images.loading && !images.data ? (
        <p aria-live="polite">Loading images…</p>
      ) : (
        <table className="cards sortable" aria-label="Images">
          <thead>
            <tr>
              {COLUMNS.map(([key, label]) => (
                <th key={key} scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="sort" onClick={() => sortBy(key)}>
                    {label}
                    <span aria-hidden="true">{sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                </th>
              ))}
              {several && <th scope="col">Engines</th>}
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, shown).map((row) => (
              <tr key={row.key}>
                <td data-label="Repository">
                  <a href={href('images', row.ref, engine)}>{row.repository}</a>
                </td>
                <td data-label="Tag">{row.tag}</td>
                <td data-label="Image ID">
                  <code>{row.image.shortId}</code>
                </td>
                <td data-label="Created">
                  <time dateTime={row.image.created} title={row.image.created}>
                    {relativeTime(row.image.created)}
                  </time>
                </td>
                <td data-label="Size">{humanSize(row.image.size)}</td>
                {several && <td data-label="Engines">{row.image.engines?.join(', ')}</td>}
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + (several ? 1 : 0)}>{filter ? 'No image matches the filter.' : 'No images on this engine.'}</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {rows.length > 0 && (
        <div className="row table-foot">
          <p role="status">
            Showing {Math.min(shown, rows.length)} of {rows.length}
          </p>
          {rows.length > shown && (
            <button type="button" className="secondary" onClick={() => setShown((count) => count + PAGE_ROWS)}>
              Show {Math.min(PAGE_ROWS, rows.length - shown)} more
            </button>
          )}
        </div>
      )}
    </>
  );
}
