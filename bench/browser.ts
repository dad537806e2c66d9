/**
 * The browser half of `npm run bench`: builds the app, serves it, and drives the benchmark
 * page (bench/browser/) in Debian's headless Chromium, once per backend.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { chromiumArgs } from '../playwright.config';
import type { BackendReport, BenchSection } from './grid';
import type { BenchMessage } from './browser/protocol';

const root = path.resolve(import.meta.dirname, '..');

/** Builds the bench pages (vite.bench.config.ts) into dist-bench, serves them, and opens Debian's headless Chromium. */
export async function startBenchBrowser(extraArgs: string[] = []): Promise<{ browser: Browser; url: string; close: () => Promise<void> }> {
  const outDir = 'dist-bench';
  const port = Number(process.env.BENCH_PORT ?? 4390);
  // BENCH_REUSE_BUILD=1 serves the last build as it is (after a bench run, for a soak run).
  if (!(process.env.BENCH_REUSE_BUILD === '1' && existsSync(path.join(root, outDir, 'bench', 'browser', 'index.html')))) {
    const build = spawnSync('npx', ['vite', 'build', '--config', 'vite.bench.config.ts', '--logLevel', 'warn', '--outDir', outDir], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('vite build failed');
  }
  // Its own process group, so that stopping it stops vite and not only npx (which left vite serving).
  const server = spawn('npx', ['vite', 'preview', '--config', 'vite.bench.config.ts', '--outDir', outDir, '--port', String(port), '--strictPort'], { cwd: root, stdio: 'ignore', detached: true });
  const stopServer = () => {
    try {
      process.kill(-server.pid!, 'SIGTERM');
    } catch { /* already gone */ }
  };
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...chromiumArgs, ...extraArgs] });
  } catch (e) {
    stopServer();
    throw e;
  }
  for (let i = 0; i < 50; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    browser,
    url: `http://127.0.0.1:${port}/bench/browser/index.html`,
    close: async () => {
      await browser.close();
      stopServer();
    },
  };
}

export async function runBrowserBench(
  quick: boolean, log: (s: string) => void, backends = ['webgpu', 'wasm', 'cpu'], only: BenchSection | null = null, modelNames?: string[], stepMemoryMiB?: number,
): Promise<BackendReport[]> {
  const { browser, url, close } = await startBenchBrowser();
  const reports: BackendReport[] = [];
  try {
    for (const backend of backends) {
      // The cpu backend in a browser is plain JavaScript: only the quick shape, or it takes hours.
      const useQuick = quick || backend === 'cpu';
      const page = await browser.newPage();
      page.on('console', (m) => { if (m.type() === 'error') log(`[${backend}] ${m.text()}`); });
      await page.goto(`${url}?backend=${backend}${useQuick ? '&quick=1' : ''}${only ? `&only=${only}` : ''}${modelNames?.length ? `&models=${encodeURIComponent(modelNames.join(','))}` : ''}${stepMemoryMiB ? `&stepMemory=${stepMemoryMiB}` : ''}`);
      await page.waitForFunction(() => window.benchResult !== undefined, undefined, { timeout: 3_600_000, polling: 1000 });
      const result = (await page.evaluate(() => window.benchResult)) as BenchMessage;
      const longTasks = (await page.evaluate(() => window.benchLongTasks ?? [])) as number[];
      const workerStart = (await page.evaluate(() => window.benchWorkerStart ?? 0)) as number;
      await page.close();
      if (result.kind !== 'done') {
        log(`chromium ${backend}: ${result.kind === 'error' ? result.text : 'no result'}`);
        continue;
      }
      const { milestones, firstStep, grid } = result;
      const steadySameShape = grid[0]?.stepMs ?? firstStep?.stepMs ?? 0;
      const total = workerStart + milestones.firstStepDone;
      reports.push({
        environment: 'chromium',
        backend: result.backend.backend,
        adapter: result.backend.backend === 'webgpu' && result.backend.adapter ? `${result.backend.adapter.description}${result.backend.adapter.isFallbackAdapter ? ', software' : ''}` : undefined,
        ...(result.backend.wasm ? { threads: result.backend.wasm.threads } : {}),
        matmulFlopsPerSecond: result.matmulFlopsPerSecond,
        weightBytes: result.weightBytes,
        grid,
        models: result.models,
        exponents: result.exponents,
        timeToFirstStepMs: firstStep ? {
          total,
          modelLoad: milestones.modelLoaded - milestones.backendReady,
          firstStep: firstStep.firstStepMs,
          compileShare: Math.max(0, firstStep.firstStepMs - steadySameShape) / total,
        } : undefined,
        longTasks: { count: longTasks.filter((d) => d > 50).length, maxMs: Math.max(0, ...longTasks) },
        generation: result.generation,
        ...(result.overlap ? { overlap: result.overlap } : {}),
        ...(result.profile ? { profile: result.profile } : {}),
      });
      const g = result.generation?.[0];
      log(`chromium ${backend}: ${firstStep ? `first step ${(total / 1000).toFixed(1)} s after opening; ${grid.length} shapes; ` : ''}`
        + `generation ${g ? `prefill ${g.prefillTokensPerSecond.toFixed(0)} tokens/s, decode ${g.decodeTokensPerSecond.toFixed(1)} tokens/s` : 'not measured'}`);
    }
  } finally {
    await close();
  }
  return reports;
}
