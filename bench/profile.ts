/**
 * npm run bench:profile [-- --backend wasm|cpu|webgpu] [--batch 8] [--sequence 64] [--virtual-tokens 20]
 * Where one training step's time goes: tfjs's profiler over one step of prompt tuning on the
 * default model (after a warm-up step), kernel time summed by kernel name, largest first.
 * (bench/kernelProfile.ts, which `npm run bench` also reports as its own section). webgpu runs
 * through Dawn (src/engine/nodeWebGPU.ts). Writes bench/results/profile-<backend>.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nodeWebGPU, NODE_WEBGPU_FLAGS } from '../src/engine/nodeWebGPU'; // before ../src/engine/backend (WebGPU in Node)
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { profileTable, profileTrainingStep } from './kernelProfile';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '8' },
    sequence: { type: 'string', default: '64' },
    'virtual-tokens': { type: 'string', default: '20' },
  },
});
const backend = values.backend as BackendName;
const shape = { batch: Number(values.batch), sequence: Number(values.sequence), virtualTokens: Number(values['virtual-tokens']), targets: 1 };
if (backend === 'webgpu' && !nodeWebGPU.installed) throw new Error(`WebGPU in Node: ${nodeWebGPU.reason}`);

const root = path.resolve(import.meta.dirname, '..');
const choice = await selectBackend(backend, backend === 'webgpu' ? { flags: NODE_WEBGPU_FLAGS } : {});
const session = await ModelSession.open(folderSource(path.join(root, 'public', 'models', 'stories260K')), choice);
// One step to warm up, then two profiled.
const p = await profileTrainingStep(session.model, session.tokenizer, shape, 2);
session.dispose();
const where = backend === 'webgpu' && choice.adapter ? `webgpu (${choice.adapter.description}) backend in Node` : `${backend} backend in Node`;
const lines = [
  `Profile of a prompt-tuning step on stories260K (int8 package), ${where}, batch ${shape.batch}, sequence ${shape.sequence}, ${shape.virtualTokens} virtual tokens; per step, averaged over ${p.steps} profiled steps. Kernel time ${p.kernelMsPerStep.toFixed(1)} ms of ${p.wallMsPerStep.toFixed(1)} ms wall per step (profiled).`,
  '',
  ...profileTable(p),
  '',
];
const out = path.join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, `profile-${backend}.md`), lines.join('\n'));
process.stdout.write(lines.join('\n'));
process.exit(0);
