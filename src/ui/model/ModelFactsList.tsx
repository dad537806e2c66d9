import type { WasmThreading } from '../../engine/backend';
import type { ModelFacts } from '../../engine/session';
import { formatBytes, formatCount } from '../format';

const BUILD_NAMES = { 'threaded-simd': 'WebAssembly SIMD, multi-threaded', simd: 'WebAssembly SIMD', plain: 'WebAssembly' } as const;

function threadsText(wasm: WasmThreading): string {
  const cores = wasm.cores ? `, of ${wasm.cores} logical core${wasm.cores === 1 ? '' : 's'}` : '';
  const because = wasm.singleThreadedBecause ? `: ${wasm.singleThreadedBecause}` : '';
  return `${wasm.threads} (${BUILD_NAMES[wasm.build]}${cores})${because}`;
}

/**
 * What the loaded model is and where it runs. data-fact attributes are what tests read.
 * `wasm`: on the wasm backend, the build, the threads it runs on and how int8 is dequantized.
 */
export function ModelFactsList({ facts, wasm }: { facts: ModelFacts; wasm?: WasmThreading | null }) {
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
      {facts.backend === 'wasm' && wasm && (
        <>
          <dt>Threads</dt><dd data-fact="threads" data-threads={wasm.threads} data-build={wasm.build}>{threadsText(wasm)}</dd>
          {wasm.int8Dequantize && (
            <>
              <dt>int8 dequantization</dt>
              <dd data-fact="int8-dequantize" data-kind={wasm.int8Dequantize}>
                {wasm.int8Dequantize === 'simd' ? 'WebAssembly SIMD, in the backend\'s memory' : 'a JavaScript loop (the SIMD module could not start here: no WebAssembly SIMD, or no access to the backend\'s memory)'}
              </dd>
            </>
          )}
        </>
      )}
      <dt>Adapter</dt>
      <dd data-fact="adapter">
        {facts.adapter ? `${facts.adapter.description}${facts.adapter.isFallbackAdapter ? ' (software fallback)' : ''}` : 'no WebGPU adapter'}
      </dd>
    </dl>
  );
}
