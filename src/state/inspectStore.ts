/**
 * The inspect slice: the playground (label probabilities of a typed text, with and
 * without the soft prompt) and evaluations the user asks for on demand (the discrete
 * projection). The latest evaluations of the run live in the training slice.
 *
 * Store order (each store imports and subscribes only to stores before it):
 * settings → data → model → token lengths → training → run plan, projection, inspect, export → prompts → history.
 * This slice follows the training slice: a new run clears what applied to the previous one.
 * Evaluations asked for here are handed down to the training slice, which keeps them.
 */
import { create } from 'zustand';
import type { Prediction, PromptVariant, RunInfo } from '../engine/api';
import { toUiError, type UiError } from './errors';
import { useTrainingStore } from './trainingStore';
import { workerClient } from './workerClient';

interface InspectState {
  playgroundText: string;
  /** A multitask prompt's task the playground predicts for (its prompt, its labels). */
  playgroundTask: number;
  prediction: Prediction | null;
  /** The labels the prediction shows (its task's), each with its index into the probabilities. */
  predictionLabels: { name: string; index: number }[];
  predicting: boolean;
  predictError: UiError | null;

  evaluating: PromptVariant | null;
  evaluateError: UiError | null;
  /** The current prompt evaluated on demand (an imported adapter has no run that evaluates it). */
  promptEvaluating: boolean;
  promptEvaluateError: UiError | null;

  setPlaygroundText(text: string): void;
  setPlaygroundTask(task: number): void;
  predict(): Promise<void>;
  evaluateDiscrete(): Promise<void>;
  /** The soft prompt (and the zero-shot baseline, once) on the validation split. */
  evaluatePrompt(): Promise<void>;
  /** A new run: results of the previous one no longer apply (the typed text stays). */
  reset(): void;
}

/** The playground's continuation: as many tokens as the adapter card's `model.generate(…, max_new_tokens=8)`. */
export const PLAYGROUND_CONTINUATION_TOKENS = 8;

/** With free-text targets (target scoring) the continuation is the answer: as long as the longest target, within these bounds. */
export const PLAYGROUND_TARGET_TOKENS = { least: 8, most: 64 } as const;

/** How many tokens the playground continues for: the adapter card's 8, or a free-text run's longest target. */
export function playgroundTokens(info: Pick<RunInfo, 'config' | 'targetTokens'> | null): number {
  if (info?.config.scoring !== 'target') return PLAYGROUND_CONTINUATION_TOKENS;
  return Math.min(PLAYGROUND_TARGET_TOKENS.most, Math.max(PLAYGROUND_TARGET_TOKENS.least, info.targetTokens ?? PLAYGROUND_TARGET_TOKENS.most));
}

export const useInspectStore = create<InspectState>((set, get) => ({
  playgroundText: '',
  playgroundTask: 0,
  prediction: null,
  predictionLabels: [],
  predicting: false,
  predictError: null,
  evaluating: null,
  evaluateError: null,
  promptEvaluating: false,
  promptEvaluateError: null,

  setPlaygroundText(text) {
    set({ playgroundText: text });
  },

  setPlaygroundTask(task) {
    set({ playgroundTask: task, prediction: null, predictionLabels: [] });
  },

  async predict() {
    const text = get().playgroundText;
    if (!text.trim()) return;
    const info = useTrainingStore.getState().info;
    const multitask = (info?.tasks?.length ?? 0) > 1;
    const task = multitask ? Math.min(get().playgroundTask, info!.tasks!.length - 1) : 0;
    const shown = multitask && info?.taskLabels?.[task] ? info.taskLabels[task] : (info?.labels ?? []).map((_, i) => i);
    // Free-text targets are not ranked: the continuation is the prediction.
    const target = info?.config.scoring === 'target';
    const labels = target ? [] : shown.map((index) => ({ name: info!.labels[index], index }));
    set({ predicting: true, predictError: null });
    try {
      const [prediction] = await workerClient().request('predict', {
        texts: [text], variants: ['soft', 'zero-shot'], continueTokens: playgroundTokens(info), task,
      });
      set({ prediction, predictionLabels: labels, predicting: false });
    } catch (e) {
      set({ predictError: toUiError(e), predicting: false });
    }
  },

  reset() {
    set({ prediction: null, predictionLabels: [], predictError: null, evaluateError: null, promptEvaluateError: null });
  },

  async evaluatePrompt() {
    set({ promptEvaluating: true, promptEvaluateError: null });
    try {
      const training = useTrainingStore.getState();
      const runId = training.runId;
      const soft = await workerClient().request('evaluate', { variant: 'soft' });
      const zeroShot = training.zeroShot ? null : await workerClient().request('evaluate', { variant: 'zero-shot' });
      // The prompt may have changed meanwhile (another import, a new run): then these no longer apply.
      if (useTrainingStore.getState().runId === runId) {
        useTrainingStore.getState().setEvaluation('soft', soft);
        if (zeroShot) useTrainingStore.getState().setEvaluation('zero-shot', zeroShot);
      }
      set({ promptEvaluating: false });
    } catch (e) {
      set({ promptEvaluateError: toUiError(e), promptEvaluating: false });
    }
  },

  async evaluateDiscrete() {
    set({ evaluating: 'discrete', evaluateError: null });
    try {
      const evaluation = await workerClient().request('evaluate', { variant: 'discrete' });
      useTrainingStore.getState().setDiscrete(evaluation);
      set({ evaluating: null });
    } catch (e) {
      set({ evaluateError: toUiError(e), evaluating: null });
    }
  },
}));

useTrainingStore.subscribe((run, before) => {
  if (run.freshStarts !== before.freshStarts) useInspectStore.getState().reset();
});
