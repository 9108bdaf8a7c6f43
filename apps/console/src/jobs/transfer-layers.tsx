import type { JobLayer } from '../api';
import { humanSize, percent } from '../components/format';
import { layerTotals, type JobView } from './view';

const FINISHED = /complete|Pushed|already exists|Mounted from/i;

function layerValue(layer: JobLayer): { value: number; max: number } | null {
  if (!layer.total) return FINISHED.test(layer.status) ? { value: 1, max: 1 } : null;
  const current = layer.current ?? (FINISHED.test(layer.status) ? layer.total : 0);
  return { value: Math.min(current, layer.total), max: layer.total };
}

/** Per-layer bars as `docker pull` and `docker push` draw them, and the totals under them. */
export function TransferLayers({ view }: { view: JobView }) {
  const totals = layerTotals(view);
  const layers = [...view.layers.values()];
  return (
    <section aria-labelledby="layers-title">
      <h2 id="layers-title">Layers</h2>
      <p className="totals" data-testid="transfer-totals">
        {layers.length} layer{layers.length === 1 ? '' : 's'}
        {totals.total > 0 && ` · ${humanSize(totals.current)} of ${humanSize(totals.total)}`}
        {view.progress !== null && ` · ${percent(view.progress)} overall`}
      </p>
      <ul className="layers">
        {layers.map((layer) => {
          const bar = layerValue(layer);
          return (
            <li key={layer.id} className="layer">
              <code className="layer-id">{layer.id}</code>
              <span className="layer-status">{layer.status}</span>
              {bar ? (
                <progress className="layer-bar" aria-label={`Layer ${layer.id}`} max={bar.max} value={bar.value} />
              ) : (
                <progress className="layer-bar" aria-label={`Layer ${layer.id}`} />
              )}
              <span className="layer-bytes">{layer.total ? `${humanSize(layer.current ?? 0)} / ${humanSize(layer.total)}` : ''}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
