import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { useModelStore } from '../../state/modelStore';
import { useSettingsCheck } from '../../state/settingsCheck';
import { useTrainingStore } from '../../state/trainingStore';

/** Brings the Train panel into view (it can be thousands of pixels below on a phone) and moves focus there. */
export function showTrainPanel(): void {
  const panel = document.getElementById('step-train');
  panel?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  panel?.focus({ preventScroll: true });
}

/**
 * Right under the data, the next step: train with the defaults now (and watch it in the
 * Train panel, brought into view), or set the method first.
 */
export function ReadyToTrain() {
  const { dataset, building } = useDataStore(useShallow((s) => ({ dataset: s.dataset, building: s.building })));
  const { status, start } = useTrainingStore(useShallow((s) => ({ status: s.status, start: s.start })));
  const modelReady = useModelStore((s) => s.status === 'ready');
  const settingsError = useSettingsCheck();
  if (!dataset || status !== 'idle') return null;
  const blocked = !modelReady ? 'The model is still loading.' : settingsError ? 'Fix the settings in step 3 first.' : null;
  return (
    <div className="ready-to-train" data-testid="ready-to-train">
      <p>
        <strong>Ready to train</strong> on {dataset.trainCount.toLocaleString('en')} examples
        ({dataset.validationCount.toLocaleString('en')} held out to measure accuracy). The defaults are a good first run;
        the first accuracy shows within a minute.
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
