import type { StepSpeed } from '../../engine/machineSpeed';
import { estimateCpuRun, type RunEstimate } from '../../tuning/runEstimate';
import { useDataStore } from '../../state/dataStore';
import { useModelStore } from '../../state/modelStore';
import { useSettingsStore } from '../../state/settingsStore';
import { useRunPlanStore } from '../../state/runPlanStore';
import { useTokenLengthStore } from '../../state/tokenLengthStore';

/**
 * For a model past the default's size: whether it is one (the defaults are tuned for the
 * small default model, not for it), and on wasm or cpu what a run at the current settings
 * takes, estimated before any step has run (tuning/runEstimate.ts) from the matmul speed
 * measured as it loaded (and, once known, the data's token lengths — batches are as wide as
 * their longest text — and the matmuls the run's memory plan adds); and whether the Method
 * step suggests settings for it.
 */
export function useLargeModelEstimate(): { large: boolean; suggested: boolean; parameters: number; estimate: RunEstimate | null; speed: StepSpeed | null } {
  const facts = useModelStore((s) => s.facts);
  const config = useSettingsStore((s) => s.config);
  const validationCount = useDataStore((s) => s.dataset?.validationCount ?? null);
  const lengths = useTokenLengthStore((s) => s.lengths);
  const recompute = useRunPlanStore((s) => s.plan?.mlpRecompute ?? 0);
  const speed = facts?.stepSpeed ?? null;
  return {
    large: Boolean(facts && (facts.suggestedSettings || speed)),
    suggested: Boolean(facts?.suggestedSettings),
    parameters: facts?.parameters ?? 0,
    estimate: speed ? estimateCpuRun(speed.dims, speed.matmulFlopsPerSecond, config, validationCount, lengths, recompute) : null,
    speed,
  };
}
