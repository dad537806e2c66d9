/** Classification metrics from gold and predicted label indices. */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[gold][predicted] counts. */
  confusion: number[][];
  count: number;
}

export function classificationReport(labels: string[], gold: number[], predicted: number[]): ClassificationReport {
  const c = labels.length;
  const confusion = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  let correct = 0;
  let counted = 0;
  gold.forEach((g, i) => {
    if (g < 0) return; // unlabeled text (the playground): predicted, not scored
    counted++;
    confusion[g][predicted[i]]++;
    if (g === predicted[i]) correct++;
  });
  const perClass = labels.map((label, j) => {
    const tp = confusion[j][j];
    const support = confusion[j].reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + row[j], 0);
    const precision = predictedCount ? tp / predictedCount : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  const present = perClass.filter((m) => m.support > 0);
  return {
    accuracy: counted ? correct / counted : 0,
    macroF1: present.length ? present.reduce((a, m) => a + m.f1, 0) / present.length : 0,
    perClass,
    confusion,
    count: counted,
  };
}

/** Index of the largest value in each row. */
export function argmaxRows(rows: number[][]): number[] {
  return rows.map((r) => r.reduce((best, v, i) => (v > r[best] ? i : best), 0));
}

/**
 * The score of always answering the most frequent gold label of the same examples: what
 * any prompt must beat. On imbalanced data it is far above chance (SMS spam's 86% is the
 * ham share), which is why macro-F1 — where it scores 1/K of a single class's F1 — is shown beside it.
 */
export function majorityBaseline(report: ClassificationReport): { label: string; accuracy: number; macroF1: number } | null {
  const present = report.perClass.filter((m) => m.support > 0);
  if (report.count === 0 || present.length === 0) return null;
  const top = present.reduce((a, m) => (m.support > a.support ? m : a));
  const share = top.support / report.count;
  return { label: top.label, accuracy: share, macroF1: (2 * share) / (1 + share) / present.length };
}

/** Whether the examples' classes are uneven enough (largest at least 1.5× the smallest) that accuracy alone misleads. */
export function isImbalanced(report: ClassificationReport): boolean {
  const supports = report.perClass.map((m) => m.support).filter((n) => n > 0);
  return supports.length > 1 && Math.max(...supports) >= 1.5 * Math.min(...supports);
}
