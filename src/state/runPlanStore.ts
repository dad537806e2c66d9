/**
 * The memory plan of a run at the current settings, asked of the worker as they change (the
 * engine's previewRun): the Method step says what a run will hold, what it recomputes to fit,
 * or why it would be refused, before Train is pressed. The worker checks again at the start.
 *
 * Store order: after the training slice, whose runs it waits out (a run's tensors change what
 * is left, and the settings are locked meanwhile).
 */
import { create } from 'zustand';
import type { RunMemory } from '../engine/api';
import { validateTrainConfig } from '../tuning/config';
import { useDataStore } from './dataStore';
import { toUiError, type UiError } from './errors';
import { useModelStore } from './modelStore';
import { useSettingsStore } from './settingsStore';
import { isActive, useTrainingStore } from './trainingStore';
import { workerClient } from './workerClient';

interface RunPlanState {
  plan: RunMemory | null;
  /** The engine's refusal of these settings (memory, template, verbalizer, positions). */
  refusal: UiError | null;
}

export const useRunPlanStore = create<RunPlanState>(() => ({ plan: null, refusal: null }));

let request = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function refresh(): void {
  const current = ++request;
  if (timer) clearTimeout(timer);
  timer = null;
  const { dataset } = useDataStore.getState();
  const { config, verbalizer, tasks } = useSettingsStore.getState();
  const ready = dataset && useModelStore.getState().status === 'ready' && !isActive(useTrainingStore.getState());
  // Settings the page itself refuses say so already (settingsCheck.ts): no plan for them.
  const valid = ready && (() => {
    try {
      validateTrainConfig(config, { trainExamples: dataset.trainCount, tasks });
      return true;
    } catch {
      return false;
    }
  })();
  useRunPlanStore.setState({ plan: null, refusal: null });
  if (!valid) return;
  // Fields change per keystroke: the plan follows once typing pauses.
  timer = setTimeout(() => {
    timer = null;
    workerClient().request('previewRun', { config, verbalizer }).then(
      (plan) => { if (current === request) useRunPlanStore.setState({ plan, refusal: null }); },
      (e) => { if (current === request) useRunPlanStore.setState({ plan: null, refusal: toUiError(e) }); },
    );
  }, 400);
}

useSettingsStore.subscribe((settings, before) => {
  if (settings.config !== before.config || settings.verbalizer !== before.verbalizer) refresh();
});
useDataStore.subscribe((data, before) => { if (data.dataset !== before.dataset) refresh(); });
useModelStore.subscribe((model, before) => { if (model.facts !== before.facts || model.status !== before.status) refresh(); });
useTrainingStore.subscribe((run, before) => { if (isActive(run) !== isActive(before)) refresh(); });
