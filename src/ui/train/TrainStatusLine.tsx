import { useShallow } from 'zustand/react/shallow';
import { useCurrentAdapter } from '../../state/promptsStore';
import { useTrainingStore, type RunPhase } from '../../state/trainingStore';
import { useLargeModelEstimate } from '../method/useLargeModelEstimate';

const PHASE_TEXT: Record<RunPhase, string> = {
  preparing: 'Preparing the run…',
  baseline: 'Scoring the baselines (zero-shot and a text prompt) on the validation split…',
  training: 'Training.',
  paused: 'Paused.',
  recovering: 'The GPU device was lost; restarting and resuming from the last checkpoint…',
  finishing: 'Finishing: scoring the discrete projection (the prompt made of its nearest real tokens)…',
  done: 'Done.',
};

/**
 * What the run is doing, in words; a polite live region, so it is announced when it
 * changes (phases, not every step).
 */
export function TrainStatusLine() {
  const { status, phase, summary, step } = useTrainingStore(useShallow((s) => ({
    status: s.status, phase: s.phase, summary: s.summary, step: s.status === 'paused' ? s.lastStep?.step ?? 0 : null,
  })));
  const imported = useCurrentAdapter();
  const { large, suggested } = useLargeModelEstimate();
  let text = '';
  if (imported) text = `No training: the current prompt is the adapter loaded from ${imported.fileName}.`;
  else if (status === 'idle') text = !large ? 'Not started. The defaults are a good first run.' : suggested ? 'Not started. Step 3 suggests settings for this model.' : 'Not started.';
  else if (status === 'failed') text = 'The run stopped with an error.';
  else if (summary) text = summary.message;
  else if (phase === 'paused') text = `Paused at step ${step}.`;
  else if (phase) text = PHASE_TEXT[phase];
  return <p className="train-status" aria-live="polite" data-testid="train-status" data-status={status} data-phase={phase ?? ''}>{text}</p>;
}
