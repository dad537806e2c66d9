/**
 * The data slice: the uploaded table as the worker summarized it (the rows stay in the
 * worker), the column mapping, the split options and the dataset built from them.
 *
 * The dataset is rebuilt on its own after a file loads (with the worker's guessed mapping)
 * and after every change of mapping or split, so a first-time user can press Train right
 * after dropping a CSV.
 */
import { create } from 'zustand';
import { DEFAULT_SPLIT, type ColumnMapping } from '../data';
import type { DatasetSummary, TableSummary } from '../engine/api';
import { WorkerRequestError } from '../worker/client';
import { toUiError, type UiError } from './errors';
import { SAMPLES, sampleUrl, type Sample } from './samples';
import { useSettingsStore } from './settingsStore';
import { workerClient } from './workerClient';

export type TableStatus = 'empty' | 'reading' | 'parsing' | 'ready' | 'error';

export interface SplitSettings {
  validationFraction: number;
  seed: number;
}

interface DataState {
  status: TableStatus;
  fileName: string | null;
  fileBytes: number;
  /** Parse progress from 'tableProgress' events, 0..1. */
  progress: number;
  table: TableSummary | null;
  error: UiError | null;

  mapping: ColumnMapping | null;
  split: SplitSettings;
  building: boolean;
  dataset: DatasetSummary | null;
  datasetError: UiError | null;

  loadFile(file: File): Promise<void>;
  /** The sample being fetched, and why it could not be. */
  sampleLoading: Sample['id'] | null;
  sampleError: UiError | null;
  /** One of the studio's sample CSVs, loaded as an upload would be (mapped, split, ready to train). */
  loadSample(id: Sample['id']): Promise<void>;
  /**
   * A stored run's data again (resuming it after a reload): its CSV's bytes, with its
   * mapping and split. Resolves when the dataset is built; throws its error otherwise.
   */
  restore(source: { fileName: string; bytes: ArrayBuffer; mapping: ColumnMapping; split: SplitSettings }): Promise<void>;
  receiveProgress(fraction: number): void;
  setMapping(change: Partial<ColumnMapping>): void;
  setSplit(change: Partial<SplitSettings>): void;
  build(): Promise<void>;
}

// Replies to superseded requests (an older file, an older mapping) are dropped.
let tableRequest = 0;
/** A copy of the loaded table's bytes: a run stores them, so it can be resumed after a reload. */
let source: { fileName: string; bytes: ArrayBuffer } | null = null;

/** The bytes of the table the worker holds now (null before one loads). */
export function tableSource(): { fileName: string; bytes: ArrayBuffer } | null {
  return source;
}
let buildRequest = 0;
let buildTimer: ReturnType<typeof setTimeout> | null = null;

export const useDataStore = create<DataState>((set, get) => {
  /** Number inputs change per keystroke; the dataset follows once typing pauses. */
  const scheduleBuild = () => {
    if (buildTimer) clearTimeout(buildTimer);
    buildTimer = setTimeout(() => {
      buildTimer = null;
      void get().build();
    }, 250);
  };

  return {
    status: 'empty',
    fileName: null,
    fileBytes: 0,
    progress: 0,
    table: null,
    error: null,
    mapping: null,
    split: DEFAULT_SPLIT,
    building: false,
    dataset: null,
    datasetError: null,
    sampleLoading: null,
    sampleError: null,

    async loadSample(id) {
      const sample = SAMPLES.find((s) => s.id === id);
      if (!sample) return;
      set({ sampleLoading: id, sampleError: null });
      try {
        const response = await fetch(sampleUrl(sample.file));
        if (!response.ok) throw new Error(`${sample.file} answered HTTP ${response.status}`);
        const bytes = await response.arrayBuffer();
        await get().loadFile(new File([bytes], sample.file, { type: 'text/csv' }));
      } catch (e) {
        set({ sampleError: { code: 'network', message: `The sample ${sample.file} could not be loaded (${(e as Error).message ?? String(e)}).`, hint: 'Reload the page and try again.' } });
      } finally {
        set({ sampleLoading: null });
      }
    },

    async loadFile(file) {
      const request = ++tableRequest;
      set({ status: 'reading', fileName: file.name, fileBytes: file.size, progress: 0, error: null });
      try {
        const bytes = await file.arrayBuffer();
        if (request !== tableRequest) return;
        set({ status: 'parsing' });
        const copy = bytes.slice(0);
        // Transferred, not copied: the page gives the bytes up to the worker (and keeps its copy for the run history).
        const table = await workerClient().request('loadTable', { fileName: file.name, bytes }, undefined, [bytes]);
        if (request !== tableRequest) return;
        source = { fileName: file.name, bytes: copy };
        set({ status: 'ready', table, progress: 1, mapping: table.guess, dataset: null, datasetError: null });
        await get().build();
      } catch (e) {
        if (request !== tableRequest) return;
        // The worker keeps the previous table when a file fails to parse; so does the page.
        const previous = get().table;
        set({ status: previous ? 'ready' : 'error', error: toUiError(e), fileName: previous?.fileName ?? file.name });
      }
    },

    async restore({ fileName, bytes, mapping, split }) {
      const request = ++tableRequest;
      if (buildTimer) clearTimeout(buildTimer);
      buildTimer = null;
      set({ status: 'parsing', fileName, fileBytes: bytes.byteLength, progress: 0, error: null });
      const copy = bytes.slice(0);
      try {
        const table = await workerClient().request('loadTable', { fileName, bytes }, undefined, [bytes]);
        if (request !== tableRequest) throw new Error('Another file was chosen meanwhile.');
        source = { fileName, bytes: copy };
        set({ status: 'ready', table, progress: 1, mapping, split, dataset: null, datasetError: null });
      } catch (e) {
        if (request === tableRequest) {
          const previous = get().table;
          set({ status: previous ? 'ready' : 'error', error: toUiError(e), fileName: previous?.fileName ?? fileName });
        }
        throw e;
      }
      await get().build();
      const { dataset, datasetError } = get();
      if (!dataset) throw new WorkerRequestError(datasetError ?? { code: 'data', message: 'The stored data could not be mapped again.' });
    },

    receiveProgress(fraction) {
      if (get().status === 'parsing') set({ progress: fraction });
    },

    setMapping(change) {
      const mapping = get().mapping;
      if (!mapping) return;
      set({ mapping: { ...mapping, ...change } });
      scheduleBuild();
    },

    setSplit(change) {
      set({ split: { ...get().split, ...change } });
      scheduleBuild();
    },

    async build() {
      const { mapping, split, table } = get();
      if (!mapping || !table) return;
      if (mapping.textColumns.length === 0 || !mapping.labelColumn) {
        set({
          dataset: null, building: false,
          datasetError: { code: 'data', message: 'Choose at least one text column and the label column.' },
        });
        return;
      }
      const request = ++buildRequest;
      set({ building: true, datasetError: null });
      try {
        const dataset = await workerClient().request('buildDataset', {
          mapping,
          split: { validationFraction: split.validationFraction, seed: split.seed, splitColumn: mapping.splitColumn },
        });
        if (request !== buildRequest) return;
        set({ dataset, building: false });
        useSettingsStore.getState().adoptLabels(dataset.verbalizer, dataset.tasks.length);
      } catch (e) {
        if (request !== buildRequest) return;
        set({ dataset: null, building: false, datasetError: toUiError(e) });
      }
    },
  };
});
