/**
 * Runs kept in the browser's IndexedDB as they happen: each run's record (config, labels,
 * the data it was trained on, key metrics), its metric history (steps, evaluations,
 * baselines, projections), its latest resumable checkpoint, and the bytes of the CSV it
 * was trained on (kept once per distinct file, shared by the runs that used it), so a run
 * can be resumed after a reload. A reload, a crash or a closed tab loses at most the events
 * of the last flush.
 *
 * Every write is one transaction, so a failed write (a full disk, the quota) aborts alone
 * and leaves what was stored before intact; the error comes back as a StudioError that
 * says what happened and what to do.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { StudioError } from '../errors';

export type RunStatus = 'running' | 'paused' | 'completed' | 'stopped' | 'failed';

/** How the CSV's columns became examples, and how they were split (what `buildDataset` takes). */
export interface StoredDataSource {
  fileName: string;
  trainCount: number;
  validationCount: number;
  /** The key of the CSV's bytes in the `tables` store (absent: not kept, the run cannot be resumed after a reload). */
  tableKey?: string;
  mapping?: { textColumns: string[]; labelColumn: string | null; taskColumn: string | null; splitColumn: string | null };
  split?: { validationFraction: number; seed: number; splitColumn: string | null };
}

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
  data: StoredDataSource;
  summary: {
    step: number;
    totalSteps: number;
    lastLoss: number | null;
    bestAccuracy: number | null;
    zeroShotAccuracy: number | null;
    discreteAccuracy: number | null;
  };
  /** The step of the stored checkpoint (null or absent: none yet). */
  checkpointStep?: number | null;
  /** Why the run stopped, in words, when it failed. */
  error?: string | null;
}

/** One event of a run's history, in the order it happened. */
export interface StoredEvent {
  runId: string;
  seq: number;
  kind: 'step' | 'evaluation' | 'baseline' | 'projection';
  /** The training step it belongs to (what `truncateEvents` goes by). */
  step?: number;
  data: unknown;
}

export interface StoredCheckpoint {
  runId: string;
  step: number;
  savedAt: number;
  bytes: ArrayBuffer;
}

/** The bytes of a CSV a run was trained on. */
export interface StoredTable {
  key: string;
  fileName: string;
  savedAt: number;
  bytes: ArrayBuffer;
}

interface StudioDB extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { createdAt: number } };
  events: { key: [string, number]; value: StoredEvent; indexes: { runId: string } };
  checkpoints: { key: string; value: StoredCheckpoint };
  tables: { key: string; value: StoredTable };
}

export const DB_NAME = 'prompt-tuning-studio';
const DB_VERSION = 2;

const messageOf = (e: unknown) => (e as Error)?.message ?? String(e);

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string })?.name ?? '';
  return name === 'QuotaExceededError' || /quota/i.test(messageOf(e));
}

function storageError(e: unknown, what: string): StudioError {
  if (isQuotaError(e)) {
    return new StudioError('storage', `The browser's storage for this site is full, so ${what} could not be saved.`,
      'Earlier runs are unchanged. Delete old runs in the run history, or export them and then delete them, to make room.');
  }
  return new StudioError('storage', `${what[0].toUpperCase()}${what.slice(1)} could not be saved: ${messageOf(e)}.`,
    'Earlier runs are unchanged. Training goes on; if this repeats, export the run.');
}

function readError(e: unknown, what: string): StudioError {
  return new StudioError('storage', `${what[0].toUpperCase()}${what.slice(1)} could not be read: ${messageOf(e)}.`,
    'Reload the page; if this repeats, the browser\'s site data for this page may be damaged.');
}

type Names = StoreNames<StudioDB>[];

/**
 * A request of a batch: if a later request of the same batch throws, the transaction is
 * aborted and this one rejects too, with nobody awaiting it yet; the rejection is handled
 * here so it is not reported as unhandled (the batch's error is reported once).
 */
function track<T>(request: Promise<T>): Promise<T> {
  request.catch(() => {});
  return request;
}
type WriteTx<N extends Names> = IDBPTransaction<StudioDB, N, 'readwrite'>;

export class RunStore {
  private constructor(private readonly db: IDBPDatabase<StudioDB>) {}

  static async open(name = DB_NAME): Promise<RunStore> {
    try {
      const db = await openDB<StudioDB>(name, DB_VERSION, {
        upgrade(db, oldVersion) {
          if (oldVersion < 1) {
            const runs = db.createObjectStore('runs', { keyPath: 'id' });
            runs.createIndex('createdAt', 'createdAt');
            const events = db.createObjectStore('events', { keyPath: ['runId', 'seq'] });
            events.createIndex('runId', 'runId');
            db.createObjectStore('checkpoints', { keyPath: 'runId' });
          }
          if (oldVersion < 2) db.createObjectStore('tables', { keyPath: 'key' });
        },
      });
      return new RunStore(db);
    } catch (e) {
      throw new StudioError('storage', `The run history could not be opened: ${messageOf(e)}.`,
        'Private browsing or disabled site data keeps the studio from saving runs; training still works, but reloading the page loses it.');
    }
  }

  /**
   * One read-write transaction: everything `body` writes lands together or not at all. A
   * request that throws (or fails) aborts the whole transaction, and the error says what
   * could not be saved; the transaction's own error (the quota) wins over its requests'.
   */
  private async write<N extends Names, T>(names: N, what: string, body: (tx: WriteTx<N>) => Promise<T>): Promise<T> {
    let tx: WriteTx<N> | null = null;
    try {
      tx = this.db.transaction(names, 'readwrite');
      const done = tx.done;
      done.catch(() => {});
      const result = await body(tx);
      await done;
      return result;
    } catch (e) {
      let cause: unknown = e;
      if (tx) {
        try {
          cause = tx.error ?? e;
        } catch { /* reading error of an unfinished transaction throws in some engines */ }
        try {
          tx.abort();
        } catch { /* already finished or aborted */ }
      }
      throw storageError(cause, what);
    }
  }

  private async read<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      throw readError(e, what);
    }
  }

  async saveRun(run: StoredRun): Promise<void> {
    await this.write(['runs'], 'the run', async (tx) => {
      await tx.objectStore('runs').put({ ...run, updatedAt: Date.now() });
    });
  }

  /**
   * A new run with the CSV it trains on, in one transaction. The table is stored only if no
   * earlier run stored the same bytes (same key).
   */
  async startRun(run: StoredRun, table?: StoredTable): Promise<void> {
    await this.write(['runs', 'tables'], 'the new run', async (tx) => {
      if (table) {
        const tables = tx.objectStore('tables');
        if ((await tables.getKey(table.key)) === undefined) await tables.put(table);
      }
      await tx.objectStore('runs').put({ ...run, updatedAt: Date.now() });
    });
  }

  async updateRun(id: string, change: (run: StoredRun) => StoredRun): Promise<StoredRun | null> {
    return this.write(['runs'], 'the run', async (tx) => {
      const store = tx.objectStore('runs');
      const run = await store.get(id);
      if (!run) return null;
      const next = { ...change(run), id, updatedAt: Date.now() };
      await store.put(next);
      return next;
    });
  }

  /** Appends events in one transaction (the caller batches them, e.g. once a second). */
  async appendEvents(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.write(['events'], 'the latest training metrics', async (tx) => {
      const store = tx.objectStore('events');
      await Promise.all(events.map((e) => track(store.put(e))));
    });
  }

  /**
   * A batch of a run's events and the change they make to its record (summary, status), in
   * one transaction: the record never claims more than the history holds.
   */
  async record(runId: string, events: StoredEvent[], change?: (run: StoredRun) => StoredRun): Promise<StoredRun | null> {
    return this.write(['runs', 'events'], 'the latest training metrics', async (tx) => {
      const store = tx.objectStore('events');
      const writes: Promise<unknown>[] = events.map((e) => track(store.put(e)));
      let next: StoredRun | null = null;
      if (change) {
        const runs = tx.objectStore('runs');
        const run = await runs.get(runId);
        if (run) {
          next = { ...change(run), id: runId, updatedAt: Date.now() };
          writes.push(track(runs.put(next)));
        }
      }
      await Promise.all(writes);
      return next;
    });
  }

  /**
   * Drops the events of steps after `step` (a run resumed from the checkpoint of `step`
   * repeats them), keeping baselines. One transaction.
   */
  async truncateEvents(runId: string, step: number): Promise<number> {
    return this.write(['events'], 'the run\'s history', async (tx) => {
      const store = tx.objectStore('events');
      let cursor = await store.index('runId').openCursor(IDBKeyRange.only(runId));
      let removed = 0;
      while (cursor) {
        const e = cursor.value;
        if (e.kind !== 'baseline' && typeof e.step === 'number' && e.step > step) {
          await cursor.delete();
          removed++;
        }
        cursor = await cursor.continue();
      }
      return removed;
    });
  }

  /** Replaces the run's checkpoint: the new one is in place before the old one is gone. */
  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.write(['checkpoints', 'runs'], `the checkpoint of step ${checkpoint.step}`, async (tx) => {
      await tx.objectStore('checkpoints').put(checkpoint);
      const runs = tx.objectStore('runs');
      const run = await runs.get(checkpoint.runId);
      if (run) await runs.put({ ...run, checkpointStep: checkpoint.step, updatedAt: Date.now() });
    });
  }

  async listRuns(): Promise<StoredRun[]> {
    return this.read('the run history', async () => (await this.db.getAllFromIndex('runs', 'createdAt')).reverse());
  }

  async getRun(id: string): Promise<StoredRun | undefined> {
    return this.read('the run', () => this.db.get('runs', id));
  }

  async events(runId: string): Promise<StoredEvent[]> {
    return this.read('the run\'s history', async () => {
      const events = await this.db.getAllFromIndex('events', 'runId', runId);
      return events.sort((a, b) => a.seq - b.seq);
    });
  }

  async checkpoint(runId: string): Promise<StoredCheckpoint | undefined> {
    return this.read('the checkpoint', () => this.db.get('checkpoints', runId));
  }

  async table(key: string): Promise<StoredTable | undefined> {
    return this.read('the training data', () => this.db.get('tables', key));
  }

  async rename(id: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (!trimmed) throw new StudioError('storage', 'A run needs a name.');
    const updated = await this.updateRun(id, (r) => ({ ...r, name: trimmed }));
    if (!updated) throw new StudioError('storage', 'That run is no longer in the history.', 'Another tab may have deleted it.');
  }

  /**
   * Deletes a run with its history and checkpoint, all or nothing; its CSV goes too unless
   * another run was trained on the same file.
   */
  async deleteRun(id: string): Promise<void> {
    await this.write(['runs', 'events', 'checkpoints', 'tables'], 'the deletion', async (tx) => {
      const runs = tx.objectStore('runs');
      const run = await runs.get(id);
      const events = tx.objectStore('events');
      let cursor = await events.index('runId').openKeyCursor(IDBKeyRange.only(id));
      const keys: [string, number][] = [];
      while (cursor) {
        keys.push(cursor.primaryKey);
        cursor = await cursor.continue();
      }
      const writes: Promise<unknown>[] = [
        ...keys.map((k) => track(events.delete(k))),
        track(runs.delete(id)),
        track(tx.objectStore('checkpoints').delete(id)),
      ];
      const tableKey = run?.data.tableKey;
      if (tableKey) {
        const others = (await runs.getAll()).some((r) => r.id !== id && r.data.tableKey === tableKey);
        if (!others) writes.push(track(tx.objectStore('tables').delete(tableKey)));
      }
      await Promise.all(writes);
    });
  }

  /** Runs that were training when the page went away: the ones to offer to resume. */
  async interruptedRuns(): Promise<StoredRun[]> {
    return (await this.listRuns()).filter((r) => r.status === 'running' || r.status === 'paused');
  }

  close(): void {
    this.db.close();
  }
}

/** A stable key for a file's bytes (SHA-256, hex): runs trained on the same CSV share one stored copy. */
export async function tableKey(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
