import { useShallow } from 'zustand/react/shallow';
import { useExportStore } from '../../state/exportStore';
import { useModelStore } from '../../state/modelStore';
import { useCurrentAdapter } from '../../state/promptsStore';
import { hasRun, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { formatBytes } from '../format';
import { Panel } from '../Panel';
import { ProgressBar } from '../ProgressBar';

export function ExportPanel() {
  const { adapter, predictions, checkpoint, baseModel, download } = useExportStore(useShallow((s) => ({
    adapter: s.adapter, predictions: s.predictions, checkpoint: s.checkpoint, baseModel: s.baseModel, download: s.download,
  })));
  const facts = useModelStore((s) => (s.status === 'ready' ? s.facts : null));
  const imported = useCurrentAdapter() !== null;
  const ready = useTrainingStore(hasRun);
  const evaluated = useTrainingStore((s) => s.evaluation !== null);
  return (
    <Panel step="export">
      <div className="export-row">
        <div>
          <button type="button" className="primary" disabled={!ready || adapter.busy} onClick={() => void download('adapter')}
            data-testid="download-adapter">
            {adapter.busy ? 'Preparing…' : 'Download soft prompt'}
          </button>
          <p className="help">
            A zip that Hugging Face PEFT loads with <code>PeftModel.from_pretrained</code>: <code>adapter_model.safetensors</code>,
            <code> adapter_config.json</code>, <code>studio.json</code> with the template, verbalizer and metrics, and a
            <code> README.md</code> whose Python lines load it.
          </p>
          {adapter.saved && <p className="muted small" aria-live="polite">Saved {adapter.saved}.</p>}
          <ErrorNote error={adapter.error} testId="adapter-error" />
        </div>
        <div>
          <button type="button" className="secondary" disabled={!ready || !evaluated || predictions.busy} onClick={() => void download('predictions')}
            data-testid="download-predictions">
            {predictions.busy ? 'Preparing…' : 'Download predictions (CSV)'}
          </button>
          <p className="help">Each validation example of the last evaluation with its label, the prediction and every label's probability.</p>
          {predictions.saved && <p className="muted small" aria-live="polite">Saved {predictions.saved}.</p>}
          <ErrorNote error={predictions.error} testId="predictions-error" />
        </div>
        <div>
          <button type="button" className="secondary" disabled={!ready || imported || checkpoint.busy} onClick={() => void download('checkpoint')}
            data-testid="download-checkpoint">
            {checkpoint.busy ? 'Preparing…' : 'Download checkpoint'}
          </button>
          <p className="help">The resumable training state: encoders, optimizer, step, random state, data split and settings (also inside the zip).</p>
          {checkpoint.saved && <p className="muted small" aria-live="polite">Saved {checkpoint.saved}.</p>}
          <ErrorNote error={checkpoint.error} testId="checkpoint-error" />
        </div>
        <div>
          <button type="button" className="secondary" disabled={!facts || baseModel.busy} onClick={() => void download('baseModel')}
            data-testid="download-base-model">
            {baseModel.busy ? 'Preparing…' : 'Download base model'}
          </button>
          <p className="help">
            {facts?.hubId
              ? <>Not needed for Python: the adapter's card loads <code>{facts.hubId}</code> from the Hugging Face hub. This is the model as the studio ran it, float32.</>
              : <>For Python: the model in Hugging Face layout, float32 (about {facts ? formatBytes(facts.parameters * 4) : '–'}), the weights the prompt is trained against. Unzip it into the adapter's folder; its README loads both.</>}
          </p>
          {baseModel.busy && baseModel.reading && (
            // The studio keeps only the backend's copy of the weights: the download reads the model's files again, then widens them to float32.
            <ProgressBar value={baseModel.reading.loaded} max={baseModel.reading.total}
              label={baseModel.reading.stage === 'reading' ? 'Reading the model\'s files again' : 'Writing the float32 weights'} testId="base-model-progress"
              text={`${baseModel.reading.stage === 'reading' ? 'Reading' : 'Writing'} ${baseModel.reading.file}: ${formatBytes(baseModel.reading.loaded)}${baseModel.reading.total ? ` of ${formatBytes(baseModel.reading.total)}` : ''}`} />
          )}
          {baseModel.saved && <p className="muted small" aria-live="polite">Saved {baseModel.saved}.</p>}
          <ErrorNote error={baseModel.error} testId="base-model-error" />
        </div>
      </div>
      {!ready && <p className="muted">Downloads are available once a run has started (predictions after its first evaluation).</p>}
    </Panel>
  );
}
