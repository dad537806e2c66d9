/**
 * Keeps the page's current run in IndexedDB as it happens (src/storage/runStore.ts): the run
 * record when it starts, its events in batches (one transaction at most every FLUSH_MS, never
 * one per step), its status and summary with each batch, and each checkpoint as it comes.
 * Writes go one after another in the order they were asked for; a write that fails is
 * reported to the history slice (the message shows in place) and its events are kept to try
 * again with the next batch. Not a store: nothing here is rendered.
 */
import type { TrainConfig } from '../tuning/config';
import type { EngineEvent, EvaluationSummary, ProjectionSummary, PromptVariant, RunInfo } from '../engine/api';
import type { StepEvent } from '../tuning/trainer';
import { RunStore, tableKey, type RunStatus, type StoredDataSource, type StoredEvent, type StoredRun } from '../storage/runStore';
import { toUiError } from './errors';

/** How often a running run's events are written (one transaction each time). */
export const FLUSH_MS = 500;
/** A batch is written early when this many events are waiting. */
const FLUSH_EVENTS = 500;
/** Events kept for a retry after failed writes, at most (the oldest go first). */
const MAX_PENDING = 20_000;

/** What a stored event carries, by kind. */
export type StoredEventData =
  | { kind: 'step'; data: StepEvent }
  | { kind: 'evaluation'; data: { variant: PromptVariant; evaluation: EvaluationSummary } }
  | { kind: 'baseline'; data: { variant: PromptVariant; evaluation: EvaluationSummary; prompt?: string } }
  | { kind: 'projection'; data: ProjectionSummary };

/** The part of a worker event the history keeps, or null for events it does not keep. */
export function toStoredEvent(e: EngineEvent): (StoredEventData & { step: number }) | null {
  switch (e.event) {
    case 'step':
      return { kind: 'step', step: e.step.step, data: e.step };
    case 'evaluation':
      return { kind: 'evaluation', step: e.evaluation.step, data: { variant: e.variant, evaluation: e.evaluation } };
    case 'baseline':
      return { kind: 'baseline', step: 0, data: { variant: e.variant, evaluation: e.evaluation, prompt: e.prompt } };
    case 'projection':
      return { kind: 'projection', step: e.projection.step, data: e.projection };
    default:
      return null;
  }
}

/** A stored event as the worker event it was (for replaying a run's history into the page). */
export function fromStoredEvent(runId: string, stored: StoredEvent): EngineEvent | null {
  const e = stored as unknown as StoredEventData;
  switch (e.kind) {
    case 'step':
      return { event: 'step', runId, step: e.data };
    case 'evaluation':
      return { event: 'evaluation', runId, variant: e.data.variant, evaluation: e.data.evaluation };
    case 'baseline':
      return { event: 'baseline', runId, variant: e.data.variant, evaluation: e.data.evaluation, prompt: e.data.prompt };
    case 'projection':
      return { event: 'projection', runId, projection: e.data };
    default:
      return null;
  }
}

/** What the page's run recorder reports to the UI (the history slice listens). */
export interface RecorderListener {
  /** A write failed (null: the next one went through). */
  storageError(runId: string, error: ReturnType<typeof toUiError> | null): void;
  /** Everything up to `step` is stored, and the checkpoint of `checkpointStep`; `run` is the record as stored now. */
  saved(runId: string, progress: { step: number; checkpointStep: number | null }, run: StoredRun): void;
}

let storePromise: Promise<RunStore> | null = null;

/** The page's one RunStore, opened on first use (a failure to open is reported by whoever asked). */
export function runStore(): Promise<RunStore> {
  if (!storePromise) {
    storePromise = RunStore.open();
    // A later call tries again (site data may have been re-enabled).
    storePromise.catch(() => (storePromise = null));
  }
  return storePromise;
}

interface Recording {
  runId: string;
  /** The record as last written (or to be written by `create`). */
  run: StoredRun;
  /** The CSV to store with a new run (absent when resuming: it is stored already). */
  table: { fileName: string; bytes: ArrayBuffer } | null;
  /** Whether the record is in the store; until it is, events wait. */
  created: boolean;
  /** Attached (start reply seen); events of an unattached run wait. */
  attached: boolean;
  seq: number;
  pending: StoredEvent[];
  /** The summary and status have changed since the last write. */
  dirty: boolean;
  lastStep: number;
  /** The newest checkpoint (kept in memory for an in-session resume, and until it is stored). */
  checkpoint: { step: number; bytes: ArrayBuffer } | null;
  checkpointStored: number | null;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface BeginArgs {
  info: RunInfo;
  name: string;
  modelName: string;
  data: Omit<StoredDataSource, 'tableKey'>;
  table: { fileName: string; bytes: ArrayBuffer } | null;
}

export class RunRecorder {
  private current: Recording | null = null;
  private queue: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly open: () => Promise<RunStore>, private readonly listener: RecorderListener) {}

  get runId(): string | null {
    return this.current?.runId ?? null;
  }

  /** The record of the current run as the recorder holds it, if it is `runId` (it may not be stored). */
  currentRun(runId: string): StoredRun | null {
    return this.current?.runId === runId && this.current.attached ? { ...this.current.run } : null;
  }

  /** A resume that did not start: the run stays stored as failed, with the reason. */
  failed(runId: string, message: string): void {
    const r = this.current;
    if (r?.runId !== runId || !r.attached) return;
    r.run = { ...r.run, error: message };
    this.setStatus(r, 'failed');
  }

  /** The newest checkpoint of the current run, if it is `runId`. */
  latestCheckpoint(runId: string): { step: number; bytes: ArrayBuffer } | null {
    return this.current?.runId === runId ? this.current.checkpoint : null;
  }

  /** A new run started: its record (with the CSV it trains on) is written first. */
  begin({ info, name, modelName, data, table }: BeginArgs): void {
    const now = Date.now();
    const config = info.config as TrainConfig;
    const previous = this.current?.runId === info.runId ? this.current : null;
    const run: StoredRun = {
      id: info.runId, name, createdAt: now, updatedAt: now, status: 'running',
      config: { ...config }, verbalizer: info.verbalizer, labels: info.labels, model: { name: modelName },
      data: { ...data, trainCount: info.trainCount, validationCount: info.validationCount },
      summary: { step: 0, totalSteps: config.steps, lastLoss: null, bestAccuracy: null, zeroShotAccuracy: null, discreteAccuracy: null },
      checkpointStep: null, error: null,
    };
    this.current = {
      runId: info.runId, run, table, created: false, attached: true, seq: previous?.seq ?? 0, pending: previous?.pending ?? [],
      dirty: true, lastStep: 0, checkpoint: previous?.checkpoint ?? null, checkpointStored: null, timer: null,
    };
    for (const e of this.current.pending) this.summarize(this.current, e);
    this.schedule(0);
  }

  /**
   * The page continues a stored run (after a reload, or after an error): events go on from
   * `lastSeq` + 1, and the stored events after the checkpoint's step are dropped (the run
   * repeats those steps).
   */
  attach(run: StoredRun, lastSeq: number, checkpoint: { step: number; bytes: ArrayBuffer }): void {
    const previous = this.current?.runId === run.id ? this.current : null;
    if (previous?.timer) clearTimeout(previous.timer);
    const recording: Recording = {
      runId: run.id, run: { ...run, status: 'running', error: null, checkpointStep: checkpoint.step }, table: previous?.table ?? null,
      created: previous ? previous.created : true, attached: true, seq: previous ? previous.seq : lastSeq,
      // Events of the attempt that failed and are not written yet (only those up to the checkpoint are kept).
      pending: previous?.pending ?? [], dirty: true, lastStep: checkpoint.step,
      checkpoint, checkpointStored: previous ? previous.checkpointStored : checkpoint.step, timer: null,
    };
    recording.run.summary = { ...recording.run.summary, step: checkpoint.step };
    this.current = recording;
    this.cutAt(recording, checkpoint.step);
  }

  /**
   * The run goes on from the checkpoint of `step`: the stored events after it are dropped
   * (they are done again), and so are those still waiting. Events that come after this call
   * are written after the cut.
   */
  private cutAt(r: Recording, step: number): void {
    const kept = r.pending.filter((e) => e.kind === 'baseline' || (e.step ?? 0) <= step);
    r.pending = [];
    this.enqueue(async (store) => {
      if (!r.created) {
        // Nothing stored to cut yet: the kept events go first when the run is created.
        r.pending = [...kept, ...r.pending];
        return;
      }
      if (kept.length > 0) {
        try {
          await store.appendEvents(kept);
        } catch (e) {
          r.pending = [...kept, ...r.pending];
          throw e;
        }
      }
      await store.truncateEvents(r.runId, step);
    });
  }

  /** A worker event of the page's current run (the training slice decides which run that is). */
  receive(e: EngineEvent, currentRunId: string | null): void {
    if (!('runId' in e) || e.runId === null || e.runId !== currentRunId) return;
    let r = this.current;
    if (!r || r.runId !== e.runId) {
      // Events that arrive before the start reply: kept until begin() (rare; the worker replies first).
      if (e.event !== 'step' && e.event !== 'baseline' && e.event !== 'evaluation' && e.event !== 'projection' && e.event !== 'checkpoint') return;
      r = this.current = {
        runId: e.runId, run: null as unknown as StoredRun, table: null, created: false, attached: false, seq: 0, pending: [],
        dirty: false, lastStep: 0, checkpoint: null, checkpointStored: null, timer: null,
      };
    }
    if (!r.attached && e.event !== 'step' && e.event !== 'baseline' && e.event !== 'evaluation' && e.event !== 'projection' && e.event !== 'checkpoint') return;
    switch (e.event) {
      case 'checkpoint':
        r.checkpoint = { step: e.step, bytes: e.bytes };
        if (r.attached) this.enqueueCheckpoint(r);
        return;
      case 'trainingPhase':
        if (e.phase === 'paused') this.setStatus(r, 'paused');
        else if (e.phase === 'training' && r.run.status === 'paused') this.setStatus(r, 'running');
        return;
      case 'trainingEnded': {
        const status: RunStatus = e.summary.stoppedBy === 'user' ? 'stopped' : e.summary.stoppedBy === 'non-finite-loss' ? 'failed' : 'completed';
        r.run = { ...r.run, error: e.summary.stoppedBy === 'non-finite-loss' ? e.summary.message : null };
        this.setStatus(r, status);
        return;
      }
      case 'trainingError':
        r.run = { ...r.run, error: e.error.message };
        this.setStatus(r, 'failed');
        return;
      case 'deviceLost':
        // The engine goes on from its last in-memory checkpoint: the steps after it come again.
        if (e.resumedFromStep !== null && r.attached) this.cutAt(r, e.resumedFromStep);
        return;
    }
    const stored = toStoredEvent(e);
    if (!stored) return;
    const event: StoredEvent = { runId: r.runId, seq: ++r.seq, kind: stored.kind, step: stored.step, data: stored.data };
    r.pending.push(event);
    if (r.pending.length > MAX_PENDING) r.pending.splice(0, r.pending.length - MAX_PENDING);
    if (r.attached) {
      this.summarize(r, event);
      this.schedule(r.pending.length >= FLUSH_EVENTS ? 0 : FLUSH_MS);
    }
  }

  /** Writes what is waiting now (the page is going away, or a test wants it stored). */
  flushNow(): Promise<void> {
    const r = this.current;
    if (r?.attached) {
      if (r.timer) clearTimeout(r.timer);
      r.timer = null;
      this.enqueue((store) => this.writeBatch(store, r));
    }
    return this.queue;
  }

  private summarize(r: Recording, e: StoredEvent): void {
    const s = { ...r.run.summary };
    const data = e.data as StoredEventData['data'];
    if (e.kind === 'step') {
      const step = data as StepEvent;
      s.step = step.step;
      s.totalSteps = step.totalSteps;
      s.lastLoss = step.loss;
      r.lastStep = step.step;
    } else if (e.kind === 'evaluation' || e.kind === 'baseline') {
      const { variant, evaluation } = data as { variant: PromptVariant; evaluation: EvaluationSummary };
      const accuracy = evaluation.report.accuracy;
      if (variant === 'soft') s.bestAccuracy = s.bestAccuracy === null ? accuracy : Math.max(s.bestAccuracy, accuracy);
      else if (variant === 'zero-shot') s.zeroShotAccuracy = accuracy;
      else if (variant === 'discrete') s.discreteAccuracy = accuracy;
    }
    r.run = { ...r.run, summary: s };
    r.dirty = true;
  }

  private setStatus(r: Recording, status: RunStatus): void {
    if (!r.run) return;
    r.run = { ...r.run, status };
    r.dirty = true;
    if (r.attached) {
      // A final checkpoint may still be on its way with the status change; both are written now.
      if (r.timer) clearTimeout(r.timer);
      r.timer = null;
      this.enqueue((store) => this.writeBatch(store, r));
    }
  }

  private schedule(ms: number): void {
    const r = this.current;
    if (!r || r.timer) return;
    r.timer = setTimeout(() => {
      r.timer = null;
      this.enqueue((store) => this.writeBatch(store, r));
    }, ms);
  }

  private enqueueCheckpoint(r: Recording): void {
    this.enqueue((store) => this.writeBatch(store, r));
  }

  /**
   * The record (the first time), then the waiting events with the summary and status in one
   * transaction, then the newest checkpoint if it is not stored yet (older ones are skipped).
   */
  private async writeBatch(store: RunStore, r: Recording): Promise<void> {
    if (!r.attached) return;
    if (!r.created) {
      let key: string | undefined;
      if (r.table) key = await tableKey(r.table.bytes);
      const run: StoredRun = { ...r.run, data: { ...r.run.data, tableKey: key } };
      await store.startRun(run, r.table && key ? { key, fileName: r.table.fileName, savedAt: Date.now(), bytes: r.table.bytes } : undefined);
      r.run = { ...r.run, data: run.data };
      r.created = true;
      r.table = null;
    }
    if (r.pending.length > 0 || r.dirty) {
      const events = r.pending;
      r.pending = [];
      const snapshot = r.run;
      r.dirty = false;
      try {
        await store.record(r.runId, events, (existing) => ({
          ...existing, status: snapshot.status, summary: snapshot.summary, error: snapshot.error ?? null,
        }));
      } catch (e) {
        // Kept for the next batch, ahead of newer events.
        r.pending = [...events, ...r.pending];
        r.dirty = true;
        throw e;
      }
    }
    const checkpoint = r.checkpoint;
    if (checkpoint && r.checkpointStored !== checkpoint.step) {
      await store.saveCheckpoint({ runId: r.runId, step: checkpoint.step, savedAt: Date.now(), bytes: checkpoint.bytes });
      r.checkpointStored = checkpoint.step;
      r.run = { ...r.run, checkpointStep: checkpoint.step };
    }
    this.listener.saved(r.runId, { step: r.lastStep, checkpointStep: r.checkpointStored }, { ...r.run });
  }

  private enqueue(write: (store: RunStore) => Promise<void>): void {
    const runId = this.current?.runId ?? '';
    this.queue = this.queue.then(async () => {
      try {
        await write(await this.open());
        if (this.failing) {
          this.failing = false;
          this.listener.storageError(runId, null);
        }
      } catch (e) {
        this.failing = true;
        this.listener.storageError(runId, toUiError(e));
      }
    });
  }
}

const listeners = new Set<RecorderListener>();

/** The page's one recorder; the history slice listens to it (onRecorder). */
export const runRecorder = new RunRecorder(runStore, {
  storageError: (runId, error) => listeners.forEach((l) => l.storageError(runId, error)),
  saved: (runId, progress, run) => listeners.forEach((l) => l.saved(runId, progress, run)),
});

export function onRecorder(listener: RecorderListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

if (typeof addEventListener === 'function') {
  // Best effort: what is waiting is written as the page goes away (a reload mid-run).
  addEventListener('pagehide', () => void runRecorder.flushNow());
}
