/**
 * The live chart's data, kept outside React: a run streams a point per step, and a React
 * state update per step would re-render whatever reads it. Steps append to growing typed
 * arrays; listeners (the chart) hear about it at most once per animation frame and hand
 * the arrays to uPlot as they are (uPlot reads typed arrays and `null` gaps directly).
 */
import { frameBatcher } from './frame';

/** A Float64Array that doubles when full; `view()` is the filled part, without copying. */
class GrowingArray {
  private data = new Float64Array(256);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  at(i: number): number {
    return this.data[i];
  }

  truncate(n: number): void {
    this.length = Math.min(this.length, n);
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** The smoothing of TensorBoard's scalar charts: an exponential moving average, debiased. */
export const SMOOTHING = 0.9;

export type ChartData = [
  steps: Float64Array,
  loss: Float64Array,
  smoothed: Float64Array,
  validationLoss: (number | null)[],
  validationAccuracy: (number | null)[],
  zeroShotAccuracy: (number | null)[],
];

export class TrainingSeries {
  private readonly steps = new GrowingArray();
  private readonly loss = new GrowingArray();
  private readonly smoothed = new GrowingArray();
  // Evaluations land on a few steps only: sparse arrays with null elsewhere (a gap the chart spans).
  private validationLoss: (number | null)[] = [];
  private validationAccuracy: (number | null)[] = [];
  private zeroShot: (number | null)[] = [];
  private ema = 0;
  private emaWeight = 0;
  private zeroShotAccuracy: number | null = null;
  /** Bumped on every change; lets a listener skip a frame with nothing new. */
  version = 0;

  private readonly listeners = new Set<() => void>();
  private readonly notify = frameBatcher(() => {
    for (const l of this.listeners) l();
  });

  get length(): number {
    return this.steps.length;
  }

  lastStep(): number | null {
    return this.steps.length ? this.steps.at(this.steps.length - 1) : null;
  }

  addStep(step: number, loss: number): void {
    // A run resumed after a lost device repeats steps from its last checkpoint: drop the later ones.
    while (this.steps.length && this.steps.at(this.steps.length - 1) >= step) this.truncate(this.steps.length - 1);
    this.emaWeight = SMOOTHING * this.emaWeight + (1 - SMOOTHING);
    this.ema = SMOOTHING * this.ema + (1 - SMOOTHING) * loss;
    this.steps.push(step);
    this.loss.push(loss);
    this.smoothed.push(this.ema / this.emaWeight);
    this.validationLoss.push(null);
    this.validationAccuracy.push(null);
    this.zeroShot.push(this.zeroShotAccuracy);
    this.changed();
  }

  addEvaluation(step: number, loss: number, accuracy: number): void {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      if (this.steps.at(i) === step) {
        this.validationLoss[i] = loss;
        this.validationAccuracy[i] = accuracy;
        this.changed();
        return;
      }
      if (this.steps.at(i) < step) return;
    }
  }

  setZeroShotAccuracy(accuracy: number): void {
    this.zeroShotAccuracy = accuracy;
    this.zeroShot.fill(accuracy);
    this.changed();
  }

  reset(): void {
    this.truncate(0);
    this.zeroShotAccuracy = null;
    this.changed();
  }

  /** The arrays as uPlot takes them: x first, then each series. */
  chartData(): ChartData {
    return [
      this.steps.view(), this.loss.view(), this.smoothed.view(),
      this.validationLoss, this.validationAccuracy, this.zeroShot,
    ];
  }

  /** Called at most once per animation frame after changes. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private truncate(n: number): void {
    this.steps.truncate(n);
    this.loss.truncate(n);
    this.smoothed.truncate(n);
    this.validationLoss.length = Math.min(this.validationLoss.length, n);
    this.validationAccuracy.length = Math.min(this.validationAccuracy.length, n);
    this.zeroShot.length = Math.min(this.zeroShot.length, n);
    if (n === 0) {
      this.ema = 0;
      this.emaWeight = 0;
    } else {
      // Restart the smoothing from the last kept value rather than replaying the run.
      this.ema = this.smoothed.at(n - 1);
      this.emaWeight = 1;
    }
  }

  private changed(): void {
    this.version++;
    this.notify();
  }
}

/** The one series of the page's current run. */
export const trainingSeries = new TrainingSeries();
