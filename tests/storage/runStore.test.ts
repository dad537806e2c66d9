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
