import { describe, expect, it } from 'vitest';
import { EtaEstimator } from '../../src/state/eta';
import { isEvaluationStep } from '../../src/tuning/config';

const DEFAULTS = { steps: 300, evalEvery: 50 };
const evaluates = (step: number) => step > 0 && isEvaluationStep(step, DEFAULTS);

/** When each step lands: `ms` a step, plus `evalMs` after every step that evaluates. */
function arrivals(steps: number, ms: number, evalMs: number): number[] {
  const at: number[] = [];
  let t = 0;
  for (let s = 1; s <= steps; s++) {
    t += ms;
    if (evaluates(s - 1)) t += evalMs;
    at.push(t);
  }
  return at;
}

describe('EtaEstimator', () => {
  it('counts the evaluations still to come, so the figure neither swings nor jumps at them', () => {
    // 300 steps of 1 s; each evaluation (steps 10, 25, 50, 100 … 300) costs 20 s.
    const times = arrivals(300, 1000, 20_000);
    const end = times[299] + 20_000;
    const eta = new EtaEstimator(evaluates);
    const shown: { step: number; value: number; truth: number }[] = [];
    times.forEach((t, i) => {
      eta.add(i + 1, t);
      const value = eta.estimate(300, t);
      if (value !== null) shown.push({ step: i + 1, value, truth: end - t });
    });
    // Once the first evaluation has been timed (step 11), the figure is within 10% of the truth, …
    for (const s of shown.filter((x) => x.step > 11 && x.step < 300)) expect(Math.abs(s.value - s.truth)).toBeLessThan(0.1 * s.truth + 2000);
    // … and from one step to the next it only counts down (by about a step, or an evaluation's time).
    const after = shown.filter((x) => x.step > 12);
    for (let i = 1; i < after.length; i++) {
      const change = after[i - 1].value - after[i].value;
      expect(change).toBeGreaterThan(-1000);
      expect(change).toBeLessThan(22_000);
    }
    expect(eta.estimate(300, times[299])).toBe(0);
  });

  it('says nothing for the first steps, and leaves the time spent paused out', () => {
    const eta = new EtaEstimator(() => false);
    eta.add(1, 1000);
    expect(eta.estimate(100, 1000)).toBeNull();
    eta.add(2, 2000);
    expect(eta.estimate(100, 2000)).toBeNull();
    eta.add(3, 3000);
    expect(eta.estimate(100, 3000)).toBeCloseTo(97_000, 6);
    // Paused for ten minutes: the steps after the pause go at the same pace, and so does the estimate.
    eta.gap();
    for (let s = 4; s <= 10; s++) eta.add(s, 603_000 + (s - 3) * 1000);
    expect(eta.estimate(100, 610_000)).toBeCloseTo(90_000, -3);
  });
});
