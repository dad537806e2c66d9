import { useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { usePromptsStore } from '../../state/promptsStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { droppedFiles, pickedFiles } from '../model/droppedFiles';

/** Load a PEFT adapter (the studio's zip, or a folder from Python) as the current prompt. */
export function AdapterImport() {
  const { adapter, importing, importError, importAdapter } = usePromptsStore(useShallow((s) => ({
    adapter: s.adapter, importing: s.importing, importError: s.importError, importAdapter: s.importAdapter,
  })));
  const training = useTrainingStore(isActive);
  const zipInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const fromFolder = (list: FileList | null) => {
    if (!list || list.length === 0) return;
    const files = pickedFiles([...list]);
    void importAdapter({ files, folderName: files[0].name.split('/')[0] || 'adapter' });
  };

  return (
    <div
      className={`adapter-import drop-target ${dragging ? 'dragging' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        void droppedFiles(e.dataTransfer).then((files) => {
          const zip = files.length === 1 && /\.zip$/i.test(files[0].name) ? files[0].file : null;
          if (zip) void importAdapter({ zip });
          else if (files.length) void importAdapter({ files, folderName: files[0].name.split('/')[0] || 'adapter' });
        });
      }}
      data-testid="adapter-drop"
    >
      <h3>Load an adapter</h3>
      <p className="help">
        A PEFT prompt adapter — the studio's zip, or a folder with <code>adapter_config.json</code> and
        <code> adapter_model.safetensors</code> from Python — becomes the current prompt: the playground, projections and
        downloads use it. Drop it here or choose it.
      </p>
      <div className="button-row">
        <button type="button" className="secondary" disabled={importing || training} onClick={() => zipInput.current?.click()} data-testid="adapter-zip-button">
          Choose a zip…
        </button>
        <button type="button" className="secondary" disabled={importing || training} onClick={() => folderInput.current?.click()}>
          Choose a folder…
        </button>
        <input ref={zipInput} type="file" accept=".zip,application/zip" hidden data-testid="adapter-zip-input"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) void importAdapter({ zip: f }); e.target.value = ''; }} />
        <input ref={folderInput} type="file" hidden multiple data-testid="adapter-folder-input"
          {...{ webkitdirectory: '' }}
          onChange={(e) => { fromFolder(e.target.files); e.target.value = ''; }} />
      </div>
      {importing && <p className="muted" aria-live="polite">Loading the adapter…</p>}
      <ErrorNote error={importError} testId="adapter-import-error" />
      {adapter && !importing && (
        <dl className="facts adapter-facts" data-testid="adapter-info">
          <dt>Adapter</dt><dd>{adapter.fileName}</dd>
          <dt>Method</dt><dd data-fact="method">{adapter.method} ({adapter.peftType}), {adapter.numVirtualTokens} virtual tokens</dd>
          <dt>Labels</dt><dd data-fact="labels">{adapter.labels.join(', ')}</dd>
          <dt>Template</dt><dd><code>{adapter.template}</code></dd>
          <dt>Trained on</dt>
          <dd data-fact="trained-on">
            {adapter.trainedOn ?? (adapter.baseModel || 'unknown (a plain PEFT adapter)')}
            {adapter.fingerprintMatches === true && ' — the loaded model'}
            {adapter.fingerprintMatches === false && ' — not the loaded model: predictions may be off'}
          </dd>
          {adapter.metrics && typeof adapter.metrics.validation_accuracy === 'number' && (
            <><dt>Validation accuracy</dt><dd>{(adapter.metrics.validation_accuracy * 100).toFixed(1)}%</dd></>
          )}
          {!adapter.evaluable && <><dt>Evaluate</dt><dd>Load a CSV with its labels to evaluate it.</dd></>}
        </dl>
      )}
    </div>
  );
}
