import type { BackendChoice } from '../../engine/backend';

/** Said plainly when the only WebGPU here is a software adapter: why the studio took wasm, or why a forced WebGPU is slow. */
export function BackendWarning({ backend }: { backend: BackendChoice | null }) {
  if (!backend || !backend.adapter?.isFallbackAdapter) return null;
  if (backend.backend === 'webgpu') {
    return (
      <p className="warning" data-testid="fallback-warning">
        WebGPU here is a software fallback ({backend.adapter.description || 'no GPU'}): it works, but training is slow.
        WebAssembly is faster on this machine; open the studio without <code>?backend=webgpu</code> to use it.
      </p>
    );
  }
  return (
    <p className="warning" data-testid="fallback-warning">
      This browser's WebGPU is a software fallback ({backend.adapter.description || 'no GPU'}), which is slower than
      WebAssembly, so the studio runs on {backend.backend}. With a real GPU, training is much faster. To use WebGPU
      anyway, open the studio with <code>?backend=webgpu</code>.
    </p>
  );
}

/** Said when the multi-threaded WebAssembly build was tried and did not start: the studio runs, on one thread. */
export function ThreadsFallbackWarning({ backend }: { backend: BackendChoice | null }) {
  if (!backend?.wasm?.fellBack) return null;
  return (
    <p className="warning" data-testid="threads-fallback">
      WebAssembly runs on one thread here: {backend.wasm.singleThreadedBecause}. Training works, only slower than with every
      core. Reloading the page may help; if it does not, the host may be missing the cross-origin isolation headers for
      the thread scripts.
    </p>
  );
}
