/**
 * npm run bench:soak [-- --steps N] [--backend wasm|cpu] [--batch 4] [--max-length 64] [--browser]
 * A soak benchmark, not a test: trains prompt tuning on the default model for many steps on a
 * real dataset (../shared/data/sms_spam.csv, 100 rows per label) and prints live tfjs tensors,
 * their bytes, the JS heap (after a forced GC) and wasm memory at the start, every --sample-every
 * steps and at the end, saying whether any of them grew. Node by default (5,000 steps);
 * --browser runs it in headless Chromium's benchmark page instead (1,000 steps by default).
 * Writes bench/results/soak-<where>-<steps>.{json,md}.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import type { BenchMessage, SoakRequest } from './browser/protocol';
import { DEFAULT_SOAK, runSoak, soakDataset, soakMarkdown, type SoakOptions, type SoakResult } from './soakCore';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: String(DEFAULT_SOAK.batchSize) },
    'max-length': { type: 'string', default: String(DEFAULT_SOAK.maxLength) },
    'sample-every': { type: 'string' },
    browser: { type: 'boolean', default: false },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const file = 'sms_spam.csv';
const csvPath = path.join(process.env.STUDIO_SHARED_DIR ?? path.resolve(root, '..', 'shared'), 'data', file);
if (!existsSync(csvPath)) throw new Error(`${csvPath} is missing: the soak trains on the real datasets in ../shared/data.`);
const steps = Number(values.steps ?? (values.browser ? 1000 : DEFAULT_SOAK.steps));
const options: SoakOptions = {
  ...DEFAULT_SOAK,
  steps,
  batchSize: Number(values.batch),
  maxLength: Number(values['max-length']),
  sampleEvery: Number(values['sample-every'] ?? Math.max(1, Math.round(steps / 10))),
};
for (const [k, v] of Object.entries(options)) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive whole number, got ${v}`);
const log = (s: string) => process.stderr.write(`soak: ${s}\n`);
const csv = readFileSync(csvPath, 'utf8');

async function soakInNode(): Promise<SoakResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) log('no global gc (run through `npm run bench:soak`, which passes --expose-gc): heap figures include garbage');
  const backend = await selectBackend(values.backend as BackendName);
  const session = await ModelSession.open(folderSource(path.join(root, 'public', 'models', 'stories260K')), backend);
  try {
    const heap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    return await runSoak(session.model, session.tokenizer, soakDataset(csv, options.perClass), file, options, heap, log);
  } finally {
    session.dispose();
  }
}

async function soakInChromium(): Promise<SoakResult> {
  const { startBenchBrowser } = await import('./browser');
  // --expose-gc and precise memory info: the page can collect garbage before reading its heap.
  const { browser, url, close } = await startBenchBrowser(['--js-flags=--expose-gc', '--enable-precise-memory-info']);
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') log(`[chromium] ${m.text()}`); });
    await page.goto(`${url}?soak=1`);
    await page.waitForFunction(() => typeof window.benchSoak === 'function');
    const request: SoakRequest = { backend: values.backend as BackendName, csv, file, options };
    await page.evaluate((r) => window.benchSoak!(r), request);
    // The page's log is the progress report; echo its new lines while the run goes.
    let shown = 0;
    for (;;) {
      const done = await page.evaluate(() => window.benchResult !== undefined);
      const lines = (await page.evaluate(() => document.getElementById('log')!.textContent ?? '')).split('\n');
      for (const line of lines.slice(Math.max(1, shown))) log(`[chromium] ${line}`);
      shown = Math.max(shown, lines.length);
      if (done) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const result = (await page.evaluate(() => window.benchResult)) as BenchMessage;
    if (result.kind !== 'soak') throw new Error(`the soak page failed: ${result.kind === 'error' ? result.text : result.kind}`);
    return result.result;
  } finally {
    await close();
  }
}

const result = values.browser ? await soakInChromium() : await soakInNode();
const where = values.browser ? 'chromium (benchmark page, main thread)' : `node ${process.version}`;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const markdown = `Machine: ${machine}\n\n${soakMarkdown(result, where)}`;
const dir = path.join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const name = `soak-${values.browser ? 'chromium' : 'node'}-${steps}`;
writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ machine, where, date: new Date().toISOString(), ...result }, null, 2) + '\n');
writeFileSync(path.join(dir, `${name}.md`), markdown);
process.stdout.write(markdown);
process.exit(0);
