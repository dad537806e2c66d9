/**
 * Time left in a run, from how steps actually arrive on the wall clock (pauses not
 * counted), steady enough to read: a plain step's time (the median of the recent ones, so
 * an evaluation does not swing it) times the steps left, plus the evaluations still to
 * come times what an evaluation has cost so far. The per-step figure it replaces swung
 * with every evaluation (22 → 8 → 12 min). Pure: the caller passes the clock.
 */

/** Recent step-to-step intervals the plain step time is the median of. */
const RECENT = 31;
/** Steps needed before any estimate (the first steps also warm caches and compile shaders). */
const MIN_STEPS = 3;
/** How fast the shown figure follows the computed one (ms): it moves, it does not jump. */
const SMOOTHING_MS = 3_000;

export class EtaEstimator {
  private last: { step: number; at: number } | null = null;
  private intervals: number[] = [];
  /** Over every counted interval: their sum, and the evaluation steps they crossed. */
  private totalMs = 0;
  private count = 0;
  private evaluationsSeen = 0;
  private shown: number | null = null;
  private shownAt = 0;

  /** `isEvaluation(step)`: whether a step evaluates (its interval also holds the evaluation). */
  constructor(private readonly isEvaluation: (step: number) => boolean) {}

  /** A new run, or one that starts again from a checkpoint. */
  reset(): void {
    this.gap();
    this.intervals = [];
    this.totalMs = 0;
    this.count = 0;
    this.evaluationsSeen = 0;
    this.shown = null;
  }

  /** The run paused: the time until its next step does not count. */
  gap(): void {
    this.last = null;
  }

  /** Step `step` finished at `now` (ms). */
  add(step: number, now: number): void {
    const last = this.last;
    this.last = { step, at: now };
    if (!last || step <= last.step) return;
    const perStep = (now - last.at) / (step - last.step);
    for (let s = last.step + 1; s <= step; s++) this.intervals.push(perStep);
    if (this.intervals.length > RECENT) this.intervals.splice(0, this.intervals.length - RECENT);
    this.totalMs += now - last.at;
    this.count += step - last.step;
    // An evaluation's work lands between its step and the next ones.
    for (let s = last.step; s < step; s++) if (this.isEvaluation(s)) this.evaluationsSeen++;
  }

  /** Milliseconds left to reach `totalSteps`, or null while there is too little to tell. */
  estimate(totalSteps: number, now: number): number | null {
    const countdown = this.shown === null ? null : Math.max(0, this.shown - (now - this.shownAt));
    const step = this.last?.step;
    if (step === undefined || this.count < MIN_STEPS - 1) return countdown;
    if (step >= totalSteps) return 0;
    const sorted = [...this.intervals].sort((a, b) => a - b);
    const plainMs = sorted[Math.floor(sorted.length / 2)];
    const evaluationMs = this.evaluationsSeen > 0 ? Math.max(0, this.totalMs - this.count * plainMs) / this.evaluationsSeen : 0;
    let evaluationsLeft = 0;
    // The last step evaluates too before the run is done.
    for (let s = step; s <= totalSteps; s++) if (this.isEvaluation(s)) evaluationsLeft++;
    const computed = (totalSteps - step) * plainMs + evaluationsLeft * evaluationMs;
    this.shown = countdown === null ? computed : countdown + (1 - Math.exp(-(now - this.shownAt) / SMOOTHING_MS)) * (computed - countdown);
    this.shownAt = now;
    return this.shown;
  }
}
