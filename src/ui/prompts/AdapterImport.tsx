import { useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { listSome } from '../../data';
import { useCurrentAdapter, usePromptsStore } from '../../state/promptsStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { droppedFiles, pickedFiles } from '../model/droppedFiles';

/** The dropped or picked folder's name ("adapter" for loose files). */
const folderNameOf = (files: { name: string }[]) => (files[0].name.includes('/') ? files[0].name.split('/')[0] : 'adapter');

/** studio.json's metrics in words: accuracies as percentages, the rest as numbers. */
function metricText(metrics: Record<string, number | string>): string {
  const names: Record<string, string> = {
    validation_accuracy: 'validation accuracy', validation_macro_f1: 'macro F1', validation_loss: 'validation loss',
    'zero-shot_accuracy': 'zero-shot accuracy', text_accuracy: 'text prompt accuracy', discrete_accuracy: 'nearest-token accuracy',
  };
  const parts = Object.entries(names).flatMap(([key, name]) => {
    const v = metrics[key];
    if (typeof v !== 'number') return [];
    return [`${name} ${key.endsWith('accuracy') ? `${(v * 100).toFixed(1)}%` : v.toFixed(3)}`];
  });
  if (typeof metrics.step === 'number') parts.push(`after ${metrics.step} steps`);
  return parts.join(', ');
}

/** Load a PEFT adapter (the studio's zip, or a folder from Python) as the current prompt. */
export function AdapterImport() {
  const { adapter, importing, importError, importAdapter } = usePromptsStore(useShallow((s) => ({
    adapter: s.adapter, importing: s.importing, importError: s.importError, importAdapter: s.importAdapter,
  })));
  const training = useTrainingStore(isActive);
  const current = useCurrentAdapter() !== null;
  const zipInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const fromFolder = (list: FileList | null) => {
    if (!list || list.length === 0) return;
    const files = pickedFiles([...list]);
    void importAdapter({ files, folderName: folderNameOf(files) });
  };

  return (
    <div
      className={`adapter-import drop-target ${dragging ? 'dragging' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (importing || training) return;
        void droppedFiles(e.dataTransfer).then((files) => {
          const zip = files.length === 1 && /\.zip$/i.test(files[0].name) ? files[0].file : null;
          if (zip) void importAdapter({ zip });
          else if (files.length) void importAdapter({ files, folderName: folderNameOf(files) });
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
        <button type="button" className="secondary" disabled={importing || training} onClick={() => folderInput.current?.click()} data-testid="adapter-folder-button">
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
      {adapter && !importing && adapter.warnings.length > 0 && (
        <ul className="warnings" data-testid="adapter-warnings">
          {adapter.warnings.map((w) => <li key={w}>{w}</li>)}
        </ul>
      )}
      {adapter && !importing && (
        <dl className="facts adapter-facts" data-testid="adapter-info" data-current={String(current)}>
          {!current && <><dt>Now</dt><dd>Not the current prompt any more (a run started since).</dd></>}
          <dt>Adapter</dt><dd>{adapter.fileName}</dd>
          <dt>Method</dt><dd data-fact="method">{adapter.method} ({adapter.peftType}), {adapter.numVirtualTokens} virtual tokens</dd>
          <dt>Labels</dt><dd data-fact="labels">{listSome(adapter.labels, 12)}</dd>
          <dt>Template</dt><dd><code>{adapter.template}</code></dd>
          <dt>Trained on</dt>
          <dd data-fact="trained-on">
            {adapter.trainedOn ?? (adapter.baseModel || 'unknown (a plain PEFT adapter)')}
            {adapter.fingerprintMatches === true && ' — the loaded model'}
            {adapter.fingerprintMatches === false && ' — not the loaded model: predictions may be off'}
            {adapter.fingerprintMatches === null && ' (no fingerprint to check against the loaded model)'}
          </dd>
          {adapter.metrics && metricText(adapter.metrics) && (
            <><dt>Metrics</dt><dd data-fact="metrics">{metricText(adapter.metrics)}</dd></>
          )}
          <dt>Evaluate</dt>
          <dd data-fact="evaluable">
            {adapter.evaluable
              ? 'On the loaded data\'s validation split (Inspect).'
              : `Load a CSV with the labels ${listSome(adapter.labels, 12)} (Data step), then load the adapter again.`}
          </dd>
        </dl>
      )}
    </div>
  );
}
