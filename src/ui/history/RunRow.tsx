import { useShallow } from 'zustand/react/shallow';
import { shownStatus, useHistoryStore } from '../../state/historyStore';
import type { StoredRun } from '../../storage/runStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { formatPercent } from '../format';

const COLUMNS = 9;

/** One stored run: its figures, and its actions (or the rename form, or the delete confirmation). */
export function RunRow({ run }: { run: StoredRun }) {
  const s = useHistoryStore(useShallow((h) => ({
    selected: h.selected.includes(run.id),
    renaming: h.renaming?.runId === run.id ? h.renaming.name : null,
    confirming: h.confirmingDelete === run.id,
    busy: h.busy?.runId === run.id ? h.busy.action : null,
    error: h.rowError?.runId === run.id ? h.rowError.error : null,
    viewed: h.viewed?.run.id === run.id,
  })));
  const actions = useHistoryStore(useShallow((h) => ({
    toggleSelected: h.toggleSelected, open: h.open, startRename: h.startRename, setRenameText: h.setRenameText,
    commitRename: h.commitRename, cancelRename: h.cancelRename, askDelete: h.askDelete, cancelDelete: h.cancelDelete,
    confirmDelete: h.confirmDelete, exportRun: h.exportRun, exportCheckpoint: h.exportCheckpoint,
  })));
  const liveRunId = useTrainingStore((t) => (isActive(t) ? t.runId : null));
  const status = shownStatus(run, liveRunId);
  const live = run.id === liveRunId;
  const date = new Date(run.createdAt);
  const hasCheckpoint = typeof run.checkpointStep === 'number';

  return (
    <>
      <tr data-testid="history-row" data-run-id={run.id} data-status={status} aria-current={s.viewed ? 'true' : undefined}>
        <td>
          <input type="checkbox" checked={s.selected} onChange={() => actions.toggleSelected(run.id)}
            aria-label={`Compare ${run.name}`} data-testid="compare-select" />
        </td>
        <td>
          {s.renaming !== null ? (
            <form className="rename-form" onSubmit={(e) => { e.preventDefault(); void actions.commitRename(); }}>
              <input type="text" value={s.renaming} aria-label={`New name for ${run.name}`} autoFocus data-testid="rename-input"
                onChange={(e) => actions.setRenameText(e.target.value)}
                onKeyDown={(e) => { if (e.key === 'Escape') actions.cancelRename(); }} />
              <button type="submit" className="secondary" disabled={s.busy === 'rename'} data-testid="rename-save">Save</button>
              <button type="button" className="secondary" onClick={actions.cancelRename}>Cancel</button>
            </form>
          ) : <span data-testid="run-name">{run.name}</span>}
        </td>
        <td><time dateTime={date.toISOString()}>{date.toLocaleString()}</time></td>
        <td>{String(run.config.method ?? '–')}</td>
        <td className="num" data-testid="run-steps">{run.summary.step} / {run.summary.totalSteps}</td>
        <td className="num" data-testid="run-best">{formatPercent(run.summary.bestAccuracy)}</td>
        <td className="num" data-testid="run-zero-shot">{formatPercent(run.summary.zeroShotAccuracy)}</td>
        <td data-testid="run-status">{status}</td>
        <td>
          <div className="row-actions" role="group" aria-label={`Actions for ${run.name}`}>
            <button type="button" className="link" onClick={() => void actions.open(run.id)} disabled={s.busy !== null} data-testid="open-run">
              {s.busy === 'open' ? 'Opening…' : 'Open'}
            </button>
            <button type="button" className="link" onClick={() => actions.startRename(run.id)} disabled={s.busy !== null || s.renaming !== null} data-testid="rename-run">Rename</button>
            <button type="button" className="link" onClick={() => void actions.exportRun(run.id)} disabled={s.busy !== null} data-testid="export-run">
              {s.busy === 'export' ? 'Exporting…' : 'Export JSON'}
            </button>
            <button type="button" className="link" onClick={() => void actions.exportCheckpoint(run.id)} disabled={s.busy !== null || !hasCheckpoint}
              title={hasCheckpoint ? undefined : 'No checkpoint stored yet'} data-testid="export-checkpoint">
              {s.busy === 'checkpoint' ? 'Exporting…' : 'Checkpoint'}
            </button>
            <button type="button" className="link danger" onClick={() => actions.askDelete(run.id)} disabled={s.busy !== null || live}
              title={live ? 'Training now: stop it first' : undefined} data-testid="delete-run">Delete</button>
          </div>
        </td>
      </tr>
      {s.confirming && (
        <tr className="row-note">
          <td colSpan={COLUMNS}>
            <div className="confirm" role="group" aria-label="Confirm deletion" data-testid="confirm-delete">
              <span>Delete “{run.name}” with its history and checkpoint? This cannot be undone.</span>
              <button type="button" className="secondary danger" autoFocus onClick={() => void actions.confirmDelete()} disabled={s.busy === 'delete'}
                data-testid="confirm-delete-yes">{s.busy === 'delete' ? 'Deleting…' : 'Delete'}</button>
              <button type="button" className="secondary" onClick={actions.cancelDelete}>Keep it</button>
            </div>
          </td>
        </tr>
      )}
      {s.error && (
        <tr className="row-note">
          <td colSpan={COLUMNS}><ErrorNote error={s.error} testId="history-row-error" /></td>
        </tr>
      )}
    </>
  );
}
