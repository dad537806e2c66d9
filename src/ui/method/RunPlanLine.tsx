import { useRunPlanStore } from '../../state/runPlanStore';
import { ErrorNote } from '../ErrorNote';

/**
 * What a run at these settings will hold in memory and recompute to fit, or why the engine
 * would refuse it — known as the settings change, not when Train is pressed.
 */
export function RunPlanLine() {
  const plan = useRunPlanStore((s) => s.plan);
  const refusal = useRunPlanStore((s) => s.refusal);
  if (refusal) return <ErrorNote error={refusal} testId="run-plan-refusal" />;
  if (!plan) return null;
  return <p className="muted run-plan" data-testid="run-plan" data-recompute={plan.mlpRecompute}>{plan.note}</p>;
}
