/**
 * npm run bench:profile [-- --backend wasm|cpu] [--batch 8] [--sequence 64] [--virtual-tokens 20]
 * Where one training step's time goes: tfjs's profiler over one step of prompt tuning on the
 * default model (after a warm-up step), kernel time summed by kernel name, largest first.
 * Writes bench/results/profile-<backend>.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { validateTrainConfig } from '../src/tuning/config';
import { RunControl } from '../src/tuning/control';
import { Trainer } from '../src/tuning/trainer';
import { syntheticTask } from './step';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '8' },
    sequence: { type: 'string', default: '64' },
    'virtual-tokens': { type: 'string', default: '20' },
  },
});
const backend = values.backend as BackendName;
const batch = Number(values.batch);
const sequence = Number(values.sequence);
const virtualTokens = Number(values['virtual-tokens']);

const root = path.resolve(import.meta.dirname, '..');
const session = await ModelSession.open(folderSource(path.join(root, 'public', 'models', 'stories260K')), await selectBackend(backend));
const task = syntheticTask(session.pkg.config.vocabSize, sequence, Math.max(batch * 2, 8));
const config = validateTrainConfig({
  method: 'prompt', init: 'random', numVirtualTokens: virtualTokens, batchSize: batch, steps: 1000,
  evalEvery: 1e6, projectEvery: 1e6, checkpointEvery: 1e6, maxLength: sequence, warmupSteps: 0,
});
const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
// Exactly n steps per call: overlapped, a stop would also finish the step already dispatched
// (and the kernels a step runs are the same either way).
trainer.overlap = false;
// Steps only: stopping before the last step keeps the evaluation and projection out of it.
const runSteps = async (n: number) => {
  const control = new RunControl();
  const until = trainer.step + n;
  await trainer.run(control, { onStep: (e) => { if (e.step >= until) control.stop(); } });
};
// One step to warm up (wasm's first use of each kernel, allocation), then two profiled.
await runSteps(1);
const started = performance.now();
const info = await tf.profile(() => runSteps(2));
const wallMs = performance.now() - started;
trainer.dispose();

const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls++;
  byKernel.set(k.name, entry);
}
const steps = 2;
const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
const top = rows.slice(0, 15);
const rest = rows.slice(15).reduce((a, [, v]) => ({ ms: a.ms + v.ms, calls: a.calls + v.calls }), { ms: 0, calls: 0 });
const lines = [
  `Profile of a prompt-tuning step on stories260K (int8 package), ${backend} backend in Node, batch ${batch}, sequence ${sequence}, ${virtualTokens} virtual tokens; per step, averaged over ${steps} profiled steps. Kernel time ${(total / steps).toFixed(1)} ms of ${(wallMs / steps).toFixed(1)} ms wall per step.`,
  '',
  '| kernel | ms per step | share | calls per step |',
  '|---|---|---|---|',
  ...top.map(([name, v]) => `| ${name} | ${(v.ms / steps).toFixed(2)} | ${((100 * v.ms) / total).toFixed(1)}% | ${Math.round(v.calls / steps)} |`),
  `| ${rows.length - top.length} other kernels | ${(rest.ms / steps).toFixed(2)} | ${((100 * rest.ms) / total).toFixed(1)}% | ${Math.round(rest.calls / steps)} |`,
  '',
];
const out = path.join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, `profile-${backend}.md`), lines.join('\n'));
process.stdout.write(lines.join('\n'));
session.dispose();
