import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { useModelStore } from '../../state/modelStore';
import { useRunPlanStore } from '../../state/runPlanStore';
import { useSettingsCheck } from '../../state/settingsCheck';
import { useSettingsStore } from '../../state/settingsStore';
import { useTrainingStore } from '../../state/trainingStore';
import { formatDuration } from '../format';
import { firstEvaluationStep, type RunEstimate } from '../../tuning/runEstimate';
import { useLargeModelEstimate } from '../method/useLargeModelEstimate';

/** Brings the Train panel into view (it can be thousands of pixels below on a phone) and moves focus there. */
export function showTrainPanel(): void {
  const panel = document.getElementById('step-train');
  panel?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  panel?.focus({ preventScroll: true });
}

/**
 * The defaults are a good first run for the small default model only: with a large one a
 * step takes seconds to minutes on a CPU, so the first accuracy is minutes away, and the
 * Method step's suggestion is the quicker first look.
 */
function LargeModelNote({ parameters, estimate, firstEvaluation, suggested }: {
  parameters: number; estimate: RunEstimate | null; firstEvaluation: number; suggested: boolean;
}) {
  return (
    <span data-testid="large-model-note">
      The defaults are tuned for the small default model; with this {parameters >= 1e6 ? `${Math.round(parameters / 1e6)}M` : `${Math.round(parameters / 1e3)}K`}-parameter model
      {estimate
        ? <> a step takes about <span className="num">{formatDuration(estimate.stepMs)}</span> here (estimated), so the first accuracy comes after
          step {firstEvaluation} and its evaluation, in about <span className="num">{formatDuration(estimate.stepMs * firstEvaluation + estimate.evaluationMs)}</span>.</>
        : ' each step takes longer.'}
      {suggested && ' Step 3 suggests settings for it.'}
    </span>
  );
}

/**
 * Right under the data, the next step: train with the defaults now (and watch it in the
 * Train panel, brought into view), or set the method first.
 */
export function ReadyToTrain() {
  const { dataset, building } = useDataStore(useShallow((s) => ({ dataset: s.dataset, building: s.building })));
  const { status, start } = useTrainingStore(useShallow((s) => ({ status: s.status, start: s.start })));
  const modelReady = useModelStore((s) => s.status === 'ready');
  const localError = useSettingsCheck();
  const refusal = useRunPlanStore((s) => s.refusal); // the engine's, as the Method step previews the run
  const settingsError = localError ?? refusal;
  const { large, suggested, parameters, estimate } = useLargeModelEstimate();
  const evaluation = useSettingsStore(useShallow((s) => ({ evalEvery: s.config.evalEvery, steps: s.config.steps })));
  if (!dataset || status !== 'idle') return null;
  const blocked = !modelReady ? 'The model is still loading.' : settingsError ? 'Fix the settings in step 3 first.' : null;
  return (
    <div className="ready-to-train" data-testid="ready-to-train">
      <p>
        <strong>Ready to train</strong> on {dataset.trainCount.toLocaleString('en')} examples
        ({dataset.validationCount.toLocaleString('en')} held out to measure accuracy).{' '}
        {large ? <LargeModelNote parameters={parameters} estimate={estimate} firstEvaluation={firstEvaluationStep(evaluation)} suggested={suggested} />
          : 'The defaults are a good first run; the first accuracy shows within a minute.'}
      </p>
      <div className="buttons">
        <button type="button" className="primary" disabled={building || blocked !== null} data-testid="train-now"
          onClick={() => {
            void start();
            showTrainPanel();
          }}>
          Train now
        </button>
        <a href="#step-method" className="small">or choose the method first (step 3)</a>
      </div>
      {blocked && <p className="muted small">{blocked}</p>}
    </div>
  );
}
