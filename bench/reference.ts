/**
 * npm run bench:reference [-- --batch 8 --seq 64 --virtual-tokens 20 --steps 5] [--model DIR] [--backends wasm,cpu]
 * The studio's training step against the same step written independently in PyTorch
 * (bench/reference/torch_step.py), same model, batch and prompt, same machine, one
 * invocation: step times and their ratio, and the first step's loss from both (they must
 * agree, which also cross-checks our forward pass).
 *
 * Without --model: the default model's float32 package on wasm and cpu. With --model, a Hugging
 * Face checkpoint folder of Llama or Qwen2 layout (e.g. `.cache/real-size/smollm2-135m`, from
 * `npm run real-size`), on wasm: the studio quantizes it on load as it always does, and PyTorch
 * runs on the same int8 values dequantized to float32 (its own dtype), so the losses still agree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { saveStudioPackage } from '../src/model/package';
import { validateTrainConfig } from '../src/tuning/config';
import { RunControl } from '../src/tuning/control';
import { Trainer } from '../src/tuning/trainer';
import { steadyStepMs, syntheticTask } from './step';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '64' },
    'virtual-tokens': { type: 'string', default: '20' },
    steps: { type: 'string', default: '6' },
    python: { type: 'string', default: '/usr/bin/python3' },
    model: { type: 'string' },
    backends: { type: 'string' },
  },
});
const batch = Number(values.batch), seq = Number(values.seq), virtualTokens = Number(values['virtual-tokens']), steps = Number(values.steps);
const root = path.resolve(import.meta.dirname, '..');
const modelDir = values.model ? path.resolve(values.model) : path.join(root, 'public', 'models', 'stories260K-f32');
// A plain-JS cpu step at real size takes many minutes: wasm alone unless asked.
const backends = (values.backends ?? (values.model ? 'wasm' : 'wasm,cpu')).split(',') as BackendName[];

const probe = spawnSync(values.python!, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  process.stdout.write('PyTorch is not installed for ' + values.python + ', so the reference comparison is skipped.\n'
    + 'Install it with `apt-get install python3-torch` (Debian) or `pip install torch numpy`, then run `npm run bench:reference` again.\n');
  process.exit(0);
}

const rows: string[] = [];
let task: ReturnType<typeof syntheticTask> | null = null;
let modelName = 'stories260K (float32)';
// PyTorch reads a studio package: the float32 one as it is, a checkpoint as the int8 package the
// studio made of it (written once, to a temporary folder removed at the end: hundreds of MB at real size).
let packageDir = values.model ? null : modelDir;
const temporary: string[] = [];
for (const backend of backends) {
  const session = await ModelSession.open(folderSource(modelDir), await selectBackend(backend), undefined, { quantize: values.model !== undefined, keepHostWeights: true });
  task ??= syntheticTask(session.model.config.vocabSize, seq, batch, 7);
  if (packageDir === null) {
    const { modelType } = session.pkg.config;
    if (modelType !== 'llama' && modelType !== 'qwen2') throw new Error(`--model: the PyTorch step is written for Llama and Qwen2 layouts, not ${modelType}.`);
    packageDir = mkdtempSync(path.join(os.tmpdir(), 'studio-ref-model-'));
    temporary.push(packageDir);
    for (const [file, bytes] of saveStudioPackage(session.pkg)) if (file === 'config.json' || file === 'model.safetensors') writeFileSync(path.join(packageDir, file), bytes);
    modelName = `${path.basename(modelDir)} (${(session.pkg.weights.parameterCount() / 1e6).toFixed(1)} M parameters, int8; PyTorch on its values in float32)`;
  }
  const config = validateTrainConfig({
    method: 'prompt', init: 'random', numVirtualTokens: virtualTokens, batchSize: batch, steps, warmupSteps: 0,
    optimizer: 'adamw', learningRate: 0.1, weightDecay: 0, maxGradNorm: 1, maxLength: seq,
    evalEvery: 1_000_000, projectEvery: 1_000_000, checkpointEvery: 1_000_000, seed: 3,
  });
  const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
  const prompt = Array.from(await trainer.method.variables[0].data());
  const losses: number[] = [];
  const times: number[] = [];
  await trainer.run(new RunControl(), { onStep: (e) => { losses.push(e.loss); times.push(e.stepMs); } });
  trainer.dispose();
  session.dispose();
  const ours = steadyStepMs(times);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'studio-ref-'));
  temporary.push(dir);
  const spec = path.join(dir, 'batch.json');
  writeFileSync(spec, JSON.stringify({
    input_ids: task.train.map((e) => e.inputIds), target_ids: task.train.map((e) => e.targetIds[0]), prompt, virtual_tokens: virtualTokens,
  }));
  for (const threads of [1, os.cpus().length]) {
    const run = spawnSync(values.python!, [path.join(root, 'bench', 'reference', 'torch_step.py'), packageDir, spec, String(threads), String(steps)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    const torch = JSON.parse(run.stdout) as { first_loss: number; step_ms: number; torch: string; blas: string };
    rows.push(`| ${backend} | ${ours.toFixed(1)} | PyTorch ${torch.torch} CPU (${torch.blas}), ${threads} thread${threads > 1 ? 's' : ''} | ${torch.step_ms.toFixed(1)} | ${(ours / torch.step_ms).toFixed(2)} | ${losses[0].toFixed(5)} | ${torch.first_loss.toFixed(5)} |`);
  }
}
for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
const table = [
  `Prompt-tuning step on ${modelName}, batch ${batch}, sequence ${seq} + ${virtualTokens} virtual tokens, AdamW, clipping; median of the ${steps - 2} steps between the first and the last.`,
  '',
  '| studio backend (Node) | studio ms/step | reference | reference ms/step | studio ÷ reference | studio first loss | reference first loss |',
  '|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
process.stdout.write(table);
