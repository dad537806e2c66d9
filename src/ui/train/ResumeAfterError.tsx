import { useShallow } from 'zustand/react/shallow';
import { useTrainingStore } from '../../state/trainingStore';

/** A run that stopped on an error can go on from its last checkpoint (same run, same curve). */
export function ResumeAfterError() {
  const { status, checkpointStep, resumeFromCheckpoint } = useTrainingStore(useShallow((s) => ({
    status: s.status, checkpointStep: s.checkpointStep, resumeFromCheckpoint: s.resumeFromCheckpoint,
  })));
  if (status !== 'failed' || checkpointStep === null) return null;
  return (
    <div className="resume-after-error" data-testid="resume-offer-error">
      <button type="button" className="primary" onClick={() => void resumeFromCheckpoint()} data-testid="resume-from-checkpoint">
        Resume from step {checkpointStep}
      </button>
      <span className="muted small">The run continues from its last checkpoint; the steps after it are done again.</span>
    </div>
  );
}
