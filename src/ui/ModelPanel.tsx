import { useModelStore } from '../state/modelStore';
import { formatBytes, formatCount } from './format';

export function ModelPanel() {
  const { status, facts, backend, progress, error } = useModelStore();
  return (
    <section className="panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <p className="status" data-testid="model-status" data-status={status}>
        {status === 'starting' && 'Starting the engine…'}
        {status === 'loading' && `Loading ${progress ? progress.file : 'model'}…`}
        {status === 'ready' && 'Ready.'}
        {status === 'error' && 'The model could not be loaded.'}
      </p>
      {progress && progress.total ? (
        <progress max={progress.total} value={progress.loaded} aria-label={`Loading ${progress.file}`} />
      ) : null}
      {error && <p className="error" role="alert">{error}</p>}
      {backend && backend.backend !== 'webgpu' && backend.adapter?.isFallbackAdapter && (
        <p className="warning" data-testid="fallback-warning">
          WebGPU here is a software fallback ({backend.adapter.description}), slower than WebAssembly, so the studio runs on {backend.backend}.
        </p>
      )}
      {facts && (
        <dl className="facts" data-testid="model-facts">
          <dt>Model</dt><dd data-fact="name">{facts.name}</dd>
          <dt>Architecture</dt><dd data-fact="architecture">{facts.architecture}</dd>
          <dt>Parameters</dt><dd data-fact="parameters">{formatCount(facts.parameters)} ({facts.layers} layers, d={facts.hiddenSize}, {facts.heads} heads / {facts.kvHeads} KV heads, vocabulary {facts.vocabSize})</dd>
          <dt>Quantization</dt><dd data-fact="quantization">{facts.quantization}</dd>
          <dt>Weights on device</dt><dd data-fact="backend-bytes">{formatBytes(facts.backendBytes)}</dd>
          <dt>Backend</dt><dd data-fact="backend">{facts.backend}</dd>
          <dt>Why</dt><dd data-fact="backend-reason">{facts.backendReason}</dd>
          <dt>Adapter</dt>
          <dd data-fact="adapter">
            {facts.adapter ? `${facts.adapter.description}${facts.adapter.isFallbackAdapter ? ' (software fallback)' : ''}` : 'no WebGPU adapter'}
          </dd>
        </dl>
      )}
    </section>
  );
}
