import type { DatasetSummary } from '../../engine/api';

/** How many examples each label has, as bars split into training and validation. */
export function LabelBars({ labels }: { labels: DatasetSummary['labels'] }) {
  const max = Math.max(1, ...labels.map((l) => l.count));
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
    </figure>
  );
}
