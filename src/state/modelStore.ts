/**
 * The model slice: which backend the engine runs on, the loaded model's facts, load
 * progress and errors, and the playground's greedy continuation.
 */
import { create } from 'zustand';
import type { BackendChoice, BackendPreference } from '../engine/backend';
import type { ModelFacts } from '../engine/session';
import type { ModelSourceSpec } from '../worker/protocol';
import { engine } from './engine';

export type ModelStatus = 'idle' | 'starting' | 'loading' | 'ready' | 'error';

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number | null;
}

interface ModelState {
  status: ModelStatus;
  backend: BackendChoice | null;
  facts: ModelFacts | null;
  progress: LoadProgress | null;
  error: string | null;

  generating: boolean;
  generated: string;
  generateError: string | null;

  start(preference: BackendPreference, flags?: Record<string, number | boolean>): Promise<void>;
  load(source: ModelSourceSpec): Promise<void>;
  generate(prompt: string, maxNewTokens: number): Promise<void>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const defaultModelUrl = () => new URL(`${import.meta.env.BASE_URL}models/stories260K/`, location.href).href;

export const useModelStore = create<ModelState>((set, get) => ({
  status: 'idle',
  backend: null,
  facts: null,
  progress: null,
  error: null,
  generating: false,
  generated: '',
  generateError: null,

  async start(preference, flags) {
    set({ status: 'starting', error: null });
    engine().subscribe((e) => {
      if (e.event === 'loadProgress') set({ progress: { file: e.file, loaded: e.loaded, total: e.total } });
    });
    try {
      const backend = await engine().request('init', { backend: preference, flags });
      set({ backend });
    } catch (e) {
      set({ status: 'error', error: message(e) });
      return;
    }
    await get().load({ kind: 'url', url: defaultModelUrl(), label: 'the embedded default model (stories260K)' });
  },

  async load(source) {
    const previous = get().facts;
    set({ status: 'loading', error: null, progress: null });
    try {
      const facts = await engine().request('loadModel', { source });
      set({ status: 'ready', facts, progress: null });
    } catch (e) {
      // The previous model stays loaded in the worker; keep showing it.
      set({ status: previous ? 'ready' : 'error', error: message(e), progress: null });
    }
  },

  async generate(prompt, maxNewTokens) {
    set({ generating: true, generated: '', generateError: null });
    let requestId = -1;
    const unsubscribe = engine().subscribe((e) => {
      if (e.event === 'token' && e.requestId === requestId) set({ generated: e.text });
    });
    try {
      const result = await engine().request('generate', { prompt, maxNewTokens }, (id) => (requestId = id));
      set({ generated: result.text });
    } catch (e) {
      set({ generateError: message(e) });
    } finally {
      unsubscribe();
      set({ generating: false });
    }
  },
}));
