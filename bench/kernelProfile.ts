/**
 * Where a training step's time goes: tfjs's profiler over whole steps of prompt tuning (after
 * a warm-up step), kernel time summed by kernel name. A section of its own, apart from the
 * timed steps: the profiler times every kernel, which on WebGPU ends the compute pass after
 * each dispatch and maps a timestamp buffer per kernel, so a profiled step is slower than a
 * timed one and its wall time is not the step time. Runs in Node and in the browser's worker
 * (no Node or DOM imports).
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../src/model/types';
import type { TextTokenizer } from '../src/tokenizer/tokenizer';
import { validateTrainConfig } from '../src/tuning/config';
import { RunControl } from '../src/tuning/control';
import { Trainer } from '../src/tuning/trainer';
import type { StepShape } from '../src/model/flops';
import { syntheticTask } from './step';

export interface KernelProfile {
  shape: StepShape;
  /** Profiled steps the figures are averaged over. */
  steps: number;
  /** Wall time per profiled step (the profiler's overhead included). */
  wallMsPerStep: number;
  /** Kernel time per step, all kernels. */
  kernelMsPerStep: number;
  /** Whether the backend reported kernel times (WebGPU needs timestamp-query). */
  timed: boolean;
  /** Every kernel, by kernel time per step, largest first. */
  kernels: { name: string; msPerStep: number; callsPerStep: number }[];
}

export async function profileTrainingStep(model: CausalLM, tokenizer: TextTokenizer, shape: StepShape, steps = 2): Promise<KernelProfile> {
  const task = syntheticTask(model.config.vocabSize, shape.sequence, Math.max(shape.batch * 2, 8));
  const config = validateTrainConfig({
    method: 'prompt', init: 'random', numVirtualTokens: shape.virtualTokens, batchSize: shape.batch, steps: 1000,
    evalEvery: 1e6, projectEvery: 1e6, checkpointEvery: 1e6, maxLength: shape.sequence, warmupSteps: 0,
  });
  const trainer = await Trainer.create(model, tokenizer, task, config);
  // Exactly n steps per call: overlapped, a stop would also finish the step already dispatched
  // (and the kernels a step runs are the same either way).
  trainer.overlap = false;
  // Steps only: stopping before the last step keeps the evaluation and projection out of it.
  const runSteps = async (n: number) => {
    const control = new RunControl();
    const until = trainer.step + n;
    await trainer.run(control, { onStep: (e) => { if (e.step >= until) control.stop(); } });
  };
  let info: Awaited<ReturnType<typeof tf.profile>>;
  let wallMs: number;
  try {
    await runSteps(1); // first use of each kernel (shader compilation, wasm allocation)
    const started = performance.now();
    info = await tf.profile(() => runSteps(steps));
    wallMs = performance.now() - started;
  } finally {
    trainer.dispose();
  }
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let timed = false;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    if (typeof k.kernelTimeMs === 'number') timed = true;
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls++;
    byKernel.set(k.name, entry);
  }
  const kernels = [...byKernel.entries()]
    .map(([name, v]) => ({ name, msPerStep: v.ms / steps, callsPerStep: v.calls / steps }))
    .sort((a, b) => b.msPerStep - a.msPerStep || b.callsPerStep - a.callsPerStep);
  return {
    shape, steps, wallMsPerStep: wallMs / steps, kernelMsPerStep: kernels.reduce((a, k) => a + k.msPerStep, 0), timed, kernels,
  };
}

/** A markdown table of the `top` kernels and the rest in one row. */
export function profileTable(p: KernelProfile, top = 15): string[] {
  const shown = p.kernels.slice(0, top);
  const rest = p.kernels.slice(top).reduce((a, k) => ({ ms: a.ms + k.msPerStep, calls: a.calls + k.callsPerStep }), { ms: 0, calls: 0 });
  const share = (ms: number) => (p.kernelMsPerStep > 0 ? `${((100 * ms) / p.kernelMsPerStep).toFixed(1)}%` : '–');
  return [
    '| kernel | ms per step | share | calls per step |',
    '|---|---|---|---|',
    ...shown.map((k) => `| ${k.name} | ${k.msPerStep.toFixed(2)} | ${share(k.msPerStep)} | ${Math.round(k.callsPerStep)} |`),
    ...(p.kernels.length > top ? [`| ${p.kernels.length - top} other kernels | ${rest.ms.toFixed(2)} | ${share(rest.ms)} | ${Math.round(rest.calls)} |`] : []),
  ];
}
