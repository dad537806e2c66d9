/**
 * `npm run bench -- --only threads [--quick]`: the training step in headless Chromium on wasm
 * at one thread against every thread, on the cross-origin isolated bench page. Three ways:
 * the single-threaded SIMD build (what a page without isolation runs), the threaded build held
 * to one thread, and the threaded build on every logical core the browser reports. Each runs in
 * a fresh worker (a thread count is fixed once wasm starts); full mode alternates two rounds and
 * keeps each way's faster one, so a busy moment on a shared machine does not favour a side, and
 * adds a larger synthetic model (Llama layout, d=512, 8 layers), where the matmuls dominate.
 * Writes bench/results/bench-threads{-quick}.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WasmThreading } from '../src/engine/backend';
import { startBenchBrowser } from './browser';
import type { ThreadsMessage, ThreadsRequest } from './browser/threadsProtocol';
import type { StepShape } from './flops';
import type { StepMeasurement } from './step';

type ThreadsStepRow = { model: string; parameters: number; step: StepMeasurement };

interface Way {
  label: string;
  request: Pick<ThreadsRequest, 'build' | 'threads'>;
}

const WAYS: Way[] = [
  { label: 'simd', request: { build: 'simd' } },
  { label: 'threaded, 1 thread', request: { build: 'threaded', threads: 1 } },
  { label: 'threaded, every core', request: { build: 'threaded' } },
];

export interface ThreadsRow extends ThreadsStepRow {
  way: string;
  wasm: WasmThreading | null;
  matmulFlopsPerSecond: number;
}

export async function runThreadsBench(quick: boolean, log: (s: string) => void): Promise<string> {
  const shapes: StepShape[] = quick
    ? [{ batch: 8, sequence: 64, virtualTokens: 20, targets: 1 }]
    : [1, 8, 32].map((batch) => ({ batch, sequence: 64, virtualTokens: 20, targets: 1 }));
  const rounds = quick ? 1 : 2;
  const steps = quick ? 3 : 4;
  const best = new Map<string, ThreadsRow>();
  const { browser, url, close } = await startBenchBrowser();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const way of round % 2 ? [...WAYS].reverse() : WAYS) {
        const page = await browser.newPage();
        page.on('console', (m) => { if (m.type() === 'error') log(`[${way.label}] ${m.text()}`); });
        await page.goto(new URL('threads.html', url).href);
        await page.waitForFunction(() => window.benchThreads !== undefined);
        const request: ThreadsRequest = { ...way.request, shapes, steps, synthetic: !quick };
        const result = (await page.evaluate((r) => window.benchThreads!(r), request)) as ThreadsMessage;
        await page.close();
        if (result.kind !== 'done') {
          log(`${way.label}: ${result.kind === 'error' ? result.text : 'no result'}`);
          continue;
        }
        log(`${way.label} (round ${round + 1}): ${result.wasm?.build}, ${result.wasm?.threads} thread(s); `
          + result.steps.map((m) => `${m.model} B=${m.step.shape.batch} ${m.step.stepMs.toFixed(1)} ms`).join(', '));
        for (const measured of result.steps) {
          const key = `${way.label}|${rowKey(measured)}`;
          const kept = best.get(key);
          if (!kept || measured.step.stepMs < kept.step.stepMs) {
            best.set(key, { way: way.label, wasm: result.wasm, matmulFlopsPerSecond: Math.max(result.matmulFlopsPerSecond, kept?.matmulFlopsPerSecond ?? 0), ...measured });
          }
        }
      }
    }
  } finally {
    await close();
  }
  const rows = [...best.values()];
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const markdown = threadsTable(rows, machine, rounds);
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const name = quick ? 'bench-threads-quick' : 'bench-threads';
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2) + '\n');
  writeFileSync(path.join(dir, `${name}.md`), markdown);
  return markdown;
}

const rowKey = (r: ThreadsStepRow) => `${r.model}|${r.step.shape.batch}|${r.step.shape.sequence}|${r.step.shape.virtualTokens}`;

export function threadsTable(rows: ThreadsRow[], machine: string, rounds: number): string {
  const g = (x: number) => (x / 1e9).toFixed(2);
  const lines = [
    `Machine: ${machine}`, '',
    'Wasm threads in Chromium (cross-origin isolated): the training step of prompt tuning (int8 weights), AdamW,'
      + ` one target token per row${rounds > 1 ? `; the faster of ${rounds} alternating runs of each way` : ''}.`
      + ' Speed-up: against the threaded build held to one thread, same model and shape. Matmul: the backend\'s float32 512³ matmul rate in the same worker.', '',
    '| model | build | threads | batch | seq | P | ms/step | tokens/s | speed-up | matmul GFLOP/s |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const oneThread = (row: ThreadsRow) => rows.find((r) => r.way === 'threaded, 1 thread' && rowKey(r) === rowKey(row));
  const order = WAYS.map((w) => w.label);
  const sorted = [...rows].sort((a, b) => a.parameters - b.parameters || a.step.shape.batch - b.step.shape.batch || order.indexOf(a.way) - order.indexOf(b.way));
  for (const r of sorted) {
    const base = oneThread(r);
    const build = r.wasm ? `${r.wasm.build}${r.wasm.fellBack ? ' (fell back)' : ''}` : r.way;
    lines.push(`| ${r.model} | ${build} | ${r.wasm?.threads ?? '?'} | ${r.step.shape.batch} | ${r.step.shape.sequence} | ${r.step.shape.virtualTokens} | `
      + `${r.step.stepMs.toFixed(1)} | ${r.step.tokensPerSecond.toFixed(0)} | ${base ? `${(base.step.stepMs / r.step.stepMs).toFixed(2)}×` : '–'} | ${g(r.matmulFlopsPerSecond)} |`);
  }
  return `${lines.join('\n')}\n`;
}
