import { useShallow } from 'zustand/react/shallow';
import { usePromptsStore } from '../../state/promptsStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { DropZone } from '../DropZone';
import { ErrorNote } from '../ErrorNote';
import { ProgressBar } from '../ProgressBar';

/** A CSV whose rows each name their prompt, predicted in mixed batches through the one model. */
export function BatchPrediction() {
  const s = usePromptsStore(useShallow((p) => ({
    library: p.library, file: p.batchFile, textColumn: p.textColumn, promptColumn: p.promptColumn, batchPrompt: p.batchPrompt,
    taskColumn: p.taskColumn, running: p.batchRunning, progress: p.batchProgress, result: p.batchResult, error: p.batchError,
    choose: p.chooseBatchFile, setColumns: p.setBatchColumns, run: p.runBatch, download: p.downloadBatch,
  })));
  const training = useTrainingStore(isActive);
  const columns = s.file?.columns ?? [];
  const canRun = s.file !== null && s.library.length > 0 && s.textColumn !== '' && (s.promptColumn !== '' || s.batchPrompt !== '') && !s.running && !training;
  return (
    <div className="batch-prediction">
      <h3>Batch prediction</h3>
      <p className="help">
        A CSV with a text column and, per row, the name of the library prompt to use (or one prompt for every row).
        Rows of different prompts share batches through the one frozen model.
      </p>
      <DropZone label="Choose a CSV…" accept=".csv,.tsv,.txt,text/csv" disabled={s.running}
        onFiles={(files) => void s.choose(files[0])} testId="batch-input">
        or drop it here
      </DropZone>
      {s.file && (
        <div className="batch-columns">
          <p className="muted small">{s.file.fileName}: columns {columns.join(', ')}</p>
          <label>
            Text column
            <select value={s.textColumn} onChange={(e) => s.setColumns({ textColumn: e.target.value })} data-testid="batch-text-column">
              {columns.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label>
            Prompt
            <select value={s.promptColumn} onChange={(e) => s.setColumns({ promptColumn: e.target.value })} data-testid="batch-prompt-column">
              <option value="">One prompt for every row</option>
              {columns.map((c) => <option key={c} value={c}>Named in column “{c}”</option>)}
            </select>
          </label>
          {s.promptColumn === '' && (
            <label>
              Prompt for every row
              <select value={s.batchPrompt} onChange={(e) => s.setColumns({ batchPrompt: e.target.value })} data-testid="batch-prompt">
                {s.library.map((p) => <option key={p.id} value={p.name}>{p.name}</option>)}
              </select>
            </label>
          )}
          <label>
            Task column (multitask prompts)
            <select value={s.taskColumn} onChange={(e) => s.setColumns({ taskColumn: e.target.value })} data-testid="batch-task-column">
              <option value="">None</option>
              {columns.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
        </div>
      )}
      <div className="button-row">
        <button type="button" className="primary" disabled={!canRun} onClick={() => void s.run()} data-testid="batch-run">
          {s.running ? 'Predicting…' : 'Predict'}
        </button>
        {s.library.length === 0 && <span className="muted small">Add a prompt to the library first.</span>}
      </div>
      {s.running && s.progress && (
        <ProgressBar value={s.progress.done} max={s.progress.total} label="Batch prediction" text={`${s.progress.done} of ${s.progress.total} rows`} />
      )}
      <ErrorNote error={s.error} testId="batch-error" />
      {s.result && (
        <div className="batch-result" data-testid="batch-result" data-rows={s.result.rows} data-failed={s.result.failed}>
          <p>
            {s.result.rows} rows predicted{s.result.failed ? `, ${s.result.failed} could not be (see the error column)` : ''}.{' '}
            <button type="button" className="secondary" onClick={s.download} data-testid="batch-download">Download {s.result.fileName}</button>
          </p>
          <div className="table-scroll" role="region" aria-label="First predicted rows" tabIndex={0}>
            <table className="preview-table">
              <thead><tr>{s.result.preview[0]?.map((h, i) => <th key={i} scope="col">{h}</th>)}</tr></thead>
              <tbody>
                {s.result.preview.slice(1).map((row, r) => <tr key={r}>{row.map((cell, i) => <td key={i}>{cell}</td>)}</tr>)}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}
