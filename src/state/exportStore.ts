/**
 * The export slice: the downloads (the trained soft prompt as a PEFT adapter zip, the
 * validation predictions as CSV, the resumable checkpoint, and the base model for Python),
 * each with its own busy flag and error shown in place.
 *
 * Store order (each store imports and subscribes only to stores before it):
 * settings → data → model → token lengths → training → run plan, projection, inspect, export → prompts → history.
 * This slice follows the training slice: a new run clears the previous run's downloads.
 */
import { create } from 'zustand';
import type { BaseModelProgress } from '../engine/api';
import { saveFile } from './download';
import { toUiError, type UiError } from './errors';
import { useTrainingStore } from './trainingStore';
import { workerClient } from './workerClient';

export type DownloadKind = 'adapter' | 'predictions' | 'checkpoint' | 'baseModel';

interface DownloadState {
  busy: boolean;
  error: UiError | null;
  /** The last file handed to the browser. */
  saved: string | null;
  /** While busy, the model's source being read again (the base model: its bytes are not kept once loaded), then its float32 weights written. */
  reading?: BaseModelProgress;
}

interface ExportState {
  adapter: DownloadState;
  predictions: DownloadState;
  checkpoint: DownloadState;
  /** The loaded model in Hugging Face layout (float32), which an exported adapter's card loads in Python. */
  baseModel: DownloadState;
  download(kind: DownloadKind): Promise<void>;
  /** The engine's progress on the base model's download: reading the model's source, then writing. */
  receiveReading(progress: BaseModelProgress): void;
  reset(): void;
}

const idle: DownloadState = { busy: false, error: null, saved: null };

export const useExportStore = create<ExportState>((set, get) => ({
  adapter: idle,
  predictions: idle,
  checkpoint: idle,
  baseModel: idle,

  reset() {
    set({ adapter: idle, predictions: idle, checkpoint: idle, baseModel: idle });
  },

  receiveReading({ stage, file, loaded, total }) {
    const { baseModel } = get();
    if (baseModel.busy) set({ baseModel: { ...baseModel, reading: { stage, file, loaded, total } } });
  },

  async download(kind) {
    set({ [kind]: { busy: true, error: null, saved: null } });
    try {
      if (kind === 'adapter') {
        const { fileName, bytes } = await workerClient().request('exportAdapter', {});
        saveFile(fileName, bytes, 'application/zip');
        set({ adapter: { busy: false, error: null, saved: fileName } });
      } else if (kind === 'baseModel') {
        const { fileName, blob } = await workerClient().request('exportBaseModel', {});
        saveFile(fileName, blob, 'application/zip');
        set({ baseModel: { busy: false, error: null, saved: fileName } });
      } else if (kind === 'checkpoint') {
        const { fileName, bytes } = await workerClient().request('exportCheckpoint', {});
        saveFile(fileName, bytes, 'application/octet-stream');
        set({ checkpoint: { busy: false, error: null, saved: fileName } });
      } else {
        const { fileName, csv } = await workerClient().request('exportPredictions', {});
        saveFile(fileName, csv, 'text/csv;charset=utf-8');
        set({ predictions: { busy: false, error: null, saved: fileName } });
      }
    } catch (e) {
      set({ [kind]: { busy: false, error: toUiError(e), saved: null } });
    }
  },
}));

useTrainingStore.subscribe((run, before) => {
  if (run.freshStarts !== before.freshStarts) useExportStore.getState().reset();
});
