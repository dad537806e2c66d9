import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { RunStore, type StoredRun } from '../../src/storage/runStore';
import { describeError } from '../../src/errors';

let dbCounter = 0;
const open = () => RunStore.open(`test-db-${++dbCounter}`);

function run(id: string, createdAt: number): StoredRun {
  return {
    id, name: `run ${id}`, createdAt, updatedAt: createdAt, status: 'running',
    config: { steps: 100 }, verbalizer: { ham: ' ham', spam: ' spam' }, labels: ['ham', 'spam'],
    model: { name: 'stories260K' }, data: { fileName: 'sms.csv', trainCount: 80, validationCount: 20 },
    summary: { step: 0, totalSteps: 100, lastLoss: null, bestAccuracy: null, zeroShotAccuracy: 0.5, discreteAccuracy: null },
  };
}

describe('RunStore (IndexedDB)', () => {
  it('keeps runs, their event history in order and their latest checkpoint', async () => {
    const store = await open();
    await store.saveRun(run('a', 1));
    await store.saveRun(run('b', 2));
    await store.appendEvents([
      { runId: 'a', seq: 2, kind: 'step', data: { step: 2, loss: 1.5 } },
      { runId: 'a', seq: 1, kind: 'step', data: { step: 1, loss: 2.5 } },
      { runId: 'b', seq: 1, kind: 'step', data: { step: 1, loss: 9 } },
    ]);
    await store.saveCheckpoint({ runId: 'a', step: 1, savedAt: 1, bytes: new Uint8Array([1, 2]).buffer });
    await store.saveCheckpoint({ runId: 'a', step: 2, savedAt: 2, bytes: new Uint8Array([3, 4, 5]).buffer });
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['b', 'a']);
    expect((await store.events('a')).map((e) => (e.data as { loss: number }).loss)).toEqual([2.5, 1.5]);
    const checkpoint = await store.checkpoint('a');
    expect(checkpoint?.step).toBe(2);
    expect(Array.from(new Uint8Array(checkpoint!.bytes))).toEqual([3, 4, 5]);
    expect((await store.interruptedRuns()).map((r) => r.id)).toEqual(['b', 'a']);
    await store.updateRun('a', (r) => ({ ...r, status: 'completed' }));
    expect((await store.interruptedRuns()).map((r) => r.id)).toEqual(['b']);
  });

  it('renames and deletes a run with all its data', async () => {
    const store = await open();
    await store.saveRun(run('a', 1));
    await store.saveRun(run('b', 2));
    await store.appendEvents([{ runId: 'a', seq: 1, kind: 'step', data: {} }, { runId: 'b', seq: 1, kind: 'step', data: {} }]);
    await store.saveCheckpoint({ runId: 'a', step: 1, savedAt: 1, bytes: new ArrayBuffer(4) });
    await store.rename('b', '  spam, 20 tokens  ');
    expect((await store.getRun('b'))?.name).toBe('spam, 20 tokens');
    await expect(store.rename('b', '   ')).rejects.toThrow('A run needs a name.');
    await store.deleteRun('a');
    expect(await store.getRun('a')).toBeUndefined();
    expect(await store.events('a')).toEqual([]);
    expect(await store.checkpoint('a')).toBeUndefined();
    expect(await store.events('b')).toHaveLength(1);
  });

  it('a write refused for quota says so, and leaves earlier runs intact', async () => {
    const store = await open();
    await store.saveRun(run('a', 1));
    await store.saveCheckpoint({ runId: 'a', step: 5, savedAt: 1, bytes: new Uint8Array([7]).buffer });
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const failure = await store.saveCheckpoint({ runId: 'a', step: 6, savedAt: 2, bytes: new Uint8Array([8]).buffer }).catch((e) => e);
      expect(describeError(failure)).toBe("The browser's storage for this site is full, so the checkpoint of step 6 could not be saved. Earlier runs are unchanged. Delete old runs in the run history, or export them and then delete them, to make room.");
      const eventsFailure = await store.appendEvents([{ runId: 'a', seq: 1, kind: 'step', data: {} }]).catch((e) => e);
      expect(describeError(eventsFailure)).toMatch(/^The browser's storage for this site is full, so the latest training metrics could not be saved\./);
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect((await store.checkpoint('a'))?.step).toBe(5);
    expect((await store.getRun('a'))?.name).toBe('run a');
  });
});

describe('RunStore: resumable runs', () => {
  const table = (key: string, bytes: number[]) => ({ key, fileName: 'sms.csv', savedAt: 1, bytes: new Uint8Array(bytes).buffer });
  const withData = (r: StoredRun, key: string): StoredRun => ({
    ...r,
    data: {
      ...r.data, tableKey: key,
      mapping: { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null },
      split: { validationFraction: 0.2, seed: 42, splitColumn: null },
    },
  });

  it('keeps a run with its CSV bytes, mapping and split; one copy of a CSV serves every run trained on it', async () => {
    const store = await open();
    await store.startRun(withData(run('a', 1), 'k1'), table('k1', [1, 2, 3]));
    await store.startRun(withData(run('b', 2), 'k1'), table('k1', [9, 9, 9]));
    const a = await store.getRun('a');
    expect(a?.data.mapping?.labelColumn).toBe('label');
    expect(a?.data.split).toEqual({ validationFraction: 0.2, seed: 42, splitColumn: null });
    // The first copy stays (same key, same bytes in real use).
    expect(Array.from(new Uint8Array((await store.table('k1'))!.bytes))).toEqual([1, 2, 3]);
    await store.deleteRun('a');
    expect(await store.table('k1')).toBeDefined();
    await store.deleteRun('b');
    expect(await store.table('k1')).toBeUndefined();
  });

  it('records a batch of events and the run\'s summary in one go; a checkpoint marks its step on the run', async () => {
    const store = await open();
    await store.startRun(run('a', 1));
    const next = await store.record('a', [
      { runId: 'a', seq: 1, kind: 'step', step: 1, data: { step: 1, loss: 2 } },
      { runId: 'a', seq: 2, kind: 'step', step: 2, data: { step: 2, loss: 1 } },
    ], (r) => ({ ...r, summary: { ...r.summary, step: 2, lastLoss: 1 } }));
    expect(next?.summary.step).toBe(2);
    expect((await store.getRun('a'))?.summary.lastLoss).toBe(1);
    expect(await store.events('a')).toHaveLength(2);
    await store.saveCheckpoint({ runId: 'a', step: 2, savedAt: 3, bytes: new ArrayBuffer(1) });
    expect((await store.getRun('a'))?.checkpointStep).toBe(2);
    // Events for a run that is gone are still kept in order; the change is skipped.
    expect(await store.record('zzz', [], (r) => r)).toBeNull();
  });

  it('drops the events after a checkpoint\'s step (a resumed run repeats them), keeping the baselines', async () => {
    const store = await open();
    await store.startRun(run('a', 1));
    await store.appendEvents([
      { runId: 'a', seq: 1, kind: 'baseline', step: 0, data: {} },
      ...[1, 2, 3, 4, 5, 6].map((s) => ({ runId: 'a', seq: s + 1, kind: 'step' as const, step: s, data: { step: s } })),
      { runId: 'a', seq: 8, kind: 'evaluation', step: 4, data: {} },
      { runId: 'a', seq: 9, kind: 'projection', step: 6, data: {} },
    ]);
    expect(await store.truncateEvents('a', 4)).toBe(3);
    expect((await store.events('a')).map((e) => `${e.kind}:${e.step}`))
      .toEqual(['baseline:0', 'step:1', 'step:2', 'step:3', 'step:4', 'evaluation:4']);
  });

  it('a refused batch changes nothing: neither the events nor the run record', async () => {
    const store = await open();
    await store.startRun(run('a', 1));
    await store.record('a', [{ runId: 'a', seq: 1, kind: 'step', step: 1, data: {} }], (r) => ({ ...r, summary: { ...r.summary, step: 1 } }));
    const realPut = IDBObjectStore.prototype.put;
    let calls = 0;
    // The first write of the batch goes through, the second is refused: the first must not stay.
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (++calls > 1) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    try {
      const failure = await store.record('a', [
        { runId: 'a', seq: 2, kind: 'step', step: 2, data: {} },
        { runId: 'a', seq: 3, kind: 'step', step: 3, data: {} },
      ], (r) => ({ ...r, summary: { ...r.summary, step: 3 } })).catch((e) => e);
      expect(describeError(failure)).toMatch(/^The browser's storage for this site is full/);
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect((await store.events('a')).map((e) => e.seq)).toEqual([1]);
    expect((await store.getRun('a'))?.summary.step).toBe(1);
  });

  it('opens a version-1 database and keeps its runs', async () => {
    const name = `test-db-v1-${++dbCounter}`;
    const { openDB } = await import('idb');
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        const runs = db.createObjectStore('runs', { keyPath: 'id' });
        runs.createIndex('createdAt', 'createdAt');
        const events = db.createObjectStore('events', { keyPath: ['runId', 'seq'] });
        events.createIndex('runId', 'runId');
        db.createObjectStore('checkpoints', { keyPath: 'runId' });
      },
    });
    await v1.put('runs', run('old', 1));
    v1.close();
    const store = await RunStore.open(name);
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['old']);
    await store.startRun(run('new', 2), table('k', [1]));
    expect(await store.table('k')).toBeDefined();
  });

  it('keys a CSV by its bytes', async () => {
    const { tableKey } = await import('../../src/storage/runStore');
    const a = await tableKey(new TextEncoder().encode('text,label\nhi,ham\n'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await tableKey(new TextEncoder().encode('text,label\nhi,ham\n'))).toBe(a);
    expect(await tableKey(new TextEncoder().encode('text,label\nhi,spam\n'))).not.toBe(a);
  });
});
