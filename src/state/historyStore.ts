/**
 * The run history slice: the runs kept in this browser (IndexedDB, see runRecorder), the
 * offer to resume a run a reload interrupted, the run opened read-only, two runs compared,
 * renaming, deleting and exporting, and whether the current run is being saved (a full
 * disk says so here). Every action's error is kept next to what it concerns.
 */
import { create } from 'zustand';
import { StudioError } from '../errors';
import type { StoredEvent, StoredRun } from '../storage/runStore';
import { saveFile } from './download';
import { useDataStore } from './dataStore';
import { toUiError, type UiError } from './errors';
import { useModelStore } from './modelStore';
import { compareRuns, fileSafe, metricsOf, runExport, seriesOf, type Comparison, type RunMetrics } from './runHistory';
import { onRecorder, runStore } from './runRecorder';
import type { TrainingSeries } from './trainingSeries';
import { isActive, useTrainingStore } from './trainingStore';

export type RowAction = 'open' | 'rename' | 'delete' | 'export' | 'checkpoint';

export interface ViewedRun {
  run: StoredRun;
  series: TrainingSeries;
  metrics: RunMetrics;
  points: number;
}

interface HistoryState {
  loaded: boolean;
  runs: StoredRun[];
  /** The history could not be opened or read. */
  loadError: UiError | null;

  /** Runs a reload (or a closed tab) interrupted, with a checkpoint to resume from. */
  offers: StoredRun[];
  resuming: string | null;
  offerError: { runId: string; error: UiError } | null;

  /** A write of the current run failed (null once one goes through again). */
  storageError: UiError | null;
  /** What of the current run is stored. */
  saved: { runId: string; step: number; checkpointStep: number | null } | null;

  busy: { runId: string; action: RowAction } | null;
  rowError: { runId: string; error: UiError } | null;
  renaming: { runId: string; name: string } | null;
  confirmingDelete: string | null;
  /** The last file handed to the browser by an export. */
  exported: string | null;

  viewed: ViewedRun | null;
  selected: string[];
  comparison: Comparison | null;
  comparing: boolean;
  compareError: UiError | null;

  load(): Promise<void>;
  resume(runId: string): Promise<void>;
  discard(runId: string): Promise<void>;
  open(runId: string): Promise<void>;
  closeViewed(): void;
  toggleSelected(runId: string): void;
  compare(): Promise<void>;
  closeComparison(): void;
  startRename(runId: string): void;
  setRenameText(name: string): void;
  commitRename(): Promise<void>;
  cancelRename(): void;
  askDelete(runId: string): void;
  cancelDelete(): void;
  confirmDelete(): Promise<void>;
  exportRun(runId: string): Promise<void>;
  exportCheckpoint(runId: string): Promise<void>;
}

/** Whether a stored run is the one this page is training now. */
export function isLiveRun(runId: string): boolean {
  const t = useTrainingStore.getState();
  return t.runId === runId && isActive(t);
}

/** The status a stored run is shown with: a run left 'running' by an earlier page is 'interrupted'. */
export function shownStatus(run: StoredRun, liveRunId: string | null): string {
  if (run.status === 'running' || run.status === 'paused') {
    if (run.id === liveRunId) return run.status;
    return 'interrupted';
  }
  return run.status;
}

function withoutOffer(offers: StoredRun[], runId: string): StoredRun[] {
  return offers.filter((r) => r.id !== runId);
}

/** The events a resumed run keeps: everything up to its checkpoint's step (the rest it repeats). */
function upToStep(events: StoredEvent[], step: number): StoredEvent[] {
  return events.filter((e) => e.kind === 'baseline' || typeof e.step !== 'number' || e.step <= step);
}

export const useHistoryStore = create<HistoryState>((set, get) => {
  const replaceRun = (run: StoredRun) => {
    const runs = get().runs;
    const i = runs.findIndex((r) => r.id === run.id);
    set({ runs: i < 0 ? [run, ...runs] : runs.map((r) => (r.id === run.id ? run : r)) });
    const viewed = get().viewed;
    if (viewed?.run.id === run.id) set({ viewed: { ...viewed, run } });
  };

  /** Runs one row action with its busy flag; its error stays on the row. */
  const rowAction = async (runId: string, action: RowAction, body: () => Promise<void>) => {
    set({ busy: { runId, action }, rowError: null, exported: null });
    try {
      await body();
    } catch (e) {
      set({ rowError: { runId, error: toUiError(e) } });
    } finally {
      set({ busy: null });
    }
  };

  onRecorder({
    storageError: (_runId, error) => set({ storageError: error }),
    saved: (runId, progress, run) => {
      set({ saved: { runId, ...progress } });
      replaceRun(run);
    },
  });

  return {
    loaded: false,
    runs: [],
    loadError: null,
    offers: [],
    resuming: null,
    offerError: null,
    storageError: null,
    saved: null,
    busy: null,
    rowError: null,
    renaming: null,
    confirmingDelete: null,
    exported: null,
    viewed: null,
    selected: [],
    comparison: null,
    comparing: false,
    compareError: null,

    async load() {
      try {
        const store = await runStore();
        const runs = await store.listRuns();
        const live = useTrainingStore.getState().runId;
        const offers = runs.filter((r) => (r.status === 'running' || r.status === 'paused') && r.id !== live && typeof r.checkpointStep === 'number');
        set({ runs, offers, loaded: true, loadError: null });
      } catch (e) {
        set({ loaded: true, loadError: toUiError(e) });
      }
    },

    async resume(runId) {
      if (get().resuming) return;
      set({ resuming: runId, offerError: null });
      try {
        if (useModelStore.getState().status !== 'ready') {
          throw new StudioError('model', 'The model is not loaded yet.', 'Resume once the Model step says it is loaded.');
        }
        if (isActive(useTrainingStore.getState())) {
          throw new StudioError('training', 'A run is in progress.', 'Stop it before resuming another one.');
        }
        const store = await runStore();
        const run = await store.getRun(runId);
        const checkpoint = await store.checkpoint(runId);
        if (!run || !checkpoint) {
          throw new StudioError('checkpoint', 'This run has no stored checkpoint to resume from.', 'Discard the offer; the run stays in the history.');
        }
        const { mapping, split, tableKey } = run.data;
        const table = tableKey ? await store.table(tableKey) : undefined;
        if (!table || !mapping || !split) {
          throw new StudioError('data', `The data this run was trained on (${run.data.fileName}) is not stored in this browser, so it cannot be resumed.`,
            'Discard the offer; the run stays in the history, and its checkpoint can be downloaded there.');
        }
        const events = await store.events(runId);
        const lastSeq = events.reduce((m, e) => Math.max(m, e.seq), 0);
        await useDataStore.getState().restore({
          fileName: table.fileName, bytes: table.bytes, mapping, split: { validationFraction: split.validationFraction, seed: split.seed },
        });
        const ok = await useTrainingStore.getState().resumeRun({
          run, checkpoint: { step: checkpoint.step, bytes: checkpoint.bytes }, history: upToStep(events, checkpoint.step), lastSeq,
        });
        if (!ok) throw useTrainingStore.getState().error ?? new StudioError('training', 'The run could not be resumed.');
        set({ offers: withoutOffer(get().offers, runId) });
      } catch (e) {
        set({ offerError: { runId, error: e instanceof Error ? toUiError(e) : (e as UiError) } });
      } finally {
        set({ resuming: null });
      }
    },

    async discard(runId) {
      set({ offerError: null });
      try {
        const store = await runStore();
        const run = await store.updateRun(runId, (r) => ({ ...r, status: 'stopped' }));
        if (run) replaceRun(run);
        set({ offers: withoutOffer(get().offers, runId) });
      } catch (e) {
        set({ offerError: { runId, error: toUiError(e) } });
      }
    },

    async open(runId) {
      await rowAction(runId, 'open', async () => {
        const store = await runStore();
        const run = await store.getRun(runId);
        if (!run) throw new StudioError('storage', 'That run is no longer in the history.');
        const events = await store.events(runId);
        const series = seriesOf(events);
        set({ viewed: { run, series, metrics: metricsOf(events), points: series.length } });
      });
    },

    closeViewed() {
      set({ viewed: null });
    },

    toggleSelected(runId) {
      const selected = get().selected;
      if (selected.includes(runId)) set({ selected: selected.filter((id) => id !== runId), compareError: null });
      // Two at most: a third replaces the older choice.
      else set({ selected: [...selected.slice(-1), runId], compareError: null });
    },

    async compare() {
      const ids = get().selected;
      if (ids.length !== 2) {
        set({ compareError: { code: 'storage', message: 'Choose two runs to compare.' } });
        return;
      }
      set({ comparing: true, compareError: null });
      try {
        const store = await runStore();
        const loaded = await Promise.all(ids.map(async (id) => {
          const run = await store.getRun(id);
          if (!run) throw new StudioError('storage', 'One of the chosen runs is no longer in the history.');
          return { run, events: await store.events(id) };
        }));
        set({ comparison: compareRuns(loaded[0], loaded[1]) });
      } catch (e) {
        set({ compareError: toUiError(e) });
      } finally {
        set({ comparing: false });
      }
    },

    closeComparison() {
      set({ comparison: null });
    },

    startRename(runId) {
      const run = get().runs.find((r) => r.id === runId);
      if (run) set({ renaming: { runId, name: run.name }, rowError: null, confirmingDelete: null });
    },

    setRenameText(name) {
      const renaming = get().renaming;
      if (renaming) set({ renaming: { ...renaming, name } });
    },

    async commitRename() {
      const renaming = get().renaming;
      if (!renaming) return;
      await rowAction(renaming.runId, 'rename', async () => {
        const store = await runStore();
        await store.rename(renaming.runId, renaming.name);
        const run = await store.getRun(renaming.runId);
        if (run) replaceRun(run);
        set({ renaming: null });
      });
    },

    cancelRename() {
      set({ renaming: null });
    },

    askDelete(runId) {
      if (isLiveRun(runId)) {
        set({ rowError: { runId, error: { code: 'storage', message: 'This run is training now.', hint: 'Stop it before deleting it.' } } });
        return;
      }
      set({ confirmingDelete: runId, renaming: null, rowError: null });
    },

    cancelDelete() {
      set({ confirmingDelete: null });
    },

    async confirmDelete() {
      const runId = get().confirmingDelete;
      if (!runId) return;
      await rowAction(runId, 'delete', async () => {
        if (isLiveRun(runId)) throw new StudioError('storage', 'This run is training now.', 'Stop it before deleting it.');
        const store = await runStore();
        await store.deleteRun(runId);
        const s = get();
        set({
          runs: s.runs.filter((r) => r.id !== runId),
          offers: withoutOffer(s.offers, runId),
          selected: s.selected.filter((id) => id !== runId),
          viewed: s.viewed?.run.id === runId ? null : s.viewed,
          comparison: s.comparison?.runs.some((r) => r.id === runId) ? null : s.comparison,
          confirmingDelete: null,
        });
      });
    },

    async exportRun(runId) {
      await rowAction(runId, 'export', async () => {
        const store = await runStore();
        const run = await store.getRun(runId);
        if (!run) throw new StudioError('storage', 'That run is no longer in the history.');
        const events = await store.events(runId);
        const fileName = `${fileSafe(run.name)}.run.json`;
        saveFile(fileName, runExport(run, events, run.checkpointStep ?? null), 'application/json');
        set({ exported: fileName });
      });
    },

    async exportCheckpoint(runId) {
      await rowAction(runId, 'checkpoint', async () => {
        const store = await runStore();
        const run = await store.getRun(runId);
        const checkpoint = await store.checkpoint(runId);
        if (!run || !checkpoint) throw new StudioError('checkpoint', 'This run has no stored checkpoint.', 'Checkpoints are saved every "Checkpoint every" steps and at the end of a run.');
        const fileName = `${fileSafe(run.name)}-step${checkpoint.step}.checkpoint.safetensors`;
        saveFile(fileName, checkpoint.bytes, 'application/octet-stream');
        set({ exported: fileName });
      });
    },
  };
});
