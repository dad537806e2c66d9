/** Emscripten's thread scripts for tfjs-backend-wasm, served as files by the build (vite.config.ts). */
declare module 'virtual:tfjs-wasm-threads' {
  /** The threaded build's main script, as published: each pthread worker imports it. */
  export const mainScriptUrl: string;
  /** The pthread worker script. */
  export const workerUrl: string;
}
