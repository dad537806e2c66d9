import type { ClassificationReport } from '../../tuning/metrics';

/** Gold labels down, predictions across; each cell shaded by its share of the row. */
export function ConfusionMatrix({ labels, report }: { labels: string[]; report: ClassificationReport }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Confusion matrix">
      <table className="confusion" data-testid="confusion-matrix">
        <caption>Confusion matrix <span className="muted small">rows: true label · columns: predicted</span></caption>
        <thead>
          <tr><td />{labels.map((l) => <th key={l} scope="col">{l}</th>)}</tr>
        </thead>
        <tbody>
          {report.confusion.map((row, i) => {
            const total = row.reduce((a, b) => a + b, 0) || 1;
            return (
              <tr key={labels[i]}>
                <th scope="row">{labels[i]}</th>
                {row.map((n, j) => (
                  <td key={j} className={`num${i === j ? ' diagonal' : ''}`} style={{ ['--share' as string]: n / total }}>{n}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
