import { useShallow } from 'zustand/react/shallow';
import { useProjectionStore } from '../../state/projectionStore';
import { useSettingsStore } from '../../state/settingsStore';
import { useTrainingStore } from '../../state/trainingStore';
import type { ProjectionMetric } from '../../tuning/projection';
import { SegmentedControl } from '../SegmentedControl';
import { ProjectionGrid } from './ProjectionGrid';
import { ProjectionSkeleton } from './ProjectionSkeleton';
import { WaywardnessNote } from './WaywardnessNote';

const METRICS: readonly { value: ProjectionMetric; label: string }[] = [
  { value: 'cosine', label: 'Cosine' },
  { value: 'dot', label: 'Dot product' },
  { value: 'l2', label: 'L2 distance' },
];

/** What each virtual token is nearest to in the vocabulary, live as the prompt trains. */
export function ProjectionPanel() {
  const { current, previous, metric, updates, setMetric } = useProjectionStore(useShallow((s) => ({
    current: s.current, previous: s.previous, metric: s.metric, updates: s.updates, setMetric: s.setMetric,
  })));
  const empty = current !== null && current.projection.k === 0;
  // Before the first projection: the run's (or the settings') shape, to hold the space.
  const shape = useTrainingStore((s) => s.info?.config) ?? null;
  const settings = useSettingsStore((s) => s.config);
  const rows = Math.min(shape?.numVirtualTokens ?? settings.numVirtualTokens, 100);
  const k = Math.min(shape?.projectionTopK ?? settings.projectionTopK, 10);
  return (
    <section className="panel projection-panel" aria-labelledby="projection-heading" id="projections">
      <header className="panel-header">
        <h2 id="projection-heading">Nearest tokens</h2>
        <SegmentedControl name="projection-metric" legend="Similarity measure" options={METRICS} value={metric} onChange={setMetric}
          testId="projection-metric" />
      </header>
      <p className="muted small num" data-testid="projection-status">
        {current
          ? `Update ${updates} at step ${current.step}. Highlighted: tokens new to a row since the previous update.`
          : 'Each virtual token\'s nearest vocabulary tokens appear here when training starts, and follow it as it trains.'}
      </p>
      <p className="help projection-legend" data-testid="projection-legend">
        <strong>Nearest real token</strong>: how close a virtual token sits to the closest word of the vocabulary (cosine; 1 is on it).{' '}
        <strong>Norm ÷ mean</strong>: its length against an average word's; far above 1× it has left the scale words live at.
      </p>
      <div className="projection-area">
        {!current && <ProjectionSkeleton rows={rows} k={k} />}
        {current && !empty && <ProjectionGrid current={current} previous={previous} metric={metric} updates={updates} />}
        {empty && <p className="muted">This method has no per-token vectors to project (prefix tuning without projection).</p>}
      </div>
      <WaywardnessNote />
    </section>
  );
}
