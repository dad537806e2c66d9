import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { RunStore } from '../../src/storage/runStore';
import { FLUSH_MS, fromStoredEvent, RunRecorder, toStoredEvent, type RecorderListener } from '../../src/state/runRecorder';
import type { UiError } from '../../src/state/errors';
import { DEFAULT_TRAIN_CONFIG } from '../../src/tuning/config';
import type { StepEvent } from '../../src/tuning/trainer';
import type { EngineEvent, EvaluationSummary, RunInfo } from '../../src/engine/api';

let dbCounter = 0;

function setup() {
  const store = RunStore.open(`recorder-db-${++dbCounter}`);
  const errors: (UiError | null)[] = [];
  const saved: number[] = [];
  const listener: RecorderListener = {
    storageError: (_id, e) => errors.push(e),
    saved: (_id, progress) => saved.push(progress.step),
  };
  const recorder = new RunRecorder(() => store, listener);
  return { store, recorder, errors, saved };
}

const info = (runId: string, steps = 100): RunInfo => ({
  runId, config: { ...DEFAULT_TRAIN_CONFIG, steps }, labels: ['ham', 'spam'], verbalizer: { ham: ' ham', spam: ' spam' },
  trainCount: 16, validationCount: 4, truncated: 0, startStep: 0,
});

const step = (runId: string, n: number, loss = 1 / n): EngineEvent => ({
  event: 'step', runId,
  step: { step: n, totalSteps: 100, loss, learningRate: 0.1, gradNorm: 1, tokensPerSecond: 1, stepMs: 1, elapsedMs: n, etaMs: 0 } satisfies StepEvent,
});

const evaluation = (s: number, accuracy: number): EvaluationSummary => ({
  step: s, loss: 0.5, examples: 4,
  report: { accuracy, macroF1: accuracy } as EvaluationSummary['report'],
});

function begin(recorder: RunRecorder, runId: string, steps = 100) {
  recorder.begin({
    info: info(runId, steps), name: 'spam run', modelName: 'stories260K',
    data: {
      fileName: 'sms.csv', trainCount: 16, validationCount: 4,
      mapping: { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null },
      split: { validationFraction: 0.2, seed: 42, splitColumn: null },
    },
    table: { fileName: 'sms.csv', bytes: new TextEncoder().encode('text,label\nhi,ham\n').buffer },
  });
}

describe('RunRecorder', () => {
  it('writes a run as it trains: the record with its CSV, events in batches (not one write per step), summary, checkpoint, status', async () => {
    const { store, recorder, errors } = setup();
    const s = await store;
    const record = vi.spyOn(s, 'record');
    begin(recorder, 'r1');
    recorder.receive({ event: 'baseline', runId: 'r1', variant: 'zero-shot', evaluation: evaluation(0, 0.5) }, 'r1');
    for (let n = 1; n <= 200; n++) recorder.receive(step('r1', n), 'r1');
    recorder.receive({ event: 'evaluation', runId: 'r1', variant: 'soft', evaluation: evaluation(100, 0.75) }, 'r1');
    recorder.receive({ event: 'evaluation', runId: 'r1', variant: 'soft', evaluation: evaluation(200, 0.7) }, 'r1');
    recorder.receive({ event: 'checkpoint', runId: 'r1', step: 200, bytes: new Uint8Array([1, 2, 3]).buffer }, 'r1');
    // Events of another run are not this recording's.
    recorder.receive(step('other', 1), 'r1');
    recorder.receive({ event: 'trainingEnded', runId: 'r1', summary: { stoppedBy: 'completed', step: 200, bestStep: 100, message: 'done' } }, 'r1');
    await recorder.flushNow();
    expect(errors).toEqual([]);
    expect(record.mock.calls.length).toBeLessThanOrEqual(3);

    const run = (await s.getRun('r1'))!;
    expect(run).toMatchObject({ name: 'spam run', status: 'completed', checkpointStep: 200, labels: ['ham', 'spam'] });
    expect(run.summary).toMatchObject({ step: 200, lastLoss: 1 / 200, bestAccuracy: 0.75, zeroShotAccuracy: 0.5 });
    expect(run.data.mapping?.labelColumn).toBe('label');
    const table = await s.table(run.data.tableKey!);
    expect(new TextDecoder().decode(table!.bytes)).toBe('text,label\nhi,ham\n');
    const events = await s.events('r1');
    expect(events).toHaveLength(203);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 203 }, (_, i) => i + 1));
    expect(Array.from(new Uint8Array((await s.checkpoint('r1'))!.bytes))).toEqual([1, 2, 3]);
  });

  it('batches on a timer while a run goes on', async () => {
    const { store, recorder } = setup();
    const s = await store;
    begin(recorder, 'r2');
    for (let n = 1; n <= 5; n++) recorder.receive(step('r2', n), 'r2');
    await new Promise((r) => setTimeout(r, FLUSH_MS + 200));
    expect((await s.events('r2')).map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    expect((await s.getRun('r2'))?.status).toBe('running');
  });

  it('a refused write is reported, its events kept and written with the next batch; success clears the message', async () => {
    const { store, recorder, errors } = setup();
    const s = await store;
    begin(recorder, 'r3');
    recorder.receive(step('r3', 1), 'r3');
    await recorder.flushNow();
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      recorder.receive(step('r3', 2), 'r3');
      recorder.receive(step('r3', 3), 'r3');
      await recorder.flushNow();
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^The browser's storage for this site is full/);
    expect(errors[0]?.hint).toMatch(/^Earlier runs are unchanged\./);
    expect((await s.events('r3')).map((e) => e.step)).toEqual([1]);
    expect((await s.getRun('r3'))?.summary.step).toBe(1);
    recorder.receive(step('r3', 4), 'r3');
    await recorder.flushNow();
    expect(errors).toEqual([errors[0], null]);
    expect((await s.events('r3')).map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect((await s.getRun('r3'))?.summary.step).toBe(4);
  });

  it('a run that could not even be created is created when writing works again', async () => {
    const { store, recorder, errors } = setup();
    const s = await store;
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      begin(recorder, 'r4');
      recorder.receive(step('r4', 1), 'r4');
      await recorder.flushNow();
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect(await s.getRun('r4')).toBeUndefined();
    expect(errors[0]?.message).toBe("The browser's storage for this site is full, so the new run could not be saved.");
    recorder.receive(step('r4', 2), 'r4');
    await recorder.flushNow();
    expect((await s.events('r4')).map((e) => e.step)).toEqual([1, 2]);
  });

  it('resuming from a checkpoint drops the stored steps after it and continues the sequence', async () => {
    const { store, recorder } = setup();
    const s = await store;
    begin(recorder, 'r5');
    for (let n = 1; n <= 8; n++) recorder.receive(step('r5', n), 'r5');
    recorder.receive({ event: 'checkpoint', runId: 'r5', step: 5, bytes: new ArrayBuffer(2) }, 'r5');
    await recorder.flushNow();
    const stored = (await s.getRun('r5'))!;
    expect(stored.checkpointStep).toBe(5);

    // A new page: another recorder attaches to the stored run.
    const again = new RunRecorder(() => store, { storageError: () => {}, saved: () => {} });
    const lastSeq = Math.max(...(await s.events('r5')).map((e) => e.seq));
    again.attach(stored, lastSeq, { step: 5, bytes: new ArrayBuffer(2) });
    for (let n = 6; n <= 10; n++) again.receive(step('r5', n, 10 + n), 'r5');
    again.receive({ event: 'trainingPhase', runId: 'r5', phase: 'paused' }, 'r5');
    await again.flushNow();
    const events = await s.events('r5');
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 9, 10, 11, 12, 13]);
    expect((events[5].data as StepEvent).loss).toBe(16);
    expect((await s.getRun('r5'))).toMatchObject({ status: 'paused', summary: { step: 10 } });
  });

  it('stored events are the worker events they came from', () => {
    const events: EngineEvent[] = [
      step('r', 3),
      { event: 'evaluation', runId: 'r', variant: 'soft', evaluation: evaluation(3, 0.5) },
      { event: 'baseline', runId: 'r', variant: 'text', evaluation: evaluation(0, 0.25), prompt: 'Classify' },
      { event: 'projection', runId: 'r', projection: { step: 3, projection: {} as never, tokens: { 1: 'a' } } },
    ];
    for (const e of events) {
      const stored = toStoredEvent(e)!;
      expect(fromStoredEvent('r', { runId: 'r', seq: 1, ...stored })).toEqual(e);
    }
    expect(toStoredEvent({ event: 'trainingPhase', runId: 'r', phase: 'training' })).toBeNull();
  });
});
