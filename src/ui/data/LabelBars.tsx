import type { DatasetSummary } from '../../engine/api';

/** Bars past which the rest are counted, not drawn: free-text targets come by the thousand. */
const SHOWN_LABELS = 24;

/** How many examples each label has, as bars split into training and validation (the most frequent, when there are many). */
export function LabelBars({ labels: all }: { labels: DatasetSummary['labels'] }) {
  const labels = all.length > SHOWN_LABELS ? [...all].sort((a, b) => b.count - a.count).slice(0, SHOWN_LABELS) : all;
  const max = Math.max(1, ...labels.map((l) => l.count));
  const atMost = labels[labels.length - 1]?.count ?? 0;
  return (
    <figure className="label-bars" data-testid="label-bars">
      <figcaption>Examples per label <span className="legend"><i className="swatch train" /> training <i className="swatch validation" /> validation</span></figcaption>
      <ul>
        {labels.map((l) => (
          <li key={l.name}>
            <span className="bar-label" title={l.name}>{l.name}</span>
            <span className="bar-track" aria-hidden="true">
              <span className="bar train" style={{ width: `${(100 * l.trainCount) / max}%` }} />
              <span className="bar validation" style={{ width: `${(100 * l.validationCount) / max}%` }} />
            </span>
            <span className="bar-value num">{l.count.toLocaleString('en')}<span className="visually-hidden"> ({l.trainCount} training, {l.validationCount} validation)</span></span>
          </li>
        ))}
      </ul>
      {all.length > labels.length && (
        <p className="muted small" data-testid="label-bars-more">and {(all.length - labels.length).toLocaleString('en')} more labels, each with at most {atMost.toLocaleString('en')} {atMost === 1 ? 'example' : 'examples'}</p>
      )}
    </figure>
  );
}
