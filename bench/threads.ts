/**
 * `npm run bench -- --only threads [--quick]`: the training step in headless Chromium on wasm
 * at one thread against every thread, on the cross-origin isolated bench page. Three ways: the
 * single-threaded SIMD build (what a page without isolation runs), the threaded build held to
 * one thread, and the threaded build on every logical core the browser reports. Each way is a
 * worker of its own (a thread count is fixed once wasm starts), all open at once; their runs are
 * interleaved, round after round in rotating order, and each way's median counts, so that a
 * busy moment on a shared machine falls on every way alike. The full mode adds a larger
 * synthetic model (Llama layout, d=512, 8 layers), where the matmuls dominate the step.
 * Writes bench/results/bench-threads{-quick}.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WasmThreading } from '../src/engine/backend';
import { startBenchBrowser } from './browser';
import type { ThreadsMessage, ThreadsModel, WayRequest } from './browser/threadsProtocol';
import type { StepShape } from '../src/model/flops';

const WAYS: { label: string; request: WayRequest }[] = [
  { label: 'simd', request: { build: 'simd' } },
  { label: 'threaded, 1 thread', request: { build: 'threaded', threads: 1 } },
  { label: 'threaded, every core', request: { build: 'threaded' } },
];

interface Case {
  model: ThreadsModel;
  shape: StepShape;
  steps: number;
  rounds: number;
}

export interface ThreadsRow {
  way: string;
  wasm: WasmThreading | null;
  model: string;
  parameters: number;
  shape: StepShape;
  rounds: number;
  /** Medians over the rounds. */
  stepMs: number;
  tokensPerSecond: number;
  matmulFlopsPerSecond: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function casesFor(quick: boolean): Case[] {
  const shape = (batch: number): StepShape => ({ batch, sequence: 64, virtualTokens: 20, targets: 1 });
  if (quick) return [{ model: 'stories260K', shape: shape(8), steps: 3, rounds: 3 }];
  return [
    ...[1, 8, 32].map((batch) => ({ model: 'stories260K' as const, shape: shape(batch), steps: 4, rounds: 5 })),
    { model: 'synthetic', shape: shape(8), steps: 3, rounds: 3 },
  ];
}

export async function runThreadsBench(quick: boolean, log: (s: string) => void): Promise<string> {
  const cases = casesFor(quick);
  const synthetic = cases.some((c) => c.model === 'synthetic');
  const rows: ThreadsRow[] = [];
  const { browser, url, close } = await startBenchBrowser();
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') log(`[page] ${m.text()}`); });
    await page.goto(new URL('threads.html', url).href);
    await page.waitForFunction(() => window.threadsOpen !== undefined, undefined, { timeout: 120_000 });
    const opened: Extract<ThreadsMessage, { kind: 'opened' }>[] = [];
    for (const way of WAYS) {
      const reply = (await page.evaluate(([w, s]) => window.threadsOpen!(w, s), [way.request, synthetic] as const)) as ThreadsMessage;
      if (reply.kind !== 'opened') throw new Error(`${way.label}: ${reply.kind === 'error' ? reply.text : reply.kind}`);
      log(`${way.label}: ${reply.wasm?.build}, ${reply.wasm?.threads} thread(s)`);
      opened.push(reply);
    }
    for (const c of cases) {
      const measured = WAYS.map(() => ({ stepMs: [] as number[], tokensPerSecond: [] as number[], matmul: [] as number[] }));
      for (let round = 0; round < c.rounds; round++) {
        for (let k = 0; k < WAYS.length; k++) {
          const way = (round + k) % WAYS.length;
          const reply = (await page.evaluate(([w, r]) => window.threadsMeasure!(w, r), [way, { kind: 'measure', model: c.model, shape: c.shape, steps: c.steps }] as const)) as ThreadsMessage;
          if (reply.kind !== 'measured') throw new Error(`${WAYS[way].label}: ${reply.kind === 'error' ? reply.text : reply.kind}`);
          measured[way].stepMs.push(reply.step.stepMs);
          measured[way].tokensPerSecond.push(reply.step.tokensPerSecond);
          measured[way].matmul.push(reply.matmulFlopsPerSecond);
        }
      }
      WAYS.forEach((way, i) => {
        const model = opened[i].models[c.model];
        rows.push({
          way: way.label, wasm: opened[i].wasm, model: model.name, parameters: model.parameters, shape: c.shape, rounds: c.rounds,
          stepMs: median(measured[i].stepMs), tokensPerSecond: median(measured[i].tokensPerSecond), matmulFlopsPerSecond: median(measured[i].matmul),
        });
      });
      log(`${opened[0].models[c.model].name} B=${c.shape.batch}: ${rows.slice(-WAYS.length).map((r) => `${r.way} ${r.stepMs.toFixed(1)} ms`).join(', ')}`);
    }
    await page.close();
  } finally {
    await close();
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg()[0].toFixed(1)} at the end, Node ${process.version}`;
  const markdown = threadsTable(rows, machine);
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const name = quick ? 'bench-threads-quick' : 'bench-threads';
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2) + '\n');
  writeFileSync(path.join(dir, `${name}.md`), markdown);
  return markdown;
}

export function threadsTable(rows: ThreadsRow[], machine: string): string {
  const g = (x: number) => (x / 1e9).toFixed(2);
  const lines = [
    `Machine: ${machine}`, '',
    'Wasm threads in Chromium (cross-origin isolated): the training step of prompt tuning (int8 weights), AdamW, one target token per row.'
      + ' The three ways run interleaved, round after round; each figure is the median of its rounds. Speed-up: against the threaded build'
      + ' held to one thread, same model and shape. Matmul: the float32 512³ matmul rate in the same worker, measured beside each step.', '',
    '| model | build | threads | batch | seq | P | rounds | ms/step | tokens/s | speed-up | matmul GFLOP/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const sameCase = (a: ThreadsRow, b: ThreadsRow) => a.model === b.model && a.shape.batch === b.shape.batch
    && a.shape.sequence === b.shape.sequence && a.shape.virtualTokens === b.shape.virtualTokens;
  for (const r of rows) {
    const base = rows.find((b) => b.way === 'threaded, 1 thread' && sameCase(b, r));
    const build = r.wasm ? `${r.wasm.build}${r.wasm.fellBack ? ' (fell back)' : ''}` : r.way;
    lines.push(`| ${r.model} | ${build} | ${r.wasm?.threads ?? '?'} | ${r.shape.batch} | ${r.shape.sequence} | ${r.shape.virtualTokens} | ${r.rounds} | `
      + `${r.stepMs.toFixed(1)} | ${r.tokensPerSecond.toFixed(0)} | ${base ? `${(base.stepMs / r.stepMs).toFixed(2)}×` : '–'} | ${g(r.matmulFlopsPerSecond)} |`);
  }
  return `${lines.join('\n')}\n`;
}
