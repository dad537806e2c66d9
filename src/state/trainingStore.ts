/**
 * The run slice: the training run's life (starting, running, paused, ended), its latest
 * step (at most once per animation frame), baselines, evaluations, the end summary,
 * errors and notices, and the measured time per step that the Method panel's estimate uses.
 * The per-step loss history lives in trainingSeries, outside React state.
 *
 * Store order (each store imports and subscribes only to stores before it):
 * settings → data → model → token lengths → training → run plan, projection, inspect, export → prompts → history.
 * This slice subscribes to the model slice (another model drops the current run) and calls
 * none of the slices after it: they subscribe to it and follow `freshStarts` (a new current
 * run) and `projection`.
 */
import { create } from 'zustand';
import type { RunSummary, StepEvent, StepProgress } from '../tuning/trainer';
import type { StoredEvent, StoredRun } from '../storage/runStore';
import { isEvaluationStep, type TrainConfig } from '../tuning/config';
import type { MeasuredStep } from '../tuning/runEstimate';
import type { EngineEvent, EvaluationSummary, ProjectionSummary, PromptVariant, RunInfo } from '../engine/api';
import { tableSource, useDataStore } from './dataStore';
import { EtaEstimator } from './eta';
import { fromSerialized, toUiError, type UiError } from './errors';
import { frameBatcher } from './frame';
import { useModelStore } from './modelStore';
import { fromStoredEvent, runRecorder } from './runRecorder';
import { useSettingsStore } from './settingsStore';
import { trainingSeries } from './trainingSeries';
import { workerClient } from './workerClient';

export type RunStatus = 'idle' | 'starting' | 'running' | 'paused' | 'ended' | 'failed';
export type RunPhase = Extract<EngineEvent, { event: 'trainingPhase' }>['phase'];
type Control = 'pause' | 'resume' | 'stop';

/**
 * What the run is doing inside a slow step or evaluation (the engine reports these on wasm
 * and cpu, once they have run a second): the step's layer, or the examples scored so far.
 */
export type RunActivity =
  | { kind: 'step'; progress: StepProgress }
  | { kind: 'evaluation'; variant: PromptVariant; step: number; done: number; total: number };

/** Time per step measured on this machine, with what it was measured on. */
export interface StepTiming extends MeasuredStep {
  steps: number;
  backend: string;
}

interface TrainingState {
  status: RunStatus;
  runId: string | null;
  info: RunInfo | null;
  phase: RunPhase | null;
  lastStep: StepEvent | null;
  /** Inside a slow step or evaluation, where it is; null otherwise. */
  activity: RunActivity | null;
  /**
   * How fast the run goes: time per step and tokens per second, the median of the recent
   * steps (one step's figures jitter; the first also warms up). Null before step 2.
   */
  pace: { stepMs: number; tokensPerSecond: number } | null;
  /** Time left, from the wall clock (evaluations included, pauses not), steadied (see EtaEstimator). */
  etaMs: number | null;
  zeroShot: EvaluationSummary | null;
  textBaseline: EvaluationSummary | null;
  textPrompt: string | null;
  evaluation: EvaluationSummary | null;
  bestAccuracy: number | null;
  discrete: EvaluationSummary | null;
  summary: RunSummary | null;
  error: UiError | null;
  /** Warnings from the run (log events, a lost GPU device), newest last. */
  notices: string[];
  /** A control request on its way (the button says so until the worker confirms). */
  pending: Control | null;
  timing: StepTiming | null;
  /** The step of the run's newest resumable checkpoint (what a resume after an error starts from). */
  checkpointStep: number | null;
  /** The run was resumed from a stored checkpoint at this step (this page session). */
  resumedFrom: number | null;
  /**
   * Counts the times a new current run began (a start, an adopted prompt, a resume that
   * rebuilds its history, a dropped run): the slices holding results of the previous run
   * (projection, inspect, export) reset themselves when it changes.
   */
  freshStarts: number;
  /** The current run's newest nearest-token projection, as it arrived (the projection slice follows it). */
  projection: ProjectionSummary | null;

  start(): Promise<void>;
  /**
   * Continues a stored run from its checkpoint. With `history` (after a reload) the chart and
   * metrics are first rebuilt from the stored events; without it (after an error in this
   * session) they are kept as they are. Resolves true when the run is going again.
   */
  resumeRun(args: { run: StoredRun; checkpoint: { step: number; bytes: ArrayBuffer }; history?: StoredEvent[]; lastSeq: number }): Promise<boolean>;
  /** After a failed step: continue the same run from its newest checkpoint. */
  resumeFromCheckpoint(): Promise<void>;
  control(action: Control): Promise<void>;
  receive(e: EngineEvent): void;
  addNotice(message: string): void;
  setDiscrete(evaluation: EvaluationSummary): void;
  /** An evaluation asked for outside a run's own schedule (e.g. of an imported prompt). */
  setEvaluation(variant: 'soft' | 'zero-shot', evaluation: EvaluationSummary): void;
  /** Another model was loaded (this slice follows the model slice): the worker dropped the current prompt with the old model. */
  dropRun(): void;
  /** An imported prompt becomes the current one: no training, but predictions, projections and export work on it. */
  adoptPrompt(info: RunInfo): void;
}

export const useTrainingStore = create<TrainingState>((set, get) => {
  // Steps arrive as fast as the engine runs; the page shows the latest once per frame.
  let latestStep: StepEvent | null = null;
  let timing: StepTiming | null = null;
  // The engine announces 'training' when its baselines finish even if the user paused during them;
  // a pause the user asked for lasts until the user resumes or stops.
  let userPaused = false;
  let pace: TrainingState['pace'] = null;
  /** The recent steps' own figures; the shown pace is their median, which an evaluation's stall does not move. */
  let recent: { stepMs: number; tokensPerSecond: number }[] = [];
  const eta = new EtaEstimator((step) => {
    const config = get().info?.config;
    return config ? isEvaluationStep(step, config) : false;
  });
  let activity: RunActivity | null = null;
  const flushActivity = frameBatcher(() => set({ activity }));
  /** The work `is` picks out has ended (its own event came): it is no longer under way. */
  const endActivity = (is: (a: RunActivity) => boolean) => {
    if (activity && is(activity)) {
      activity = null;
      flushActivity();
    }
  };
  const flushStep = frameBatcher(() => {
    const total = get().info?.config.steps ?? latestStep?.totalSteps ?? 0;
    set({ lastStep: latestStep, timing, pace, etaMs: latestStep ? eta.estimate(total, performance.now()) : null });
  });
  /**
   * The pace shown: the median of the last steps' own figures (the first step of a start,
   * which also warms up, left out). A median, not an average: the step an evaluation or a
   * pause lands in takes many times longer, and should not move the figure.
   */
  const addPace = (step: StepEvent, first: boolean) => {
    if (first) return;
    recent = [...recent.slice(-14), { stepMs: step.stepMs, tokensPerSecond: step.tokensPerSecond }];
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    pace = { stepMs: median(recent.map((r) => r.stepMs)), tokensPerSecond: median(recent.map((r) => r.tokensPerSecond)) };
  };

  const measure = (step: StepEvent) => {
    const info = get().info;
    if (!info) return;
    const { config } = info;
    // The first step also compiles shaders and warms caches: it counts only until there is a second.
    const fresh = timing === null || timing.steps === 0 || step.step <= info.startStep + 1;
    const backend = useModelStore.getState().facts?.backend ?? 'unknown';
    // After the first, the pace's median: a step an evaluation landed in does not count as the time per step.
    const ms = fresh || timing!.steps === 1 || pace === null ? step.stepMs : pace.stepMs;
    timing = {
      msPerStep: ms, steps: fresh ? 1 : timing!.steps + 1, backend,
      batchSize: config.batchSize * config.gradientAccumulation, microBatchSize: config.batchSize, maxLength: config.maxLength, numVirtualTokens: config.numVirtualTokens,
    };
  };

  /** A new current run: nothing of the previous one applies any more. `run` sets what the new one starts with. */
  const beginFresh = (run: Pick<TrainingState, 'status' | 'runId' | 'info' | 'phase' | 'checkpointStep' | 'resumedFrom'>) => {
    latestStep = null;
    activity = null;
    pace = null;
    recent = [];
    eta.reset();
    trainingSeries.reset();
    // The projection, inspect and export slices see freshStarts change and reset themselves.
    set({
      ...run, lastStep: null, activity: null, pace: null, etaMs: null, zeroShot: null, textBaseline: null, textPrompt: null, evaluation: null, bestAccuracy: null,
      discrete: null, summary: null, error: null, notices: [], pending: null, projection: null, freshStarts: get().freshStarts + 1,
    });
  };

  return {
    status: 'idle',
    runId: null,
    info: null,
    phase: null,
    lastStep: null,
    activity: null,
    pace: null,
    etaMs: null,
    zeroShot: null,
    textBaseline: null,
    textPrompt: null,
    evaluation: null,
    bestAccuracy: null,
    discrete: null,
    summary: null,
    error: null,
    notices: [],
    pending: null,
    timing: null,
    checkpointStep: null,
    resumedFrom: null,
    freshStarts: 0,
    projection: null,

    async start() {
      const settings = useSettingsStore.getState();
      if (!useDataStore.getState().dataset) return;
      userPaused = false;
      beginFresh({ status: 'starting', runId: null, info: null, phase: 'preparing', checkpointStep: null, resumedFrom: null });
      settings.setWorkerError(null);
      try {
        const info = await workerClient().request('startTraining', { config: settings.config, verbalizer: settings.verbalizer });
        // Events of this run may have arrived first; they are accepted while starting (see receive).
        set((s) => ({ info, runId: info.runId, status: s.status === 'starting' ? 'running' : s.status }));
        // The run goes into the browser's run history as it happens.
        const data = useDataStore.getState();
        const table = tableSource();
        const fileName = data.table?.fileName ?? table?.fileName ?? 'data';
        runRecorder.begin({
          info,
          name: `${fileName.replace(/\.[^.]+$/, '')}, ${info.config.method}, ${info.config.numVirtualTokens} tokens`,
          modelName: useModelStore.getState().facts?.name ?? 'unknown model',
          data: {
            fileName, trainCount: info.trainCount, validationCount: info.validationCount,
            ...(data.mapping ? {
              mapping: { ...data.mapping },
              split: { validationFraction: data.split.validationFraction, seed: data.split.seed, splitColumn: data.mapping.splitColumn },
            } : {}),
          },
          table: table && table.fileName === fileName ? table : null,
        });
      } catch (e) {
        const error = toUiError(e);
        if (error.code === 'settings') settings.setWorkerError(error);
        set({ status: 'idle', phase: null, error });
      }
    },

    adoptPrompt(info) {
      userPaused = false;
      beginFresh({ status: 'ended', runId: info.runId, info, phase: 'done', checkpointStep: null, resumedFrom: null });
    },

    async control(action) {
      set({ pending: action });
      if (action !== 'pause') userPaused = false;
      try {
        await workerClient().request(action, {});
        if (action === 'pause') userPaused = true;
      } catch (e) {
        set({ error: toUiError(e) });
      } finally {
        set({ pending: null });
      }
    },

    async resumeRun({ run, checkpoint, history, lastSeq }) {
      userPaused = false;
      if (history) {
        beginFresh({ status: 'starting', runId: run.id, info: null, phase: 'preparing', checkpointStep: checkpoint.step, resumedFrom: checkpoint.step });
        // The stored history, as if its events came again: the chart continues from its points.
        for (const stored of history) {
          const e = fromStoredEvent(run.id, stored);
          if (e) apply(e, true);
        }
        set({ lastStep: latestStep });
      } else {
        set({ status: 'starting', runId: run.id, phase: 'preparing', error: null, summary: null, pending: null, resumedFrom: checkpoint.step });
      }
      useSettingsStore.getState().adopt(run.config as unknown as TrainConfig, run.verbalizer);
      runRecorder.attach(run, lastSeq, checkpoint);
      try {
        const info = await workerClient().request('startTraining', {
          config: { steps: Number(run.config.steps) || undefined }, verbalizer: run.verbalizer, resumeFrom: checkpoint.bytes, runId: run.id,
        });
        set((s) => ({ info, status: s.status === 'starting' ? 'running' : s.status }));
        return true;
      } catch (e) {
        const error = toUiError(e);
        runRecorder.failed(run.id, error.message);
        set({ status: 'failed', phase: null, error });
        return false;
      }
    },

    async resumeFromCheckpoint() {
      const { runId, status } = get();
      if (!runId || status !== 'failed') return;
      const run = runRecorder.currentRun(runId);
      const checkpoint = runRecorder.latestCheckpoint(runId);
      if (!run || !checkpoint) {
        set({ error: { code: 'checkpoint', message: 'This run has no checkpoint to resume from.', hint: 'Press Train again to start over.' } });
        return;
      }
      await get().resumeRun({ run, checkpoint, lastSeq: 0 });
    },

    receive(e) {
      if (!('runId' in e) || e.runId === null) {
        if (e.event === 'deviceLost') get().addNotice(`The GPU device was lost (${e.reason}); the engine restarted on ${e.backend.backend}.`);
        return;
      }
      const s = get();
      // Ignore events of an earlier run; adopt the id of a run whose start reply is still on its way.
      if (s.runId !== null && e.runId !== s.runId) return;
      if (s.runId === null) {
        if (s.status !== 'starting') return;
        set({ runId: e.runId });
      }
      apply(e, false);
    },

    addNotice(message) {
      set((s) => ({ notices: [...s.notices.slice(-19), message] }));
    },

    setDiscrete(evaluation) {
      set({ discrete: evaluation });
    },

    setEvaluation(variant, evaluation) {
      if (variant === 'zero-shot') {
        set({ zeroShot: evaluation });
        return;
      }
      const best = get().bestAccuracy;
      set({ evaluation, bestAccuracy: best === null ? evaluation.report.accuracy : Math.max(best, evaluation.report.accuracy) });
    },

    dropRun() {
      if (isActive(get())) return;
      userPaused = false;
      beginFresh({ status: 'idle', runId: null, info: null, phase: null, checkpointStep: null, resumedFrom: null });
    },
  };

  /** One event of the current run; `replay`: from the stored history (no timing, no frame batching). */
  function apply(e: EngineEvent, replay: boolean): void {
    switch (e.event) {
      case 'trainingPhase': {
        if (e.phase === 'training' && userPaused) break;
        // Time while paused (or recovering) is not the run's pace.
        if (e.phase !== 'training') eta.gap();
        if (e.phase === 'paused' || e.phase === 'done') endActivity(() => true);
        const status: RunStatus | null = e.phase === 'paused' ? 'paused'
          : e.phase === 'done' ? 'ended'
            : get().status === 'starting' || get().status === 'paused' ? 'running' : null;
        set(status ? { phase: e.phase, status } : { phase: e.phase });
        break;
      }
      case 'step':
        trainingSeries.addStep(e.step.step, e.step.loss);
        latestStep = e.step;
        if (replay) break;
        endActivity((a) => a.kind === 'step' && a.progress.step <= e.step.step);
        addPace(e.step, timing === null || e.step.step <= (get().info?.startStep ?? 0) + 1);
        eta.add(e.step.step, performance.now());
        measure(e.step);
        flushStep();
        break;
      case 'stepProgress':
        // A step already reported is done: a late progress message of it is stale.
        if (replay || e.progress.step <= (latestStep?.step ?? 0)) break;
        activity = { kind: 'step', progress: e.progress };
        flushActivity();
        break;
      case 'evaluationProgress':
        if (replay) break;
        activity = { kind: 'evaluation', variant: e.variant, step: e.step, done: e.done, total: e.total };
        flushActivity();
        break;
      case 'baseline':
        endActivity((a) => a.kind === 'evaluation' && a.variant === e.variant);
        if (e.variant === 'zero-shot') {
          trainingSeries.setZeroShotAccuracy(e.evaluation.report.accuracy);
          set({ zeroShot: e.evaluation });
        } else if (e.variant === 'text') {
          set({ textBaseline: e.evaluation, textPrompt: e.prompt ?? null });
        }
        break;
      case 'evaluation':
        endActivity((a) => a.kind === 'evaluation' && a.variant === e.variant);
        if (e.variant === 'soft') {
          trainingSeries.addEvaluation(e.evaluation.step, e.evaluation.loss, e.evaluation.report.accuracy);
          const best = get().bestAccuracy;
          set({ evaluation: e.evaluation, bestAccuracy: best === null ? e.evaluation.report.accuracy : Math.max(best, e.evaluation.report.accuracy) });
        } else if (e.variant === 'discrete') {
          set({ discrete: e.evaluation });
        }
        break;
      case 'projection':
        set({ projection: e.projection });
        break;
      case 'trainingEnded':
        activity = null;
        set({ summary: e.summary, status: 'ended', lastStep: latestStep, activity: null });
        break;
      case 'trainingError':
        activity = null;
        set({ error: fromSerialized(e.error), status: 'failed', phase: null, lastStep: latestStep, activity: null });
        break;
      case 'deviceLost':
        get().addNotice(`The GPU device was lost (${e.reason}). Training continues on ${e.backend.backend}`
          + (e.resumedFromStep !== null ? ` from step ${e.resumedFromStep}, the last checkpoint.` : '.'));
        break;
      case 'checkpoint':
        // The bytes go to the run recorder (IndexedDB, and memory for a resume); the state keeps the step.
        set({ checkpointStep: e.step });
        break;
    }
  }
});

// Prompts belong to a model: after another model loads (not the first), the worker no longer has the current prompt.
useModelStore.subscribe((model, before) => {
  if (model.facts !== before.facts && before.facts !== null) useTrainingStore.getState().dropRun();
});

/** A run exists whose prompt can be evaluated, projected, predicted with and exported. */
export const hasRun = (s: TrainingState) => s.info !== null && (s.status === 'running' || s.status === 'paused' || s.status === 'ended');
/** The run is executing or paused (settings and model are locked). */
export const isActive = (s: TrainingState) => s.status === 'starting' || s.status === 'running' || s.status === 'paused';

if (typeof document !== 'undefined') {
  // The tab is hidden (often the step before it is closed) or the page is going away: the
  // running training takes a checkpoint at its next step, which the recorder stores, so a
  // resume loses as little as possible. (On pagehide the page may be gone before it lands;
  // the engine also checkpoints every 30 s and on pause and stop.)
  const checkpointSoon = () => {
    if (useTrainingStore.getState().status === 'running') workerClient().request('checkpointSoon', {}).catch(() => undefined);
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') checkpointSoon();
  });
  addEventListener('pagehide', checkpointSoon);
}
