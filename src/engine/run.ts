/**
 * The prompt the engine holds: a run trained here (with its trainer) or an adapter imported
 * from a file (no trainer: it is only evaluated, projected and exported). Everything that
 * predicts, evaluates or exports works on this, whichever it is.
 */
import { StudioError } from '../errors';
import type { RunControl } from '../tuning/control';
import type { Evaluation, Evaluator } from '../tuning/evaluator';
import type { SoftPromptMethod } from '../tuning/methods/types';
import { methodPrompt, type PromptSource } from '../tuning/objective';
import type { Projector } from '../tuning/projection';
import type { PreparedTask } from '../tuning/task';
import type { RunSnapshot, RunSummary, Trainer } from '../tuning/trainer';
import type { AdapterInfo, EvaluationSummary, PromptVariant, RunInfo } from './api';
import type { EvaluationRecord } from './runFiles';

export interface ActiveRun {
  info: RunInfo;
  task: PreparedTask;
  method: SoftPromptMethod;
  evaluator: Evaluator;
  projector: Projector;
  /** Null for an imported adapter. */
  trainer: Trainer | null;
  control: RunControl;
  finished: Promise<RunSummary | null>;
  lastEvaluation: Evaluation | null;
  /** The latest checkpoint, kept in memory so a lost GPU device costs at most checkpointEvery steps. */
  lastSnapshot: RunSnapshot | null;
  /** Every evaluation so far (all prompt variants), for checkpoints and the exported card. */
  history: EvaluationRecord[];
  /** Set when the prompt came from an adapter file rather than training here. */
  adapter: AdapterInfo | null;
}

/** Steps trained so far (0 for an imported adapter). */
export const runStep = (run: ActiveRun): number => run.trainer?.step ?? 0;

export function summarize(e: Evaluation): EvaluationSummary {
  return { step: e.step, loss: e.loss, report: e.report, examples: e.examples, generationAccuracy: e.generationAccuracy };
}

export function record(variant: PromptVariant, e: Evaluation | EvaluationSummary): EvaluationRecord {
  return { step: e.step, variant, loss: e.loss, accuracy: e.report.accuracy, macroF1: e.report.macroF1, generationAccuracy: e.generationAccuracy ?? null };
}

/** What precedes the input for each prompt variant. */
export async function promptFor(run: ActiveRun, variant: PromptVariant): Promise<PromptSource> {
  switch (variant) {
    case 'soft':
      return methodPrompt(run.method);
    case 'zero-shot':
      return null;
    case 'text': {
      const instruction = run.evaluator.baselineInstruction(run.info.config.initText);
      if (!instruction) {
        throw new StudioError('training', 'There is no text prompt to try: free-text targets have no labels to name, and no init text was given (or none fits beside the input).',
          'Give an init text (Method → Advanced) to try it as a text prompt.');
      }
      return run.evaluator.textPrompt(instruction);
    }
    case 'discrete': {
      const d = await run.projector.discrete(run.method);
      if (!d) throw new StudioError('training', 'This method has no discrete projection (prefix tuning without projection).');
      return d.source;
    }
  }
}

export function disposeRun(run: ActiveRun): void {
  if (run.trainer) {
    run.trainer.dispose();
    return;
  }
  run.method.dispose();
  run.projector.dispose();
}
