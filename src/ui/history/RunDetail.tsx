import { listSome } from '../../data';
import { useHistoryStore, type ViewedRun } from '../../state/historyStore';
import { formatNumber, formatPercent } from '../format';
import { LossChart } from '../train/LossChart';

/** A stored run, read-only: its settings, data, headline metrics and curves. */
export function RunDetail({ viewed }: { viewed: ViewedRun }) {
  const close = useHistoryStore((s) => s.closeViewed);
  const { run, metrics, series, points } = viewed;
  const c = run.config;
  return (
    <div className="run-detail" data-testid="run-detail" data-run-id={run.id} data-points={points}>
      <div className="subheader">
        <h3>{run.name} <span className="muted small">(read-only)</span></h3>
        <button type="button" className="secondary" onClick={close} data-testid="close-run">Close</button>
      </div>
      <dl className="headline num">
        <div><dt>Best accuracy</dt><dd data-testid="detail-best">{formatPercent(metrics.bestAccuracy)}</dd></div>
        <div><dt>Last accuracy</dt><dd>{formatPercent(metrics.lastEvaluation?.report.accuracy)}</dd></div>
        <div><dt>Zero-shot</dt><dd>{formatPercent(metrics.zeroShot?.report.accuracy)}</dd></div>
        <div><dt>Discrete projection</dt><dd>{formatPercent(metrics.discrete?.report.accuracy)}</dd></div>
        <div><dt>Last loss</dt><dd>{formatNumber(metrics.lastLoss)}</dd></div>
      </dl>
      <dl className="facts run-facts">
        <div><dt>Status</dt><dd>{run.status}{run.error ? `: ${run.error}` : ''}</dd></div>
        <div><dt>Steps</dt><dd>{run.summary.step} of {run.summary.totalSteps}</dd></div>
        <div><dt>Model</dt><dd>{run.model.name}</dd></div>
        <div><dt>Data</dt><dd>{run.data.fileName} ({run.data.trainCount} training, {run.data.validationCount} validation rows)</dd></div>
        <div><dt>Method</dt><dd>{String(c.method)}, {String(c.numVirtualTokens)} virtual tokens, {String(c.optimizer)} lr {String(c.learningRate)}, batch {String(c.batchSize)}</dd></div>
        <div><dt>Labels</dt><dd>{listSome(run.labels.map((l) => `${l} → “${run.verbalizer[l] ?? ''}”`), 12)}</dd></div>
        <div><dt>Checkpoint</dt><dd>{typeof run.checkpointStep === 'number' ? `step ${run.checkpointStep}` : 'none'}</dd></div>
      </dl>
      <LossChart series={series} testId="history-chart" label={`Training loss, smoothed loss and validation loss by step of ${run.name}; validation accuracy on the right axis.`} />
    </div>
  );
}
