/**
 * Runs kept in the browser's IndexedDB as they happen: each run's record (config, labels,
 * key metrics), its metric history (steps, evaluations, baselines, projections) and its
 * latest resumable checkpoint. A reload, a crash or a closed tab loses at most the events
 * of the last flush.
 *
 * Every write is one transaction, so a failed write (a full disk, the quota) aborts alone
 * and leaves what was stored before intact; the error comes back as a StudioError that
 * says what happened and what to do.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { StudioError } from '../errors';

export type RunStatus = 'running' | 'paused' | 'completed' | 'stopped' | 'failed';

export interface StoredRun {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  status: RunStatus;
  /** Everything needed to show, compare and resume the run. */
  config: Record<string, unknown>;
  verbalizer: Record<string, string>;
  labels: string[];
  model: { name: string; fingerprint?: string };
  data: { fileName: string; trainCount: number; validationCount: number };
  summary: {
    step: number;
    totalSteps: number;
    lastLoss: number | null;
    bestAccuracy: number | null;
    zeroShotAccuracy: number | null;
    discreteAccuracy: number | null;
  };
}

/** One event of a run's history, in the order it happened. */
export interface StoredEvent {
  runId: string;
  seq: number;
  kind: 'step' | 'evaluation' | 'baseline' | 'projection';
  data: unknown;
}

export interface StoredCheckpoint {
  runId: string;
  step: number;
  savedAt: number;
  bytes: ArrayBuffer;
}

interface StudioDB extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { createdAt: number } };
  events: { key: [string, number]; value: StoredEvent; indexes: { runId: string } };
  checkpoints: { key: string; value: StoredCheckpoint };
}

export const DB_NAME = 'prompt-tuning-studio';

function storageError(e: unknown, what: string): StudioError {
  const name = (e as { name?: string })?.name ?? '';
  if (name === 'QuotaExceededError' || /quota/i.test(String((e as Error)?.message ?? ''))) {
    return new StudioError('storage', `The browser's storage for this site is full, so ${what} could not be saved.`,
      'Earlier runs are unchanged. Delete old runs in the run history, or export them and then delete them, to make room.');
  }
  return new StudioError('storage', `${what[0].toUpperCase()}${what.slice(1)} could not be saved: ${(e as Error)?.message ?? String(e)}.`,
    'Earlier runs are unchanged. Training goes on; if this repeats, export the run.');
}

export class RunStore {
  private constructor(private readonly db: IDBPDatabase<StudioDB>) {}

  static async open(name = DB_NAME): Promise<RunStore> {
    try {
      const db = await openDB<StudioDB>(name, 1, {
        upgrade(db) {
          const runs = db.createObjectStore('runs', { keyPath: 'id' });
          runs.createIndex('createdAt', 'createdAt');
          const events = db.createObjectStore('events', { keyPath: ['runId', 'seq'] });
          events.createIndex('runId', 'runId');
          db.createObjectStore('checkpoints', { keyPath: 'runId' });
        },
      });
      return new RunStore(db);
    } catch (e) {
      throw new StudioError('storage', `The run history could not be opened: ${(e as Error)?.message ?? String(e)}.`,
        'Private browsing or disabled site data keeps the studio from saving runs; training still works, but reloading the page loses it.');
    }
  }

  async saveRun(run: StoredRun): Promise<void> {
    try {
      await this.db.put('runs', { ...run, updatedAt: Date.now() });
    } catch (e) {
      throw storageError(e, 'the run');
    }
  }

  async updateRun(id: string, change: (run: StoredRun) => StoredRun): Promise<StoredRun | null> {
    try {
      const tx = this.db.transaction('runs', 'readwrite');
      const run = await tx.store.get(id);
      if (!run) {
        await tx.done;
        return null;
      }
      const next = { ...change(run), updatedAt: Date.now() };
      await tx.store.put(next);
      await tx.done;
      return next;
    } catch (e) {
      throw storageError(e, 'the run');
    }
  }

  /** Appends events in one transaction (the caller batches them, e.g. once a second). */
  async appendEvents(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      const tx = this.db.transaction('events', 'readwrite');
      await Promise.all([...events.map((e) => tx.store.put(e)), tx.done]);
    } catch (e) {
      throw storageError(e, 'the latest training metrics');
    }
  }

  /** Replaces the run's checkpoint: the new one is in place before the old one is gone. */
  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    try {
      await this.db.put('checkpoints', checkpoint);
    } catch (e) {
      throw storageError(e, `the checkpoint of step ${checkpoint.step}`);
    }
  }

  async listRuns(): Promise<StoredRun[]> {
    const runs = await this.db.getAllFromIndex('runs', 'createdAt');
    return runs.reverse();
  }

  async getRun(id: string): Promise<StoredRun | undefined> {
    return this.db.get('runs', id);
  }

  async events(runId: string): Promise<StoredEvent[]> {
    const events = await this.db.getAllFromIndex('events', 'runId', runId);
    return events.sort((a, b) => a.seq - b.seq);
  }

  async checkpoint(runId: string): Promise<StoredCheckpoint | undefined> {
    return this.db.get('checkpoints', runId);
  }

  async rename(id: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (!trimmed) throw new StudioError('storage', 'A run needs a name.');
    await this.updateRun(id, (r) => ({ ...r, name: trimmed }));
  }

  /** Deletes a run with its history and checkpoint, all or nothing. */
  async deleteRun(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'events', 'checkpoints'], 'readwrite');
    const events = tx.objectStore('events');
    let cursor = await events.index('runId').openKeyCursor(IDBKeyRange.only(id));
    const keys: [string, number][] = [];
    while (cursor) {
      keys.push(cursor.primaryKey);
      cursor = await cursor.continue();
    }
    await Promise.all([
      ...keys.map((k) => events.delete(k)),
      tx.objectStore('runs').delete(id),
      tx.objectStore('checkpoints').delete(id),
      tx.done,
    ]);
  }

  /** Runs that were training when the page went away: the ones to offer to resume. */
  async interruptedRuns(): Promise<StoredRun[]> {
    return (await this.listRuns()).filter((r) => r.status === 'running' || r.status === 'paused');
  }

  close(): void {
    this.db.close();
  }
}
