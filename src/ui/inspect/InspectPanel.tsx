import { useTrainingStore } from '../../state/trainingStore';
import { Panel } from '../Panel';
import { ClassMetricsTable } from './ClassMetricsTable';
import { ConfusionMatrix } from './ConfusionMatrix';
import { EvaluatePrompt } from './EvaluatePrompt';
import { PredictPlayground } from './PredictPlayground';
import { PromptComparison } from './PromptComparison';

const NO_LABELS: string[] = [];

export function InspectPanel() {
  const evaluation = useTrainingStore((s) => s.evaluation);
  const labels = useTrainingStore((s) => s.info?.labels ?? NO_LABELS);
  const target = useTrainingStore((s) => s.info?.config.scoring === 'target');
  return (
    <Panel step="inspect">
      <PromptComparison />
      <EvaluatePrompt />
      {target
        ? <p className="muted" data-testid="no-confusion">Free-text targets: each example is right or not (exact match), so there is no confusion matrix or per-class table; the predictions CSV (Export) lists each target and whether the model writes it.</p>
        : evaluation
        ? (
          <div className="inspect-tables">
            <ConfusionMatrix labels={labels} report={evaluation.report} />
            <ClassMetricsTable report={evaluation.report} />
          </div>
        )
        : <p className="muted">The confusion matrix and per-class scores appear at the first evaluation.</p>}
      <PredictPlayground />
    </Panel>
  );
}
