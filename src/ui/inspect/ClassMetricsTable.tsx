import type { ClassificationReport } from '../../tuning/metrics';

/** Precision, recall and F1 per class, with the macro average. */
export function ClassMetricsTable({ report }: { report: ClassificationReport }) {
  const f = (x: number) => x.toFixed(3);
  return (
    <div className="table-scroll">
      <table className="class-metrics num" data-testid="class-metrics">
        <caption>Per class</caption>
        <thead><tr><th scope="col">Label</th><th scope="col">Precision</th><th scope="col">Recall</th><th scope="col">F1</th><th scope="col">Support</th></tr></thead>
        <tbody>
          {report.perClass.map((m) => (
            <tr key={m.label}><th scope="row">{m.label}</th><td>{f(m.precision)}</td><td>{f(m.recall)}</td><td>{f(m.f1)}</td><td>{m.support}</td></tr>
          ))}
        </tbody>
        <tfoot><tr><th scope="row">Macro F1</th><td /><td /><td>{f(report.macroF1)}</td><td>{report.count}</td></tr></tfoot>
      </table>
    </div>
  );
}
