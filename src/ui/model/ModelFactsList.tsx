import type { ModelFacts } from '../../engine/session';
import { formatBytes, formatCount } from '../format';

/** What the loaded model is and where it runs. data-fact attributes are what tests read. */
export function ModelFactsList({ facts }: { facts: ModelFacts }) {
  const bytesByType = Object.entries(facts.backendBytesByDtype).map(([t, b]) => `${t} ${formatBytes(b)}`).join(', ');
  return (
    <dl className="facts" data-testid="model-facts">
      <dt>Model</dt><dd data-fact="name">{facts.name}</dd>
      <dt>From</dt><dd data-fact="source">{facts.source}</dd>
      <dt>Architecture</dt><dd data-fact="architecture">{facts.architecture}</dd>
      <dt>Parameters</dt>
      <dd data-fact="parameters">
        {formatCount(facts.parameters)} ({facts.layers} layers, d={facts.hiddenSize}, {facts.heads} heads / {facts.kvHeads} KV heads, vocabulary {facts.vocabSize})
      </dd>
      <dt>Quantization</dt><dd data-fact="quantization">{facts.quantization}</dd>
      <dt>Weights on device</dt>
      <dd data-fact="backend-bytes"><span className="num">{formatBytes(facts.backendBytes)}</span>{bytesByType && <span className="muted"> ({bytesByType})</span>}</dd>
      <dt>Backend</dt><dd data-fact="backend">{facts.backend}</dd>
      <dt>Why</dt><dd data-fact="backend-reason">{facts.backendReason}</dd>
      <dt>Adapter</dt>
      <dd data-fact="adapter">
        {facts.adapter ? `${facts.adapter.description}${facts.adapter.isFallbackAdapter ? ' (software fallback)' : ''}` : 'no WebGPU adapter'}
      </dd>
    </dl>
  );
}
