import { useShallow } from 'zustand/react/shallow';
import { useHistoryStore } from '../../state/historyStore';
import { useModelStore } from '../../state/modelStore';
import { ErrorNote } from '../ErrorNote';

/** Exactly what a resume brings back, and what it does again. */
function restores(step: number, checkpoint: number | null | undefined): string {
  if (checkpoint === null || checkpoint === undefined) return '';
  if (checkpoint >= step) return `Resuming goes on from step ${checkpoint}, where it stopped: the prompt, the optimizer and the place in the data, and the curve.`;
  const redo = step - checkpoint === 1 ? `step ${step} is` : `steps ${checkpoint + 1}–${step} are`;
  return `Resuming restores its last checkpoint, step ${checkpoint} (the prompt, the optimizer and the place in the data as they were then); ${redo} trained again, the same way.`;
}

/** Runs a reload (or a closed tab) interrupted: resume each from its last checkpoint, or let it be. */
export function ResumeOffer() {
  const { offers, resuming, offerError, resume, discard } = useHistoryStore(useShallow((s) => ({
    offers: s.offers, resuming: s.resuming, offerError: s.offerError, resume: s.resume, discard: s.discard,
  })));
  const modelReady = useModelStore((s) => s.status === 'ready');
  if (offers.length === 0) return null;
  return (
    <div className="resume-offers">
      {offers.map((run) => (
        <section key={run.id} className="resume-offer" aria-label={`Interrupted run ${run.name}`} data-testid="resume-offer" data-run-id={run.id}>
          <p>
            Training of <strong>{run.name}</strong> stopped at step {run.summary.step} of {run.summary.totalSteps} when the page
            was closed or reloaded. <span data-testid="resume-restores">{restores(run.summary.step, run.checkpointStep)}</span>
          </p>
          <div className="buttons">
            <button type="button" className="primary" disabled={!modelReady || resuming !== null} onClick={() => void resume(run.id)} data-testid="resume-run">
              {resuming === run.id ? 'Resuming…' : `Resume run ${run.name} from step ${run.checkpointStep}`}
            </button>
            <button type="button" className="secondary" disabled={resuming !== null} onClick={() => void discard(run.id)} data-testid="discard-run">Discard</button>
          </div>
          {!modelReady && <p className="muted small">Resuming is possible once the model has loaded.</p>}
          <ErrorNote error={offerError?.runId === run.id ? offerError.error : null} testId="resume-error" />
        </section>
      ))}
    </div>
  );
}
