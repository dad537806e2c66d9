import { useShallow } from 'zustand/react/shallow';
import { listSome } from '../../data';
import { useDataStore } from '../../state/dataStore';
import { suggestLibraryName, useCurrentAdapter, usePromptsStore } from '../../state/promptsStore';
import { hasRun, isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { AdapterImport } from './AdapterImport';
import { BatchPrediction } from './BatchPrediction';

/**
 * Prompts beyond the current run: adapters loaded from files, the library of prompts kept
 * for the loaded model, and batch prediction where each row names its prompt. Not a step
 * of the path, so not a numbered panel.
 */
export function PromptsPanel() {
  const { library, libraryName, libraryBusy, libraryError, setLibraryName, addToLibrary, removeFromLibrary } = usePromptsStore(useShallow((s) => ({
    library: s.library, libraryName: s.libraryName, libraryBusy: s.libraryBusy, libraryError: s.libraryError,
    setLibraryName: s.setLibraryName, addToLibrary: s.addToLibrary, removeFromLibrary: s.removeFromLibrary,
  })));
  const ready = useTrainingStore((s) => hasRun(s) && !isActive(s));
  const method = useTrainingStore((s) => s.info?.config.method ?? null);
  const adapter = useCurrentAdapter();
  const csvFileName = useDataStore((s) => s.fileName);
  const suggestion = suggestLibraryName({
    adapterFileName: adapter?.fileName ?? null,
    csvFileName, method, taken: library.map((p) => p.name),
  });
  return (
    <section id="prompts" className="panel prompts-panel" aria-labelledby="prompts-heading" tabIndex={-1} data-testid="prompts-panel">
      <header className="panel-header">
        <h2 id="prompts-heading">Prompts</h2>
        <p className="muted small">For the loaded model; kept until another model loads.</p>
      </header>

      <AdapterImport />

      <h3>Library</h3>
      <form className="library-add" onSubmit={(e) => { e.preventDefault(); void addToLibrary(); }}>
        <label htmlFor="library-name">Name</label>
        <input id="library-name" type="text" value={libraryName} onChange={(e) => setLibraryName(e.target.value)}
          placeholder={ready && suggestion ? suggestion : 'e.g. spam-detector'} aria-describedby="library-name-help" data-testid="library-name" />
        <button type="submit" className="secondary" disabled={!ready || libraryBusy} data-testid="library-add">
          {libraryBusy ? 'Adding…' : 'Add the current prompt'}
        </button>
      </form>
      <p id="library-name-help" className="muted small">
        {ready
          ? `Left empty, the name is ${suggestion || 'required'}. Each row of a batch CSV names its prompt by this name.`
          : 'Train a prompt (or load an adapter) to add it here.'}
      </p>
      <ErrorNote error={libraryError} testId="library-error" />
      {library.length > 0 && (
        <div className="table-scroll" role="region" aria-label="Prompt library" tabIndex={0}>
          <table className="library-table" data-testid="library-table">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Method</th><th scope="col" className="num">Tokens</th>
                <th scope="col">Labels</th><th scope="col" className="num">Accuracy</th><th scope="col">From</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {library.map((p) => (
                <tr key={p.id} data-testid="library-row" data-name={p.name}>
                  <td>{p.name}</td>
                  <td>{p.method}</td>
                  <td className="num">{p.numVirtualTokens}</td>
                  <td>{listSome(p.labels, 12)}</td>
                  <td className="num">{p.accuracy === null ? '–' : `${(p.accuracy * 100).toFixed(1)}%`}</td>
                  <td>{p.source}</td>
                  <td>
                    <button type="button" className="link" onClick={() => void removeFromLibrary(p.id)} aria-label={`Remove ${p.name}`} data-testid="library-remove">Remove</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <BatchPrediction />
    </section>
  );
}
