/**
 * The GPU kit's Node program: one phase per call, so that bench/gpu/run.sh can give each its
 * own timeout. Bundled with tfjs inside into the kit (scripts/build-gpu-kit.ts); runs as is with
 * tsx too (`npx tsx bench/gpu/main.ts probe --results DIR`).
 *
 *   probe       Dawn's adapter: facts, features, limits; a 256² matmul against cpu
 *   kernels     the int8 kernel cases (tests/kernels) on webgpu
 *   grid        `npm run bench`'s grid on webgpu: steps, overlap, generation, profile
 *   models      real-size layouts (SmolLM2-135M/360M, Qwen2.5-0.5B, GPT-2) made on the spot, at a few shapes, on webgpu
 *   wasm        the same grid (and the synthetic larger models) on wasm: the reference on the same machine
 *   first-loss  the same training run on webgpu and on wasm: the losses side by side
 *   report      results.json and summary.md from every phase's file so far
 *
 * Each phase writes DIR/<phase>.json, again after every measurement, so a phase stopped by its
 * timeout still leaves what it measured. --smoke: the smallest sizes, for a software adapter.
 */
import { NODE_WEBGPU_FLAGS, nodeWebGPU } from '../../src/engine/nodeWebGPU'; // first: before ../../src/engine/backend
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { folderSource } from '../../src/cli/nodeSource';
import { probeWebGPU, selectBackend, type BackendName, type BackendOptions } from '../../src/engine/backend';
import { buildModel } from '../../src/model/build';
import { loadModelPackage, type ModelPackage } from '../../src/model/package';
import { TextTokenizer } from '../../src/tokenizer/tokenizer';
import { validateTrainConfig } from '../../src/tuning/config';
import { RunControl } from '../../src/tuning/control';
import { Trainer } from '../../src/tuning/trainer';
import { failures } from '../../tests/kernels/cases';
import { runBackendCases } from '../../tests/kernels/run';
import { measureModels, syntheticBenchModel, type BenchModel } from '../backendBench';
import type { StepShape } from '../../src/model/flops';
import { FULL_GRID, SMOKE_GRID, type BackendReport, type GridOptions } from '../grid';
import { runNodeBench } from '../node';
import { markdownReport } from '../report';
import { syntheticTask } from '../step';
import { REAL_SIZE_SHAPES, syntheticPackage, TINY_QWEN2, type SyntheticShape } from '../synthetic';

const PHASES = ['probe', 'kernels', 'grid', 'models', 'wasm', 'first-loss', 'report'] as const;
type Phase = (typeof PHASES)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    results: { type: 'string' },
    models: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const phase = positionals[0] as Phase;
if (!PHASES.includes(phase)) throw new Error(`phase must be one of ${PHASES.join(', ')}, not "${positionals[0]}"`);
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.resolve(values.results ?? path.join(here, '..', 'results', 'gpu'));
// The kit puts the model packages beside the bundle; from the repository, public/models.
const modelsDir = path.resolve(values.models ?? (existsSync(path.join(here, 'models')) ? path.join(here, 'models') : path.join(here, '..', '..', 'public', 'models')));
const smoke = values.smoke;
mkdirSync(resultsDir, { recursive: true });

const started = performance.now();
const log = (s: string) => process.stderr.write(`[${phase} ${((performance.now() - started) / 1000).toFixed(1)}s] ${s}\n`);

/** Writes this phase's file now (whole, by rename): a phase killed later keeps what it wrote. */
function save(result: unknown): void {
  const file = path.join(resultsDir, `${phase}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** In the bundle the tfjs wasm binaries sit beside it; from the repository Node finds them itself. */
function backendOptions(backend: BackendName): BackendOptions {
  if (backend === 'webgpu') return { flags: NODE_WEBGPU_FLAGS };
  return existsSync(path.join(here, 'tfjs-backend-wasm-simd.wasm')) ? { wasmPaths: `${here}${path.sep}` } : {};
}

async function useBackend(backend: BackendName) {
  if (backend === 'webgpu' && !nodeWebGPU.installed) throw new Error(`WebGPU in Node: ${nodeWebGPU.reason}`);
  return selectBackend(backend, backendOptions(backend));
}

// ---------------------------------------------------------------------------------------

async function probe() {
  const result: Record<string, unknown> = { nodeWebGPU, node: process.version, platform: `${os.platform()} ${os.release()} ${os.arch()}`, cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}` };
  save(result);
  const adapter = nodeWebGPU.installed ? await probeWebGPU() : null;
  result.adapter = adapter;
  save(result);
  if (!adapter) throw new Error(`no WebGPU adapter (${nodeWebGPU.reason ?? JSON.stringify(nodeWebGPU.driverEnvironment)})`);
  const raw = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const info = raw?.info as (GPUAdapterInfo & Record<string, unknown>) | undefined;
  result.adapterInfo = info ? Object.fromEntries(['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter'].map((k) => [k, info[k]])) : null;
  result.features = raw ? [...raw.features].sort() : [];
  const limits = raw?.limits as unknown as Record<string, number> | undefined;
  result.limits = limits ? Object.fromEntries(['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension'].map((k) => [k, limits[k]])) : null;
  log(`adapter: ${JSON.stringify(adapter)}`);
  save(result);
  const choice = await useBackend('webgpu');
  result.backend = { backend: choice.backend, reason: choice.reason };
  // A 256² matmul on webgpu against cpu: the first sign that the device computes.
  const a = tf.randomUniform([256, 256], -1, 1, 'float32', 1);
  const b = tf.randomUniform([256, 256], -1, 1, 'float32', 2);
  const gpu = await tf.matMul(a, b).data();
  const [aData, bData] = [await a.data(), await b.data()];
  await selectBackend('cpu');
  const cpu = await tf.matMul(tf.tensor2d(aData, [256, 256]), tf.tensor2d(bData, [256, 256])).data();
  let maxDiff = 0;
  for (let i = 0; i < cpu.length; i++) maxDiff = Math.max(maxDiff, Math.abs(gpu[i] - cpu[i]));
  result.matmul256MaxDiffAgainstCpu = maxDiff;
  log(`256² matmul, webgpu against cpu: max |diff| ${maxDiff}`);
  save(result);
}

async function kernels() {
  const choice = await useBackend('webgpu');
  const result = await runBackendCases('webgpu', log);
  const failed = failures(result.cases);
  save({ adapter: choice.adapter?.description, int8Kernels: result.int8Kernels, cases: result.cases.length, failures: failed, results: result.cases });
  log(`${result.cases.length} cases, int8 kernels ${result.int8Kernels ? 'ran' : 'did NOT run'}; ${failed.length} failures`);
  for (const f of failed) log(`FAIL ${f}`);
}

async function bench(backend: BackendName, grid: GridOptions, models: BenchModel[]) {
  await useBackend(backend);
    // A GPU's matmul rate needs a larger product than a CPU's to show (512 is dispatch-bound there).
  const matmulSize = smoke ? 128 : backend === 'webgpu' ? 2048 : 512;
  const report = await runNodeBench(backend, grid, log, { modelsDir, models, flags: backendOptions(backend).flags, onProgress: save, matmulSize });
  save(report);
}

/** The real-size shape wasm also runs (its heap holds SmolLM2-135M widened to float32 there): the side-by-side row. */
const REAL_SIZE_REFERENCE_SHAPE: StepShape = { batch: 1, sequence: 32, virtualTokens: 20, targets: 1 };

/** Real-size layouts, made here (random int8 weights), at a few shapes: the GPU kit's larger models. */
function realSizeModels(): BenchModel[] {
  if (smoke) return [syntheticBenchModel(TINY_QWEN2, [{ batch: 1, sequence: 32, virtualTokens: 4, targets: 1 }])];
  // Smallest first: a phase cut off by its time limit keeps the rows it finished.
  const shapes: StepShape[] = [REAL_SIZE_REFERENCE_SHAPE, { batch: 1, sequence: 128, virtualTokens: 20, targets: 1 }, { batch: 8, sequence: 128, virtualTokens: 20, targets: 1 }];
  return REAL_SIZE_SHAPES.map((s) => syntheticBenchModel(s, shapes));
}

/** The default model's package and tokenizer (the synthetic models train with its tokenizer: the task is token ids). */
async function defaultPackage(): Promise<{ pkg: ModelPackage; tokenizer: TextTokenizer }> {
  const pkg = await loadModelPackage(folderSource(path.join(modelsDir, 'stories260K')));
  return { pkg, tokenizer: TextTokenizer.fromJson(pkg.tokenizerJson, pkg.tokenizerConfig) };
}

async function models() {
  const choice = await useBackend('webgpu');
  const { tokenizer } = await defaultPackage();
  const software = choice.adapter?.isFallbackAdapter ?? false;
  const rows = await measureModels(realSizeModels(), tokenizer, 'webgpu', software, log, Infinity, (r) => save({ adapter: choice.adapter?.description, rows: r }));
  save({ adapter: choice.adapter?.description, rows });
}

/** The same run (seed, data, settings) on each backend; the losses of every step. */
async function losses(pkg: ModelPackage, tokenizer: TextTokenizer, backend: BackendName, shape: StepShape, steps: number): Promise<number[]> {
  await useBackend(backend);
  const model = buildModel(pkg);
  const task = syntheticTask(model.config.vocabSize, shape.sequence, Math.max(shape.batch * 2, 8), 3);
  const config = validateTrainConfig({
    method: 'prompt', init: 'random', numVirtualTokens: shape.virtualTokens, batchSize: shape.batch, steps,
    evalEvery: 1e6, projectEvery: 1e6, checkpointEvery: 1e6, maxLength: shape.sequence, warmupSteps: 0, seed: 7,
  });
  const trainer = await Trainer.create(model, tokenizer, task, config);
  const out: number[] = [];
  try {
    await trainer.run(new RunControl(), { onStep: (e) => out.push(e.loss) });
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return out;
}

async function firstLoss() {
  const stories = await defaultPackage();
  const cases: { model: string; pkg: () => Promise<ModelPackage>; shape: StepShape; steps: number }[] = [
    { model: 'stories260K (int8)', pkg: async () => stories.pkg, shape: smoke ? { batch: 1, sequence: 32, virtualTokens: 4, targets: 1 } : { batch: 8, sequence: 64, virtualTokens: 20, targets: 1 }, steps: smoke ? 2 : 4 },
    ...(smoke
      ? [{ model: TINY_QWEN2.name, pkg: async () => syntheticPackage(TINY_QWEN2), shape: { batch: 1, sequence: 16, virtualTokens: 4, targets: 1 }, steps: 2 }]
      : [{ model: REAL_SIZE_SHAPES[0].name, pkg: async () => syntheticPackage(REAL_SIZE_SHAPES[0] as SyntheticShape), shape: { batch: 1, sequence: 32, virtualTokens: 20, targets: 1 }, steps: 2 }]),
  ];
  const rows: Record<string, unknown>[] = [];
  for (const c of cases) {
    const pkg = await c.pkg();
    const gpu = await losses(pkg, stories.tokenizer, 'webgpu', c.shape, c.steps);
    log(`${c.model} webgpu: ${gpu.join(', ')}`);
    const wasm = await losses(pkg, stories.tokenizer, 'wasm', c.shape, c.steps);
    log(`${c.model} wasm: ${wasm.join(', ')}`);
    const diffs = gpu.map((v, i) => Math.abs(v - wasm[i]));
    rows.push({ model: c.model, shape: c.shape, webgpu: gpu, wasm, firstLossDiff: diffs[0], maxDiff: Math.max(...diffs) });
    save({ rows });
  }
}

// ---------------------------------------------------------------------------------------
// report

function readJson(name: string): unknown {
  const file = path.join(resultsDir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

function report() {
  const all: Record<string, unknown> = {};
  for (const f of readdirSync(resultsDir).filter((n) => n.endsWith('.json'))) all[f.replace(/\.json$/, '')] = readJson(f.replace(/\.json$/, ''));
  const phases = existsSync(path.join(resultsDir, 'phases.tsv')) ? readFileSync(path.join(resultsDir, 'phases.tsv'), 'utf8') : '';
  const out = values.out ? path.resolve(values.out) : resultsDir;
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'results.json'), JSON.stringify({ date: new Date().toISOString(), phases: phases.trim().split('\n').filter(Boolean), ...all }, null, 2) + '\n');

  const lines: string[] = ['# Prompt Tuning Studio on this machine (bench/gpu/run.sh)', ''];
  const preflight = existsSync(path.join(resultsDir, 'preflight.txt')) ? readFileSync(path.join(resultsDir, 'preflight.txt'), 'utf8').trim() : '';
  if (preflight) lines.push('## Preflight', '', '```', preflight, '```', '');
  if (phases) lines.push('## Phases', '', '| phase | exit | seconds | limit |', '|---|---|---|---|', ...phases.trim().split('\n').map((l) => `| ${l.split('\t').join(' | ')} |`), '');
  const probeResult = all.probe as { adapter?: { description: string; isFallbackAdapter: boolean }; matmul256MaxDiffAgainstCpu?: number } | undefined;
  if (probeResult) {
    lines.push('## Adapter', '', probeResult.adapter ? `${probeResult.adapter.description}${probeResult.adapter.isFallbackAdapter ? ' (a software fallback adapter)' : ''}; 256² matmul against cpu: max |diff| ${probeResult.matmul256MaxDiffAgainstCpu ?? '–'}.` : 'No adapter.', '');
  }
  const k = all.kernels as { cases: number; int8Kernels: boolean; failures: string[] } | undefined;
  if (k) lines.push('## int8 kernel checks (tests/kernels on webgpu)', '', `${k.cases} cases, int8 kernels ${k.int8Kernels ? 'ran' : 'did not run'}, ${k.failures.length} failures${k.failures.length ? ':' : '.'}`, ...k.failures.map((f) => `- ${f}`), '');
  const reports: BackendReport[] = [];
  const gridReport = all.grid as BackendReport | undefined;
  const modelRows = (all.models as { rows?: BackendReport['models'] } | undefined)?.rows ?? [];
  if (gridReport) reports.push({ ...gridReport, models: [...(gridReport.models ?? []), ...modelRows] });
  else if (modelRows.length) reports.push({ environment: 'node', backend: 'webgpu', matmulFlopsPerSecond: NaN, weightBytes: { int8Package: 0, float32Package: 0 }, grid: [], models: modelRows, exponents: null });
  if (all.wasm) reports.push(all.wasm as BackendReport);
  if (reports.length) lines.push('## Bench (webgpu, then wasm on the same machine)', '', markdownReport(reports, `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`), '');
  const fl = all['first-loss'] as { rows: { model: string; shape: StepShape; webgpu: number[]; wasm: number[]; firstLossDiff: number; maxDiff: number }[] } | undefined;
  if (fl) {
    lines.push('## First loss, webgpu against wasm (the same run: seed, data, settings)', '', '| model | batch × seq + P | steps | webgpu first loss | wasm first loss | difference, first step | largest difference over the steps |', '|---|---|---|---|---|---|---|');
    for (const r of fl.rows) lines.push(`| ${r.model} | ${r.shape.batch} × ${r.shape.sequence} + ${r.shape.virtualTokens} | ${r.webgpu.length} | ${r.webgpu[0]} | ${r.wasm[0]} | ${r.firstLossDiff.toExponential(2)} | ${r.maxDiff.toExponential(2)} |`);
    lines.push('');
  }
  const peft = all.peft as { verdict?: string; tolerance?: number; variants?: { base: string; maxDiff: number | null; ok: boolean; error?: string }[] } | undefined;
  if (peft) {
    lines.push('## PEFT check (bench/gpu/peft_check.py: transformers + peft against the studio\'s probabilities)', '', peft.verdict ?? '', '');
    if (peft.variants?.length) {
      lines.push(`| base model | largest difference from the studio's probabilities | within ${peft.tolerance ?? 'the tolerance'} |`, '|---|---|---|');
      for (const v of peft.variants) lines.push(`| ${v.base} | ${v.maxDiff ?? v.error ?? '–'} | ${v.ok ? 'yes' : 'no'} |`);
      lines.push('');
    }
  }
  writeFileSync(path.join(out, 'summary.md'), lines.join('\n'));
  log(`wrote ${path.join(out, 'results.json')} and summary.md`);
}

// ---------------------------------------------------------------------------------------

const grid: GridOptions = smoke ? { ...SMOKE_GRID, models: false } : { ...FULL_GRID, models: false };
const WASM_GRID: GridOptions = { ...FULL_GRID, batches: [1, 8], overlap: null, generation: { promptTokens: [32, 256], newTokens: 64, repeats: 2 } };
try {
  switch (phase) {
    case 'probe': await probe(); break;
    case 'kernels': await kernels(); break;
    case 'grid': await bench('webgpu', grid, []); break;
    case 'models': await models(); break;
    // The reference on the same machine; of the real sizes only what the wasm heap holds (widened to float32).
    // Batch 32 (the slowest shapes on a CPU) and overlap are left out to fit the phase's time.
    case 'wasm': await bench('wasm', smoke ? { ...SMOKE_GRID, models: false } : WASM_GRID, smoke ? [] : [syntheticBenchModel(REAL_SIZE_SHAPES[0], [REAL_SIZE_REFERENCE_SHAPE])]); break;
    case 'first-loss': await firstLoss(); break;
    case 'report': report(); break;
  }
} catch (e) {
  log(`error: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
}
// Dawn's GPU object keeps the process alive: leave explicitly.
process.exit(0);
