import { describe, expect, it } from 'vitest';
import { classificationReport, isImbalanced, majorityBaseline } from '../../src/tuning/metrics';

describe('the majority-class baseline', () => {
  it('is what always answering the most frequent label scores, accuracy and macro-F1', () => {
    // SMS spam's validation sample: 258 ham, 42 spam. A prompt that says "ham" every time
    // (the README's zero-shot line) scores exactly the majority baseline.
    const gold = [...new Array(258).fill(0), ...new Array(42).fill(1)];
    const allHam = classificationReport(['ham', 'spam'], gold, gold.map(() => 0));
    const majority = majorityBaseline(allHam)!;
    expect(majority.label).toBe('ham');
    expect(majority.accuracy).toBeCloseTo(0.86, 12);
    expect(majority.macroF1).toBeCloseTo(allHam.macroF1, 12);
    expect(majority.macroF1).toBeCloseTo(0.4623655913978495, 12);
    expect(isImbalanced(allHam)).toBe(true);
    // It depends only on the gold labels: a perfect prompt on the same examples has the same one.
    expect(majorityBaseline(classificationReport(['ham', 'spam'], gold, gold))).toEqual(majority);
  });

  it('is chance on balanced classes, and ignores labels absent from the examples', () => {
    const gold = [0, 1, 2, 0, 1, 2];
    const report = classificationReport(['a', 'b', 'c', 'unused'], gold, [0, 0, 0, 0, 0, 0]);
    const majority = majorityBaseline(report)!;
    expect(majority.accuracy).toBeCloseTo(1 / 3, 12);
    expect(majority.macroF1).toBeCloseTo(report.macroF1, 12);
    expect(isImbalanced(report)).toBe(false);
    expect(majorityBaseline(classificationReport(['a'], [], []))).toBeNull();
  });
});
