/**
 * npm run bench [-- --quick] [--node-only | --browser-only] [--backends wasm,cpu[,webgpu]] [--only generation|overlap|profile|models|threads]
 *   [--models gpt-2,qwen]  (the larger models whose names contain these; with --only models, the real-size ones)
 *   [--step-memory MiB]  (the larger models' Step memory setting: how much a step keeps before recomputing)
 * Times the training step and generation (prefill and decode tokens/s) on every backend
 * available in Node and in headless Chromium, beside each backend's float32 matmul speed,
 * and writes bench/results/bench.json and bench/results/bench.md
 * (bench-quick.*, bench-generation.*, bench-overlap.*, bench-quick-generation.* … for the other modes).
 * Steps are timed without the profiler; the profile is its own section. `--backends webgpu` runs
 * WebGPU in Node through Dawn (src/engine/nodeWebGPU.ts; a GPU, or Chromium's SwiftShader).
 */
import { NODE_WEBGPU_FLAGS, nodeWebGPU } from '../src/engine/nodeWebGPU'; // first: before ../src/engine/backend
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BackendName } from '../src/engine/backend';
import { benchModelsFor } from './backendBench';
import { GRID_SECTIONS, gridFor, type BenchSection, type GridOptions } from './grid';
import { runNodeBench, type BackendReport } from './node';
import { markdownReport } from './report';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'node-only': { type: 'boolean', default: false },
    'browser-only': { type: 'boolean', default: false },
    backends: { type: 'string', default: 'wasm,cpu' },
    only: { type: 'string' },
    models: { type: 'string' },
    'step-memory': { type: 'string' },
  },
});
if (values.only === 'threads') {
  // A section with a module of its own: wasm at one thread against every thread, in Chromium.
  const { runThreadsBench } = await import('./threads');
  process.stdout.write(await runThreadsBench(values.quick, (s) => process.stderr.write(`bench: ${s}\n`)));
  process.exit(0);
}
// The sections of the grid; a section with a module of its own is dispatched beside them.
const SECTIONS = Object.keys(GRID_SECTIONS);
if (values.only !== undefined && !SECTIONS.includes(values.only)) {
  throw new Error(`--only takes ${SECTIONS.map((s) => `"${s}"`).join(', ')}, not "${values.only}"`);
}
const only = (values.only ?? null) as BenchSection | null;
const stepMemoryMiB = values['step-memory'] === undefined ? undefined : Number(values['step-memory']);
if (stepMemoryMiB !== undefined && !(Number.isInteger(stepMemoryMiB) && stepMemoryMiB > 0)) throw new Error(`--step-memory: a whole number of MiB, not "${values['step-memory']}"`);
const grid: GridOptions = { ...gridFor(values.quick, only), modelNames: values.models?.split(','), stepMemoryMiB };
benchModelsFor(grid); // an unknown name stops here, before anything is measured
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const reports: BackendReport[] = [];
for (const backend of (values['browser-only'] ? [] : values.backends!.split(',')) as BackendName[]) {
  if (values.quick && backend === 'cpu') continue;
  if (backend === 'webgpu' && !nodeWebGPU.installed) {
    log(`webgpu in Node: skipped (${nodeWebGPU.reason})`);
    continue;
  }
  reports.push(await runNodeBench(backend, grid, log, backend === 'webgpu' ? { flags: NODE_WEBGPU_FLAGS } : {}));
}
if (!values['node-only']) {
  const { runBrowserBench } = await import('./browser');
  reports.push(...(await runBrowserBench(values.quick, log, undefined, only, grid.modelNames, grid.stepMemoryMiB)));
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const dir = path.resolve(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const name = `${values.quick ? 'bench-quick' : 'bench'}${only ? `-${only}` : ''}`;
writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ machine, date: new Date().toISOString(), reports }, null, 2) + '\n');
const markdown = markdownReport(reports, machine);
writeFileSync(path.join(dir, `${name}.md`), markdown);
process.stdout.write(markdown);
process.exit(0);
