/**
 * A run's memory plan, worked out from its settings before anything is allocated: what
 * startTraining checks, what the Method step shows as the settings change (previewRun), and
 * an imported prompt's evaluation batches.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data';
import type { DataFacts, TrainConfig } from '../tuning/config';
import { Evaluator } from '../tuning/evaluator';
import { METHODS } from '../tuning/methods';
import { prepareTask, renderTemplate, type PreparedTask, type TaskSetup } from '../tuning/task';
import { evaluationBatchThatFits, planTraining, runShapes, type MemoryBudget, type RunMemory } from './memoryBudget';
import type { ModelSession } from './session';

/** What the settings are checked against: the training split's size, the tasks, the labels and rows. */
export function dataFacts(dataset: Dataset): DataFacts {
  return {
    trainExamples: dataset.examples.filter((e) => e.split === 'train').length, tasks: dataset.tasks.length,
    labels: dataset.labels.length, rows: dataset.examples.length,
  };
}

/**
 * Whether a run's steps and evaluations fit the backend: a refusal (thrown) names the largest
 * batch and length that fit; otherwise how many MLP pre-activations the backward recomputes
 * and how large evaluation batches can be. What the backend holds already is tfjs's count now.
 */
export function planRunMemory(session: ModelSession, budget: MemoryBudget, task: PreparedTask, config: TrainConfig): RunMemory {
  const evaluator = new Evaluator(session.model, session.tokenizer, task, config);
  const instructionTokens = session.tokenizer.encode(evaluator.baselineInstruction(config.initText)).length;
  const templateTokens = session.tokenizer.encode(renderTemplate(config.template, ''), { addBos: true }).length;
  // The prompt's own values beside the model: the parameters, their gradient, two optimizer slots and the update's scratch.
  const methodBytes = 5 * 4 * METHODS[config.method].parameterCount({ config, model: session.pkg.config, numTasks: task.tasks.length });
  return planTraining(session.pkg.config, budget, tf.memory().numBytes + methodBytes, runShapes(task, config, instructionTokens, templateTokens), config.stepMemoryMiB * 2 ** 20);
}

/**
 * An imported prompt's evaluator, its batches cut to what memory allows (a long template or
 * many labels can need less than the setting).
 */
export function evaluatorThatFits(session: ModelSession, budget: MemoryBudget, evaluator: Evaluator, config: TrainConfig): Evaluator {
  const instruction = evaluator.baselineInstruction(config.initText);
  const shapes = runShapes(evaluator.task, config, session.tokenizer.encode(instruction).length, 0);
  const batch = evaluationBatchThatFits(session.pkg.config, budget, tf.memory().numBytes, shapes.evaluation, shapes.labels, shapes.labelTokens);
  return batch < config.evalBatchSize ? new Evaluator(session.model, session.tokenizer, evaluator.task, { ...config, evalBatchSize: batch }) : evaluator;
}

/**
 * The dataset encoded at the last settings asked for, kept while the model, the data and the
 * encoding's settings stay the same: a preview after a change of batch or steps, and the run
 * started after its preview, do not tokenize every text again (nor hold two copies). Nothing
 * mutates a prepared task, so a run may share it.
 */
export class EncodedTasks {
  private last: { session: ModelSession; dataset: Dataset; key: string; task: PreparedTask } | null = null;

  get(session: ModelSession, dataset: Dataset, setup: TaskSetup, promptLength: number): PreparedTask {
    const key = JSON.stringify([setup.template, setup.verbalizer, setup.maxLength, setup.truncateSide, promptLength]);
    const last = this.last;
    if (last && last.session === session && last.dataset === dataset && last.key === key) return last.task;
    this.last = null; // a failed encoding leaves nothing behind
    const task = prepareTask(session.tokenizer, dataset, setup, session.pkg.config.maxPositions, promptLength);
    this.last = { session, dataset, key, task };
    return task;
  }
}
