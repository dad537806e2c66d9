/**
 * The path through the studio, Model → Data → Method → Train → Inspect → Export, and
 * where the user stands on it: each step is done, ready (can be used now) or waiting on
 * an earlier one, with a few words saying which.
 */
import { useShallow } from 'zustand/react/shallow';
import { useDataStore } from './dataStore';
import { useModelStore } from './modelStore';
import { useTrainingStore } from './trainingStore';

export type StepId = 'model' | 'data' | 'method' | 'train' | 'inspect' | 'export';
export type StepState = 'done' | 'ready' | 'waiting';

export interface StepStatus {
  id: StepId;
  label: string;
  state: StepState;
  note: string;
}

export const STEP_LABELS: Record<StepId, string> = {
  model: 'Model', data: 'Data', method: 'Method', train: 'Train', inspect: 'Inspect', export: 'Export',
};

export function useStepStatuses(): StepStatus[] {
  const model = useModelStore((s) => s.status);
  const { hasTable, hasDataset } = useDataStore(useShallow((s) => ({ hasTable: s.table !== null, hasDataset: s.dataset !== null })));
  const { run, hasEvaluation } = useTrainingStore(useShallow((s) => ({ run: s.status, hasEvaluation: s.evaluation !== null })));
  const modelReady = model === 'ready';
  const trained = run === 'ended';
  const started = run !== 'idle';

  const step = (id: StepId, state: StepState, note: string): StepStatus => ({ id, label: STEP_LABELS[id], state, note });
  return [
    step('model', modelReady ? 'done' : 'ready', modelReady ? 'loaded' : model === 'error' ? 'failed to load' : 'loading…'),
    step('data', hasDataset ? 'done' : modelReady ? 'ready' : 'waiting', hasDataset ? 'mapped' : hasTable ? 'map columns' : 'upload a CSV'),
    step('method', started ? 'done' : hasDataset ? 'ready' : 'waiting', started ? 'set' : hasDataset ? 'defaults ready' : 'needs data'),
    step('train', trained ? 'done' : hasDataset && modelReady ? 'ready' : 'waiting',
      trained ? 'finished' : run === 'running' || run === 'starting' ? 'training…' : run === 'paused' ? 'paused' : run === 'failed' ? 'failed' : hasDataset ? 'press Train' : 'needs data'),
    step('inspect', hasEvaluation ? (trained ? 'done' : 'ready') : 'waiting', hasEvaluation ? 'evaluated' : 'after an evaluation'),
    step('export', hasEvaluation ? 'ready' : 'waiting', hasEvaluation ? 'download' : 'after an evaluation'),
  ];
}
