/**
 * The prompts slice: adapters loaded from files (a PEFT zip or folder, from the studio or
 * from Python), the prompt library kept in the worker for the loaded model, and batch
 * prediction over a CSV whose rows name their prompt.
 *
 * Store order (each store imports and subscribes only to stores before it):
 * settings → data → model → token lengths → training → run plan, projection, inspect, export → prompts → history.
 * This slice follows the model slice: another model loaded empties the library and the adapter.
 */
import Papa from 'papaparse';
import { create } from 'zustand';
import { decodeBytes } from '../data';
import type { AdapterInfo, LibraryEntry } from '../engine/api';
import { useDataStore } from './dataStore';
import { saveFile } from './download';
import { toUiError, type UiError } from './errors';
import { useModelStore } from './modelStore';
import { useProjectionStore } from './projectionStore';
import { useSettingsStore } from './settingsStore';
import { useTrainingStore } from './trainingStore';
import { workerClient } from './workerClient';

export interface BatchFile {
  fileName: string;
  bytes: ArrayBuffer;
  columns: string[];
}

export interface BatchResult {
  fileName: string;
  csv: string;
  rows: number;
  failed: number;
  /** The first rows of the result, for the preview (header first). */
  preview: string[][];
}

interface PromptsState {
  adapter: AdapterInfo | null;
  importing: boolean;
  importError: UiError | null;

  library: LibraryEntry[];
  libraryName: string;
  libraryBusy: boolean;
  libraryError: UiError | null;

  batchFile: BatchFile | null;
  textColumn: string;
  /** '' = one prompt for every row (`batchPrompt`). */
  promptColumn: string;
  batchPrompt: string;
  taskColumn: string;
  batchRunning: boolean;
  batchProgress: { done: number; total: number } | null;
  batchResult: BatchResult | null;
  batchError: UiError | null;

  /** A zip, or a folder's files with their relative paths. */
  importAdapter(input: { zip: File } | { files: { name: string; file: File }[]; folderName: string }): Promise<void>;
  setLibraryName(name: string): void;
  addToLibrary(): Promise<void>;
  removeFromLibrary(id: string): Promise<void>;
  chooseBatchFile(file: File): Promise<void>;
  setBatchColumns(columns: Partial<Pick<PromptsState, 'textColumn' | 'promptColumn' | 'batchPrompt' | 'taskColumn'>>): void;
  runBatch(): Promise<void>;
  downloadBatch(): void;
  receiveBatchProgress(done: number, total: number): void;
  /** Another model was loaded (this slice follows the model slice): the worker dropped its library and adapter. */
  modelChanged(): void;
}

const guessColumn = (columns: string[], pattern: RegExp) => columns.find((c) => pattern.test(c)) ?? '';

/**
 * The name "Add to library" uses when none is typed: the adapter's file name for an imported
 * prompt, else `<csv name>-<method>`; with -2, -3… when the library already has it.
 */
export function suggestLibraryName(args: { adapterFileName: string | null; csvFileName: string | null; method: string | null; taken: string[] }): string {
  const base = args.adapterFileName
    ? args.adapterFileName.replace(/\.zip$/i, '')
    : [args.csvFileName?.replace(/\.[^.]+$/, ''), args.method].filter(Boolean).join('-');
  if (!base) return '';
  const taken = new Set(args.taken);
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}-${n}`)) n++;
  return `${base}-${n}`;
}

export const usePromptsStore = create<PromptsState>((set, get) => ({
  adapter: null,
  importing: false,
  importError: null,
  library: [],
  libraryName: '',
  libraryBusy: false,
  libraryError: null,
  batchFile: null,
  textColumn: '',
  promptColumn: '',
  batchPrompt: '',
  taskColumn: '',
  batchRunning: false,
  batchProgress: null,
  batchResult: null,
  batchError: null,

  async importAdapter(input) {
    set({ importing: true, importError: null });
    const settings = useSettingsStore.getState();
    const fallback = { verbalizer: settings.verbalizer, template: settings.config.template };
    try {
      const adapter = 'zip' in input
        ? await workerClient().request('importAdapter', { fileName: input.zip.name, zip: await input.zip.arrayBuffer(), fallback })
        : await workerClient().request('importAdapter', { fileName: input.folderName, files: input.files, fallback });
      useTrainingStore.getState().adoptPrompt(adapter.run);
      set({ adapter, importing: false });
    } catch (e) {
      set({ importing: false, importError: toUiError(e) });
      return;
    }
    try {
      // Its nearest tokens, as a trained prompt shows them.
      const projection = await workerClient().request('project', {});
      useProjectionStore.getState().receive(projection);
    } catch (e) {
      set({ importError: toUiError(e) });
    }
  },

  setLibraryName(libraryName) {
    set({ libraryName });
  },

  async addToLibrary() {
    const name = get().libraryName.trim() || currentSuggestion();
    set({ libraryBusy: true, libraryError: null });
    try {
      const entry = await workerClient().request('addToLibrary', { name });
      set((s) => ({ library: [...s.library, entry], libraryBusy: false, libraryName: '', batchPrompt: s.batchPrompt || entry.name }));
    } catch (e) {
      set({ libraryBusy: false, libraryError: toUiError(e) });
    }
  },

  async removeFromLibrary(id) {
    set({ libraryError: null });
    try {
      await workerClient().request('removeFromLibrary', { id });
      set((s) => {
        const library = s.library.filter((p) => p.id !== id);
        return { library, batchPrompt: library.some((p) => p.name === s.batchPrompt) ? s.batchPrompt : library[0]?.name ?? '' };
      });
    } catch (e) {
      set({ libraryError: toUiError(e) });
    }
  },

  async chooseBatchFile(file) {
    set({ batchError: null, batchResult: null, batchProgress: null });
    try {
      const bytes = await file.arrayBuffer();
      // Only the header is read here; the worker parses the whole file.
      const head = decodeBytes(new Uint8Array(bytes.slice(0, 64 * 1024))).text;
      const firstRow = Papa.parse<string[]>(head, { preview: 1 }).data[0] ?? [];
      const columns = firstRow.map((c) => c.trim()).filter(Boolean);
      if (columns.length === 0) throw new Error(`${file.name} has no header line with column names.`);
      set({
        batchFile: { fileName: file.name, bytes, columns },
        textColumn: guessColumn(columns, /^(text|sentence|message|content|input)$/i) || columns[0],
        promptColumn: guessColumn(columns, /^(prompt|adapter)$/i),
        taskColumn: guessColumn(columns, /^task$/i),
      });
    } catch (e) {
      set({ batchFile: null, batchError: toUiError(e) });
    }
  },

  setBatchColumns(columns) {
    set(columns);
  },

  async runBatch() {
    const { batchFile, textColumn, promptColumn, batchPrompt, taskColumn } = get();
    if (!batchFile) return;
    set({ batchRunning: true, batchError: null, batchResult: null, batchProgress: null });
    try {
      const result = await workerClient().request('batchPredict', {
        fileName: batchFile.fileName,
        bytes: batchFile.bytes.slice(0),
        textColumn,
        ...(promptColumn ? { promptColumn } : { prompt: batchPrompt }),
        ...(taskColumn ? { taskColumn } : {}),
      });
      const preview = Papa.parse<string[]>(result.csv, { preview: 6 }).data;
      set({ batchRunning: false, batchResult: { ...result, preview } });
    } catch (e) {
      set({ batchRunning: false, batchError: toUiError(e) });
    }
  },

  downloadBatch() {
    const result = get().batchResult;
    if (result) saveFile(result.fileName, result.csv, 'text/csv;charset=utf-8');
  },

  receiveBatchProgress(done, total) {
    set({ batchProgress: { done, total } });
  },

  modelChanged() {
    set({ adapter: null, library: [], batchPrompt: '', batchResult: null, batchProgress: null, importError: null, libraryError: null });
  },
}));

// After another model loads (not the first); the training slice drops its run on the same change.
useModelStore.subscribe((model, before) => {
  if (model.facts !== before.facts && before.facts !== null) usePromptsStore.getState().modelChanged();
});

const currentOf = (adapter: AdapterInfo | null, runId: string | null) => (adapter !== null && adapter.runId === runId ? adapter : null);

/** The imported adapter while it is the current prompt (no run started since), else null. */
export function useCurrentAdapter(): AdapterInfo | null {
  const adapter = usePromptsStore((s) => s.adapter);
  const runId = useTrainingStore((s) => s.runId);
  return currentOf(adapter, runId);
}

/** The current prompt's default library name (see suggestLibraryName). */
export function currentSuggestion(): string {
  const { library } = usePromptsStore.getState();
  const { info } = useTrainingStore.getState();
  const current = currentOf(usePromptsStore.getState().adapter, useTrainingStore.getState().runId);
  return suggestLibraryName({
    adapterFileName: current?.fileName ?? null,
    csvFileName: useDataStore.getState().fileName,
    method: info?.config.method ?? null,
    taken: library.map((p) => p.name),
  });
}
