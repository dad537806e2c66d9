import { useShallow } from 'zustand/react/shallow';
import { useHistoryStore } from '../../state/historyStore';
import { useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';

/** Whether the current run is kept in this browser: how far it is saved, or why it could not be. */
export function RunStorage() {
  const runId = useTrainingStore((s) => s.runId);
  const checkpointEvery = useTrainingStore((s) => s.info?.config.checkpointEvery ?? 50);
  const { storageError, saved } = useHistoryStore(useShallow((s) => ({ storageError: s.storageError, saved: s.saved })));
  const mine = saved && saved.runId === runId ? saved : null;
  return (
    <div className="run-storage">
      <ErrorNote error={storageError} testId="storage-error" />
      {mine && !storageError && (
        <p className="muted small" data-testid="run-saved" data-step={mine.step} data-checkpoint-step={mine.checkpointStep ?? ''}>
          Saved in this browser: the curve up to step {mine.step}
          {mine.checkpointStep === null ? '; no checkpoint yet.'
            : mine.checkpointStep >= mine.step ? `, and a checkpoint of step ${mine.checkpointStep}: a resume goes on from there.`
              : `; a resume would go on from step ${mine.checkpointStep}, the last checkpoint (one is taken every ${checkpointEvery} steps, every 30 s, and on pause and stop).`}
        </p>
      )}
    </div>
  );
}
