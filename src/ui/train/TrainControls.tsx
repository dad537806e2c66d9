import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from '../../state/dataStore';
import { useModelStore } from '../../state/modelStore';
import { useRunPlanStore } from '../../state/runPlanStore';
import { useSettingsCheck } from '../../state/settingsCheck';
import { useTrainingStore } from '../../state/trainingStore';

/** Start, pause, resume and stop; each says why when it cannot be used. */
export function TrainControls() {
  const { status, pending, start, control } = useTrainingStore(useShallow((s) => ({
    status: s.status, pending: s.pending, start: s.start, control: s.control,
  })));
  const modelReady = useModelStore((s) => s.status === 'ready');
  const hasDataset = useDataStore((s) => s.dataset !== null);
  // The page's own checks, and the engine's as the Method step previews the run.
  const localError = useSettingsCheck();
  const refusal = useRunPlanStore((s) => s.refusal);
  const settingsError = localError ?? refusal;
  const active = status === 'starting' || status === 'running' || status === 'paused';
  const blocked = !modelReady ? 'The model is not loaded yet.'
    : !hasDataset ? 'Upload a CSV and map its columns first (step 2).'
      : settingsError ? 'Fix the settings in step 3 first.'
        : null;

  return (
    <div className="train-controls">
      <div className="buttons" role="group" aria-label="Training">
        <button type="button" className="primary" disabled={active || blocked !== null} onClick={() => void start()} data-testid="start-training">
          {status === 'ended' || status === 'failed' ? 'Train again' : 'Train'}
        </button>
        {status === 'paused'
          ? <button type="button" className="secondary" disabled={pending !== null} onClick={() => void control('resume')} data-testid="resume-training">
            {pending === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
          : <button type="button" className="secondary" disabled={status !== 'running' || pending !== null} onClick={() => void control('pause')} data-testid="pause-training">
            {pending === 'pause' ? 'Pausing…' : 'Pause'}
          </button>}
        <button type="button" className="secondary danger" disabled={!(status === 'running' || status === 'paused') || pending === 'stop'}
          onClick={() => void control('stop')} data-testid="stop-training">
          {pending === 'stop' ? 'Stopping…' : 'Stop'}
        </button>
      </div>
      {blocked && !active && <p className="muted" data-testid="train-blocked">{blocked}</p>}
    </div>
  );
}
