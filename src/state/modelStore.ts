/**
 * The model slice: which backend the engine runs on, the loaded model's facts, load
 * progress and errors, and the "try the model" greedy continuation.
 */
import { create } from 'zustand';
import type { BackendChoice, BackendPreference } from '../engine/backend';
import type { ModelFacts } from '../engine/session';
import type { ModelSourceSpec } from '../worker/protocol';
import { toUiError, type UiError } from './errors';
import { workerClient } from './workerClient';

export type ModelStatus = 'idle' | 'starting' | 'loading' | 'ready' | 'error';

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** Read from the browser's cache: after a download into it (a second pass), or on a later load. */
  fromCache: boolean;
  /** Files finished before this one in the same load. */
  filesDone: string[];
}

interface ModelState {
  status: ModelStatus;
  backend: BackendChoice | null;
  facts: ModelFacts | null;
  /** What is being loaded, in words ("https://…", "Qwen/Qwen2-0.5B @ main", "4 files"). */
  loading: string | null;
  progress: LoadProgress | null;
  /** The engine did not start, or the first model did not load: nothing to fall back on. */
  error: UiError | null;
  /** A later load failed; the previous model is still loaded. */
  loadError: UiError | null;

  generating: boolean;
  generated: string;
  generateError: UiError | null;

  start(preference: BackendPreference, flags?: Record<string, number | boolean>): Promise<void>;
  load(source: ModelSourceSpec): Promise<void>;
  receiveProgress(progress: Omit<LoadProgress, 'filesDone'>): void;
  generate(prompt: string, maxNewTokens: number): Promise<void>;
}

export const defaultModelUrl = () => new URL(`${import.meta.env.BASE_URL}models/stories260K/`, location.href).href;

function describeSource(source: ModelSourceSpec): string {
  switch (source.kind) {
    case 'url':
      return source.label ?? source.url;
    case 'hub':
      return `${source.repo} @ ${source.revision}`;
    case 'files':
      return `${source.files.length} file${source.files.length === 1 ? '' : 's'}`;
  }
}

export const useModelStore = create<ModelState>((set, get) => ({
  status: 'idle',
  backend: null,
  facts: null,
  loading: null,
  progress: null,
  error: null,
  loadError: null,
  generating: false,
  generated: '',
  generateError: null,

  async start(preference, flags) {
    set({ status: 'starting', error: null });
    try {
      const interrupt = workerClient().interrupt?.buffer as SharedArrayBuffer | undefined;
      const backend = await workerClient().request('init', { backend: preference, flags, ...(interrupt ? { interrupt } : {}) });
      set({ backend });
    } catch (e) {
      set({ status: 'error', error: toUiError(e) });
      return;
    }
    await get().load({ kind: 'url', url: defaultModelUrl(), label: 'the embedded default model (stories260K)' });
  },

  async load(source) {
    const previous = get().facts;
    set({ status: 'loading', loading: describeSource(source), loadError: null, progress: null });
    try {
      const facts = await workerClient().request('loadModel', { source });
      // Prompts belong to a model: the worker dropped its library, imported adapter and current
      // prompt with the previous one. The training and prompts slices follow `facts` and drop theirs.
      set({ status: 'ready', facts, progress: null, loading: null, error: null });
    } catch (e) {
      // The worker keeps the previous model when a load fails; keep showing it.
      const error = toUiError(e);
      if (previous) set({ status: 'ready', loadError: error, progress: null, loading: null });
      else set({ status: 'error', error, progress: null, loading: null });
    }
  },

  receiveProgress({ file, loaded, total, fromCache }) {
    const current = get().progress;
    const filesDone = current && current.file !== file && !current.filesDone.includes(current.file)
      ? [...current.filesDone, current.file]
      : current?.filesDone ?? [];
    set({ progress: { file, loaded, total, fromCache, filesDone } });
  },

  async generate(prompt, maxNewTokens) {
    set({ generating: true, generated: '', generateError: null });
    let requestId = -1;
    const unsubscribe = workerClient().subscribe((e) => {
      if (e.event === 'token' && e.requestId === requestId) set({ generated: e.text });
    });
    try {
      const result = await workerClient().request('generate', { prompt, maxNewTokens }, (id) => (requestId = id));
      set({ generated: result.text });
    } catch (e) {
      set({ generateError: toUiError(e) });
    } finally {
      unsubscribe();
      set({ generating: false });
    }
  },
}));
