import { beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent, StoredRun } from '../../src/storage/runStore';
import { alignCurves, compareRuns, fileSafe, metricsOf, runExport, seriesOf } from '../../src/state/runHistory';

beforeAll(() => {
  // TrainingSeries tells its listeners once per animation frame.
  globalThis.requestAnimationFrame ??= ((cb: FrameRequestCallback) => setTimeout(() => cb(0), 0)) as unknown as typeof requestAnimationFrame;
});

const report = (accuracy: number) => ({ accuracy, macroF1: accuracy });
let seq = 0;
const stepEvent = (step: number, loss: number): StoredEvent => ({ runId: 'r', seq: ++seq, kind: 'step', step, data: { step, loss } });
const evalEvent = (variant: string, step: number, accuracy: number): StoredEvent => ({
  runId: 'r', seq: ++seq, kind: variant === 'zero-shot' || variant === 'text' ? 'baseline' : 'evaluation', step,
  data: { variant, evaluation: { step, loss: 1, report: report(accuracy), examples: 4 } },
});
const run = (id: string): StoredRun => ({
  id, name: id, createdAt: 1, updatedAt: 1, status: 'completed', config: {}, verbalizer: {}, labels: [], model: { name: 'm' },
  data: { fileName: 'a.csv', trainCount: 1, validationCount: 1 },
  summary: { step: 0, totalSteps: 0, lastLoss: null, bestAccuracy: null, zeroShotAccuracy: null, discreteAccuracy: null },
});

describe('run history helpers', () => {
  const history = [
    evalEvent('zero-shot', 0, 0.5), evalEvent('text', 0, 0.4),
    stepEvent(1, 3), stepEvent(2, 2), stepEvent(3, 1.5), evalEvent('soft', 2, 0.6),
    // A resume from step 2 repeats step 3: the later one counts.
    stepEvent(3, 1.4), stepEvent(4, 1.2), evalEvent('soft', 4, 0.8), evalEvent('discrete', 4, 0.5),
  ];

  it('rebuilds the curves (a repeated step replaces the earlier one) and the headline metrics', () => {
    const [steps, loss, , validationLoss, accuracy, zeroShot] = seriesOf(history).chartData();
    expect(Array.from(steps)).toEqual([1, 2, 3, 4]);
    expect(Array.from(loss)).toEqual([3, 2, 1.4, 1.2]);
    expect(accuracy).toEqual([null, 0.6, null, 0.8]);
    expect(validationLoss.filter((v) => v !== null)).toHaveLength(2);
    expect(zeroShot).toEqual([0.5, 0.5, 0.5, 0.5]);
    const m = metricsOf(history);
    expect(m).toMatchObject({ steps: 4, lastLoss: 1.2, bestAccuracy: 0.8, evaluations: 2 });
    expect(m.zeroShot?.report.accuracy).toBe(0.5);
    expect(m.textBaseline?.report.accuracy).toBe(0.4);
    expect(m.discrete?.report.accuracy).toBe(0.5);
  });

  it('puts two runs on one step axis, with gaps where a run has no point', () => {
    expect(alignCurves([
      { steps: [1, 2, 3], values: [1, 2, 3] },
      { steps: [2, 4], values: [20, null] },
    ])).toEqual([[1, 2, 3, 4], [1, 2, 3, null], [null, 20, null, null]]);
    const c = compareRuns({ run: run('a'), events: history }, { run: run('b'), events: history.slice(0, 4) });
    expect(c.runs.map((r) => r.id)).toEqual(['a', 'b']);
    expect(c.data[0]).toEqual([1, 2, 3, 4]);
    expect(c.data[2]).toEqual([expect.any(Number), expect.any(Number), null, null]);
    expect(c.data[3]).toEqual([null, 0.6, null, 0.8]);
  });

  it('exports the record and the whole history as JSON; names become file names', () => {
    const json = JSON.parse(runExport(run('a'), history, 4, new Date(0)));
    expect(json).toMatchObject({ format: 'prompt-tuning-studio-run', version: 1, exportedAt: '1970-01-01T00:00:00.000Z', checkpointStep: 4 });
    expect(json.run.id).toBe('a');
    expect(json.events).toHaveLength(history.length);
    expect(fileSafe('spam, 20 tokens / v2')).toBe('spam_20_tokens_v2');
    expect(fileSafe('<img src=x>')).toBe('img_src_x');
    expect(fileSafe('   ')).toBe('run');
  });
});
