/**
 * One training run from its first step to its end, as events for the page: the trainer's
 * steps, evaluations, projections and checkpoints; the zero-shot and text baselines scored
 * beside it; after it, the discrete projection's score. What to do with a checkpoint or an
 * error is the engine's (it keeps the newest for a lost device and may recover), so it
 * comes in as hooks.
 */
import type { EvaluationProgress, RunSnapshot, RunSummary } from '../tuning/trainer';
import type { EngineEvent, PromptVariant } from './api';
import { record, summarize, type ActiveRun } from './run';

/** A running training takes a checkpoint at least this often, whatever its checkpointEvery. */
export const CHECKPOINT_INTERVAL_MS = 30_000;

/**
 * When progress inside a step or an evaluation is sent: not before the work has run
 * `quietMs` (a quick step or evaluation says nothing; its own event follows soon), then at
 * most every `intervalMs`, so a slow step costs the page a few messages a second.
 */
export interface ProgressPacing {
  quietMs: number;
  intervalMs: number;
}

export const PROGRESS_PACING: ProgressPacing = { quietMs: 1000, intervalMs: 250 };

/** A gate that opens per ProgressPacing, given how long the work under way has run. */
function progressGate(pacing: ProgressPacing): (elapsedMs: number) => boolean {
  let last = -Infinity;
  return (elapsedMs) => {
    if (elapsedMs < pacing.quietMs) return false;
    const now = performance.now();
    if (now - last < pacing.intervalMs) return false;
    last = now;
    return true;
  };
}

type EvaluationProgressSink = (variant: PromptVariant, step: number) => (p: EvaluationProgress) => void;

export interface ExecutionHooks {
  emit(e: EngineEvent): void;
  /** Whether the run is still the engine's current one (a newer run or a recovery replaces it). */
  isCurrent(run: ActiveRun): boolean;
  /** The run's newest checkpoint. */
  checkpoint(run: ActiveRun, snapshot: RunSnapshot): void;
  /** True when a test asked the step just taken to fail. */
  simulatedFailure(): boolean;
  /** The run ended with an error: the summary of whatever the engine made of it (a recovered run's), or null. */
  failed(run: ActiveRun, error: unknown): Promise<RunSummary | null>;
  /** How often progress inside a step or evaluation is sent (default PROGRESS_PACING). */
  pacing?: ProgressPacing;
}

export async function executeRun(run: ActiveRun, hooks: ExecutionHooks): Promise<RunSummary | null> {
  const { runId } = run.info;
  const trainer = run.trainer!;
  const { emit } = hooks;
  const phase = (p: 'training' | 'finishing' | 'done') => emit({ event: 'trainingPhase', runId, phase: p });
  const pacing = hooks.pacing ?? PROGRESS_PACING;
  const stepGate = progressGate(pacing);
  const evaluationGate = progressGate(pacing);
  const evaluationProgress: EvaluationProgressSink = (variant, step) => (p) => {
    if (evaluationGate(p.elapsedMs)) emit({ event: 'evaluationProgress', runId, variant, step, done: p.done, total: p.total });
  };
  // The zero-shot and text-prompt baselines are scored once per run, right after its first
  // evaluation (not before the first step: training starts at once, and the first accuracy
  // is not held back by them), beside the steps that follow; or at the end of a run that
  // never evaluated.
  const needsBaselines = !run.history.some((h) => h.variant === 'zero-shot');
  let baselines: Promise<void> | null = null;
  const scoreBaselines = () => {
    if (!baselines) {
      baselines = scoreBaselinesOf(run, emit, evaluationProgress);
      // Awaited after the loop; a failure meanwhile must not count as unhandled.
      baselines.catch(() => undefined);
    }
    return baselines;
  };
  let lastCheckpointAt = Date.now();
  try {
    // Let the reply to startTraining reach the page before the first heavy work.
    await new Promise((r) => setTimeout(r, 0));
    phase('training');
    const summary = await trainer.run(run.control, {
      onStep: (step) => {
        emit({ event: 'step', runId, step });
        // Besides every checkpointEvery steps, a checkpoint at least every CHECKPOINT_INTERVAL_MS,
        // so a closed tab loses little however slow the steps are.
        if (Date.now() - lastCheckpointAt >= CHECKPOINT_INTERVAL_MS) {
          lastCheckpointAt = Date.now();
          trainer.requestCheckpoint();
        }
        if (hooks.simulatedFailure()) throw new Error(`simulated failure after step ${step.step}`);
      },
      onStepProgress: (progress) => {
        if (stepGate(progress.elapsedMs)) emit({ event: 'stepProgress', runId, progress });
      },
      onEvaluationProgress: (step, p) => evaluationProgress('soft', step)(p),
      onEvaluation: (e) => {
        run.lastEvaluation = e;
        run.history.push(record('soft', e));
        emit({ event: 'evaluation', runId, variant: 'soft', evaluation: summarize(e) });
        if (needsBaselines) void scoreBaselines();
      },
      onProjection: (p) => emit({ event: 'projection', runId, projection: p }),
      onCheckpoint: async (s) => {
        lastCheckpointAt = Date.now();
        // Baselines under way go into this checkpoint's history, so a resume from it has them.
        await Promise.resolve(baselines).catch(() => undefined);
        hooks.checkpoint(run, s);
      },
      onLog: (message) => emit({ event: 'log', level: 'warn', message }),
    });
    if (needsBaselines) await scoreBaselines();
    phase('finishing');
    // A stopped run keeps its last step: the checkpoint holds exactly what the prompt is now.
    if (summary.stoppedBy === 'user' && hooks.isCurrent(run) && run.lastSnapshot?.step !== trainer.step) {
      hooks.checkpoint(run, await trainer.snapshot());
    }
    if (summary.stoppedBy !== 'non-finite-loss') {
      const discrete = await trainer.projector.discrete(trainer.method);
      if (discrete) {
        const evaluation = await trainer.evaluate(discrete.source, undefined, evaluationProgress('discrete', trainer.step));
        run.history.push(record('discrete', evaluation));
        emit({ event: 'evaluation', runId, variant: 'discrete', evaluation: summarize(evaluation) });
      }
    }
    emit({ event: 'trainingEnded', runId, summary });
    phase('done');
    return summary;
  } catch (e) {
    // The baselines may still be reading; let them settle before anything is disposed.
    await Promise.resolve(baselines).catch(() => undefined);
    return hooks.failed(run, e);
  }
}

/** Zero-shot (no prompt) and a text instruction, on the evaluation set, as step 0. */
async function scoreBaselinesOf(run: ActiveRun, emit: (e: EngineEvent) => void, progress: EvaluationProgressSink): Promise<void> {
  const { runId } = run.info;
  const evaluator = run.evaluator;
  const zero = await evaluator.evaluate(null, evaluator.evaluationSet(), 0, progress('zero-shot', 0));
  run.history.push(record('zero-shot', zero));
  emit({ event: 'baseline', runId, variant: 'zero-shot', evaluation: summarize(zero) });
  const instruction = evaluator.baselineInstruction(run.info.config.initText);
  // No instruction (free-text targets without an init text, or no room beside the input): it would only repeat zero-shot.
  if (!instruction) return;
  const shortened = evaluator.baselineNote(run.info.config.initText);
  if (shortened) emit({ event: 'log', level: 'warn', message: shortened });
  const text = await evaluator.evaluate(evaluator.textPrompt(instruction), evaluator.evaluationSet(), 0, progress('text', 0));
  run.history.push(record('text', text));
  emit({ event: 'baseline', runId, variant: 'text', evaluation: summarize(text), prompt: instruction });
}
