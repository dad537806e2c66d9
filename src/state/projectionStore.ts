/**
 * The projections slice: the latest nearest-token projection of the soft prompt and the
 * one before it (so the grid can mark what changed), the metric being shown, and how many
 * updates have arrived in this run.
 *
 * Store order (each store imports and subscribes only to stores before it):
 * settings → data → model → token lengths → training → run plan, projection, inspect, export → prompts → history.
 * This slice follows the training slice: it takes the run's projections as they arrive and
 * starts over with each new run.
 */
import { create } from 'zustand';
import type { ProjectionMetric } from '../tuning/projection';
import type { ProjectionSummary } from '../engine/api';
import { useTrainingStore } from './trainingStore';

interface ProjectionState {
  current: ProjectionSummary | null;
  previous: ProjectionSummary | null;
  updates: number;
  metric: ProjectionMetric;

  receive(p: ProjectionSummary): void;
  setMetric(metric: ProjectionMetric): void;
  reset(): void;
}

export const useProjectionStore = create<ProjectionState>((set, get) => ({
  current: null,
  previous: null,
  updates: 0,
  metric: 'cosine',

  receive(p) {
    set({ previous: get().current, current: p, updates: get().updates + 1 });
  },

  setMetric(metric) {
    set({ metric });
  },

  reset() {
    set({ current: null, previous: null, updates: 0 });
  },
}));

useTrainingStore.subscribe((run, before) => {
  if (run.freshStarts !== before.freshStarts) useProjectionStore.getState().reset();
  if (run.projection !== before.projection && run.projection) useProjectionStore.getState().receive(run.projection);
});

/** Ids in the previous projection's top-k of one row, for one metric. */
export function previousIds(previous: ProjectionSummary | null, metric: ProjectionMetric, row: number): Set<number> | null {
  const list = previous?.projection[metric][row];
  return list ? new Set(list.ids) : null;
}
