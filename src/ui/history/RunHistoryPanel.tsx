import { useShallow } from 'zustand/react/shallow';
import { useHistoryStore } from '../../state/historyStore';
import { ErrorNote } from '../ErrorNote';
import { CompareChart } from './CompareChart';
import { RunDetail } from './RunDetail';
import { RunRow } from './RunRow';

/**
 * The runs kept in this browser: a table to open (read-only), compare, rename, delete and
 * export them. Not a step of the path, so not a numbered panel.
 */
export function RunHistoryPanel() {
  const { loaded, runs, loadError, selected, comparing, compareError, comparison, viewed, exported, compare, closeComparison } =
    useHistoryStore(useShallow((s) => ({
      loaded: s.loaded, runs: s.runs, loadError: s.loadError, selected: s.selected, comparing: s.comparing,
      compareError: s.compareError, comparison: s.comparison, viewed: s.viewed, exported: s.exported,
      compare: s.compare, closeComparison: s.closeComparison,
    })));
  return (
    <section id="run-history" className="panel history-panel" aria-labelledby="history-heading" tabIndex={-1} data-testid="run-history">
      <header className="panel-header">
        <h2 id="history-heading">Run history</h2>
        <p className="muted small">Kept in this browser only.</p>
      </header>
      <ErrorNote error={loadError} testId="history-error" />
      {loaded && !loadError && runs.length === 0 && <p className="muted" data-testid="history-empty">No runs yet. Each run is saved here as it trains.</p>}
      {runs.length > 0 && (
        <div className="table-scroll" role="region" aria-label="Past runs" tabIndex={0}>
          <table className="history-table" data-testid="history-table">
            <thead>
              <tr>
                <th scope="col"><span className="visually-hidden">Choose to compare</span></th>
                <th scope="col">Name</th>
                <th scope="col">Date</th>
                <th scope="col">Method</th>
                <th scope="col" className="num">Steps</th>
                <th scope="col" className="num">Best accuracy</th>
                <th scope="col" className="num">Zero-shot</th>
                <th scope="col">Status</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => <RunRow key={run.id} run={run} />)}
            </tbody>
          </table>
        </div>
      )}
      {runs.length > 1 && (
        <div className="compare-bar">
          <button type="button" className="secondary" disabled={selected.length !== 2 || comparing} onClick={() => void compare()} data-testid="compare-runs">
            {comparing ? 'Loading…' : 'Compare the two chosen runs'}
          </button>
          <span className="muted small" aria-live="polite">{selected.length} of 2 chosen</span>
        </div>
      )}
      <ErrorNote error={compareError} testId="compare-error" />
      {exported && <p className="muted small" aria-live="polite" data-testid="history-exported">Saved {exported}.</p>}
      {comparison && (
        <div className="history-comparison" data-testid="history-comparison">
          <div className="subheader">
            <h3>{comparison.runs[0].name} and {comparison.runs[1].name}</h3>
            <button type="button" className="secondary" onClick={closeComparison}>Close comparison</button>
          </div>
          <CompareChart comparison={comparison} />
        </div>
      )}
      {viewed && <RunDetail viewed={viewed} />}
    </section>
  );
}
