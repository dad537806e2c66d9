import { useShallow } from 'zustand/react/shallow';
import { useModelStore } from '../../state/modelStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { ErrorNote } from '../ErrorNote';
import { Panel } from '../Panel';
import { BackendWarning, ThreadsFallbackWarning } from './BackendWarning';
import { LoadProgressView } from './LoadProgressView';
import { ModelFactsList } from './ModelFactsList';
import { ModelIntro } from './ModelIntro';
import { ModelSourceForm } from './ModelSourceForm';
import { TryModel } from './TryModel';

const STATUS_TEXT = {
  idle: 'Not started.',
  starting: 'Starting the engine…',
  loading: 'Loading…',
  ready: 'Ready.',
  error: 'No model is loaded.',
} as const;

export function ModelPanel() {
  const { status, facts, backend, progress, loading, error, loadError } = useModelStore(useShallow((s) => ({
    status: s.status, facts: s.facts, backend: s.backend, progress: s.progress, loading: s.loading, error: s.error, loadError: s.loadError,
  })));
  const training = useTrainingStore(isActive);
  const busy = status === 'starting' || status === 'loading';
  return (
    <Panel step="model" aside={
      <p className="status" data-testid="model-status" data-status={status} aria-live="polite">{STATUS_TEXT[status]}</p>
    }>
      <LoadProgressView loading={loading} progress={progress} />
      <ErrorNote error={error} testId="model-error" />
      {facts && <ModelIntro facts={facts} backend={backend} />}
      {/* Not a detail: the threaded build failed, and training is slower than it should be. */}
      <ThreadsFallbackWarning backend={backend} />
      {/* Plain words first; how it runs and why is one click away. */}
      <details className="model-details" data-testid="model-details">
        <summary>Details: architecture, quantization, memory and why this backend</summary>
        <BackendWarning backend={backend} />
        {facts && <ModelFactsList facts={facts} wasm={backend?.wasm} />}
      </details>
      <ModelSourceForm disabled={busy || training} disabledReason={training ? 'Stop the training run to load another model.' : null}>
        {loadError && (
          <div data-testid="model-load-error">
            <ErrorNote error={loadError} />
            {facts && <p className="muted">The previous model ({facts.name}) is still loaded.</p>}
          </div>
        )}
      </ModelSourceForm>
      <TryModel />
    </Panel>
  );
}
