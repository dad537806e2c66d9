/**
 * Early stopping's memory: the best validation result so far (accuracy, then loss), the
 * prompt's values at it, and how many evaluations have passed without beating it.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Evaluation } from './evaluator';

export class BestPrompt {
  private accuracy = -Infinity;
  private loss = Infinity;
  /** The step of the best evaluation (kept in checkpoints). */
  step: number | null = null;
  /** The method's variable values at that step. */
  values: Float32Array[] | null = null;
  private evaluationsSince = 0;

  constructor(private readonly patience: number) {}

  /** Records an evaluation of the prompt `variables` held; true when patience has run out. */
  async offer(e: Evaluation, variables: tf.Tensor[]): Promise<boolean> {
    const better = e.report.accuracy > this.accuracy || (e.report.accuracy === this.accuracy && e.loss < this.loss);
    if (better) {
      this.accuracy = e.report.accuracy;
      this.loss = e.loss;
      this.step = e.step;
      this.values = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
      this.evaluationsSince = 0;
      return false;
    }
    this.evaluationsSince++;
    return this.evaluationsSince >= this.patience;
  }
}
