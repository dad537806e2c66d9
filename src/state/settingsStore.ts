/**
 * The method slice: the training settings being edited (a full TrainConfig, starting from
 * the engine's defaults), the verbalizer (label → the text the model scores) and the
 * worker's verdict on the last settings it was sent.
 */
import { create } from 'zustand';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../tuning/config';
import type { OptimizerKind } from '../tuning/optimizers';
import type { UiError } from './errors';

/** The learning rate each optimizer is usually run with on soft prompts. */
export const USUAL_LEARNING_RATE: Record<OptimizerKind, number> = { adafactor: 0.3, adamw: 0.1 };

interface SettingsState {
  config: TrainConfig;
  verbalizer: Record<string, string>;
  /** The dataset's default verbalizer, to reset to. */
  defaultVerbalizer: Record<string, string>;
  /** Tasks in the current dataset (multitask needs at least one). */
  tasks: number;
  /** A 'settings' error the worker answered startTraining with. */
  workerError: UiError | null;

  set<K extends keyof TrainConfig>(key: K, value: TrainConfig[K]): void;
  setVerbalizer(label: string, text: string): void;
  resetVerbalizer(): void;
  /** A new dataset: take its labels' default verbalizer unless the labels are the same. */
  adoptLabels(verbalizer: Record<string, string>, tasks: number): void;
  setWorkerError(error: UiError | null): void;
  /** A stored run's settings and verbalizer (a resumed run keeps its own). */
  adopt(config: TrainConfig, verbalizer: Record<string, string>): void;
}

const sameKeys = (a: Record<string, string>, b: Record<string, string>) => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
};

export const useSettingsStore = create<SettingsState>((set, get) => ({
  config: { ...DEFAULT_TRAIN_CONFIG },
  verbalizer: {},
  defaultVerbalizer: {},
  tasks: 0,
  workerError: null,

  set(key, value) {
    set({ config: { ...get().config, [key]: value }, workerError: null });
  },

  setVerbalizer(label, text) {
    set({ verbalizer: { ...get().verbalizer, [label]: text }, workerError: null });
  },

  resetVerbalizer() {
    set({ verbalizer: { ...get().defaultVerbalizer } });
  },

  adoptLabels(verbalizer, tasks) {
    const keep = sameKeys(verbalizer, get().verbalizer);
    set({ defaultVerbalizer: verbalizer, verbalizer: keep ? get().verbalizer : { ...verbalizer }, tasks });
  },

  setWorkerError(error) {
    set({ workerError: error });
  },

  adopt(config, verbalizer) {
    set({ config: { ...DEFAULT_TRAIN_CONFIG, ...config }, verbalizer: { ...verbalizer }, workerError: null });
  },
}));
