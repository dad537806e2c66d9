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
