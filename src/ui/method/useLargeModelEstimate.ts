import type { StepSpeed } from '../../engine/machineSpeed';
import { estimateCpuRunStepMs } from '../../model/flops';
import { isEvaluationStep } from '../../tuning/config';
import { useModelStore } from '../../state/modelStore';
import { useSettingsStore } from '../../state/settingsStore';

/** The first step that evaluates at these settings: where the first accuracy comes. */
export function firstEvaluationStep(cfg: { evalEvery: number; steps: number }): number {
  for (let step = 1; step < cfg.steps; step++) if (isEvaluationStep(step, cfg)) return step;
  return cfg.steps;
}

/**
 * For a model past the default's size: whether it is one (the defaults are tuned for the
 * small default model, not for it), and on wasm or cpu the time a step takes at the current
 * settings, estimated before any has run (model/flops.ts), from the matmul speed measured as it loaded;
 * and whether the Method step suggests settings for it.
 */
export function useLargeModelEstimate(): { large: boolean; suggested: boolean; parameters: number; stepMs: number | null; speed: StepSpeed | null } {
  const facts = useModelStore((s) => s.facts);
  const config = useSettingsStore((s) => s.config);
  const speed = facts?.stepSpeed ?? null;
  return {
    large: Boolean(facts && (facts.suggestedSettings || speed)),
    suggested: Boolean(facts?.suggestedSettings),
    parameters: facts?.parameters ?? 0,
    stepMs: speed ? estimateCpuRunStepMs(speed.dims, config, speed.matmulFlopsPerSecond) : null,
    speed,
  };
}
