/**
 * The CLI under the conditions of issue 15: a run killed with -9 loses only the steps
 * since its last checkpoint in --out and resumes to the same prompt as an uninterrupted
 * run; Ctrl-C through `npm run cli` (the whole process group, as a terminal sends it) and
 * SIGTERM still write the prompt trained so far; folders are written whole or not at all;
 * predict takes paths with commas and gives an empty text no prediction; --header and
 * --no-header decide what the first line is; the text baseline never outgrows the model's
 * positions (45 long labels, a 1,000-character init text).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { writeFolder } from '../../src/cli/files';
import { readPeftAdapter } from '../../src/formats/peft';
import { parseSafetensors } from '../../src/formats/safetensors';
import { hasSharedModel, packageDir, repoRoot } from '../helpers';
import { smsSample } from '../tuning/fixtures';

const ready = hasSharedModel && existsSync(path.join(packageDir('stories260K'), 'model.safetensors'));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const lines = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const checkpointStep = (file: string) => Number(parseSafetensors(new Uint8Array(readFileSync(file))).metadata.step);
const promptOf = (dir: string) => readPeftAdapter(new Map(readdirSync(dir).map((n) => [n, new Uint8Array(readFileSync(path.join(dir, n)))]))).tensors.prompt_embeddings.data;

/** The CLI as a process of its own, as `npm run cli` runs it (node with tsx as a loader), or through npm itself. */
function spawnCli(argv: string[], via: 'node' | 'npm' = 'node'): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null }> } {
  const child = via === 'npm'
    ? spawn('npm', ['run', '-s', 'cli', '--', ...argv], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => stderr, exited };
}

async function until(what: string, test: () => boolean, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Tiny runs: 2 virtual tokens, batch 2, 16 tokens, no evaluation before the last step. */
const tiny = ['--virtual-tokens', '2', '--batch-size', '2', '--max-length', '16', '--eval-every', '100000', '--project-every', '100000', '--eval-examples', '4'];

describe.skipIf(!ready)('the CLI when runs are interrupted, files are odd and writes fail', () => {
  let dir: string;
  let csv: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'studio-cli-reliability-'));
    csv = path.join(dir, 'sms.csv');
    const sample = smsSample(10);
    writeFileSync(csv, Papa.unparse([sample.columns, ...sample.rows]));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 during train loses only the steps since the last checkpoint in --out, and --resume continues to the uninterrupted prompt', async () => {
    const steps = 120;
    const out = path.join(dir, 'killed');
    const run = spawnCli(['train', '--data', csv, ...tiny, '--steps', String(steps), '--checkpoint-every', '5', '--out', out]);
    const checkpoint = path.join(out, 'checkpoint.safetensors');
    await until('the first checkpoint in --out', () => existsSync(checkpoint));
    run.child.kill('SIGKILL');
    const { signal } = await run.exited;
    expect(signal).toBe('SIGKILL');
    // The folder holds one whole checkpoint (written to a temporary name and renamed), nothing half-written.
    expect(readdirSync(out)).toEqual(['checkpoint.safetensors']);
    const saved = checkpointStep(checkpoint);
    expect(saved % 5).toBe(0);
    expect(saved).toBeGreaterThan(0);
    expect(saved).toBeLessThan(steps);

    // Resumed into the same folder, as a user would after a crash.
    const resumed = await cli('train', '--data', csv, '--steps', String(steps), '--resume', out, '--out', out);
    expect(resumed.err).not.toMatch(/^error:/m);
    expect(resumed.code).toBe(0);
    expect(resumed.err).toContain(`resuming at step ${saved}: `);
    const whole = path.join(dir, 'whole');
    const uninterrupted = await cli('train', '--data', csv, ...tiny, '--steps', String(steps), '--checkpoint-every', '5', '--out', whole);
    expect(uninterrupted.code).toBe(0);

    const last = (out: string) => lines(out).filter((l) => l.variant === 'soft').at(-1)!;
    expect(last(resumed.out).step).toBe(steps);
    expect(last(resumed.out).accuracy).toBe(last(uninterrupted.out).accuracy);
    expect(last(resumed.out).loss).toBeCloseTo(last(uninterrupted.out).loss as number, 5);
    const a = promptOf(out);
    const b = promptOf(whole);
    expect(a.length).toBe(b.length);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-4);
    expect(checkpointStep(path.join(out, 'checkpoint.safetensors'))).toBe(steps);
  });

  it('Ctrl-C to `npm run cli -- train` (the whole process group, as a terminal sends it) writes the prompt trained so far and exits 130', async () => {
    const out = path.join(dir, 'interrupted');
    const run = spawnCli(['train', '--data', csv, ...tiny, '--steps', '1000000', '--out', out], 'npm');
    await until('training to start', () => /^step \d+\/1000000/m.test(run.stderr()));
    process.kill(-run.child.pid!, 'SIGINT');
    const { code, signal } = await run.exited;
    expect(run.stderr()).toContain('Ctrl-C: stopping after this step, then writing the prompt trained so far');
    // npm waits for the CLI, which exits 130, then ends itself by the same signal, as a shell expects.
    expect(signal === 'SIGINT' || code === 130).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'checkpoint.safetensors', 'studio.json']);
    const studio = JSON.parse(readFileSync(path.join(out, 'studio.json'), 'utf8'));
    expect(studio.metrics.step).toBeGreaterThan(0);
    // The checkpoint is the very prompt written beside it.
    expect(checkpointStep(path.join(out, 'checkpoint.safetensors'))).toBe(studio.metrics.step);
    expect(promptOf(out)).toHaveLength(2 * 64);
  });

  it('SIGTERM writes the prompt trained so far too, and exits 143', async () => {
    const out = path.join(dir, 'terminated');
    const run = spawnCli(['train', '--data', csv, ...tiny, '--steps', '1000000', '--out', out, '--zip', path.join(dir, 'terminated.zip')]);
    await until('training to start', () => /^step \d+\/1000000/m.test(run.stderr()));
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(143);
    expect(readdirSync(out)).toContain('adapter_model.safetensors');
    expect(existsSync(path.join(dir, 'terminated.zip'))).toBe(true);
  });

  it('a checkpoint that cannot be written stops the run with the reason, not silently', async () => {
    const out = path.join(dir, 'vanishing');
    const run = spawnCli(['train', '--data', csv, ...tiny, '--steps', '1000000', '--checkpoint-every', '2', '--out', out]);
    await until('the first checkpoint in --out', () => existsSync(path.join(out, 'checkpoint.safetensors')));
    // The folder is replaced by a file: the next checkpoint has nowhere to go.
    rmSync(out, { recursive: true, force: true });
    writeFileSync(out, 'in the way');
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(new RegExp(`^error: The run was stopped: Could not write ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `, 'm'));
    expect(readFileSync(out, 'utf8')).toBe('in the way');
  });

  it('writes a folder whole or not at all: a swap when it holds only adapter files, renames beside a user\'s own files, nothing changed when a write fails', () => {
    const files = (tag: string) => new Map([
      ['adapter_config.json', new TextEncoder().encode(`{"tag": "${tag}"}`)],
      ['adapter_model.safetensors', new TextEncoder().encode(tag)],
      ['checkpoint.safetensors', new TextEncoder().encode(`${tag} checkpoint`)],
    ]);
    const read = (d: string) => Object.fromEntries(readdirSync(d).sort().map((n) => [n, readFileSync(path.join(d, n), 'utf8')]));
    const target = path.join(dir, 'atomic');
    writeFolder(target, files('old'));
    writeFolder(target, files('new'));
    expect(read(target)).toEqual({ 'adapter_config.json': '{"tag": "new"}', 'adapter_model.safetensors': 'new', 'checkpoint.safetensors': 'new checkpoint' });
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);

    // A user's own file stays; an adapter file the new set lacks (an old checkpoint) goes.
    writeFileSync(path.join(target, 'my-notes.txt'), 'keep me');
    writeFolder(target, new Map([...files('newer')].filter(([n]) => n !== 'checkpoint.safetensors')));
    expect(read(target)).toEqual({ 'adapter_config.json': '{"tag": "newer"}', 'adapter_model.safetensors': 'newer', 'my-notes.txt': 'keep me' });

    // A write that fails part-way (here: a name the file system refuses) leaves the folder as it was.
    const before = read(target);
    expect(() => writeFolder(target, new Map([...files('broken'), [`${'x'.repeat(300)}.json`, new Uint8Array(1)]]))).toThrow(/^Could not write .*: the name is too long \(ENAMETOOLONG\)\.$/);
    expect(read(target)).toEqual(before);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('predict: --adapters once per adapter takes a path with a comma; an empty text gets an error, not a prediction', async () => {
    const adapter = path.join(dir, 'spam, v2');
    const trained = await cli('train', '--data', csv, ...tiny, '--steps', '2', '--out', adapter);
    expect(trained.code).toBe(0);
    const rows = path.join(dir, 'rows.csv');
    writeFileSync(rows, Papa.unparse([['message', 'id'], ['WINNER claim your prize now', '1'], ['', '2'], ['see you at lunch', '3']]));
    const r = await cli('predict', '--adapters', adapter, '--data', rows, '--text-column', 'message');
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: 1 of 3 rows could not be predicted');
    const parsed = Papa.parse<string[]>(r.out.trim()).data;
    expect(parsed[0]).toEqual(['line', 'text', 'prompt', 'task', 'predicted', 'p(ham)', 'p(spam)', 'error']);
    expect(parsed[2]).toEqual(['3', '', 'spam, v2', '', '', '', '', 'The text is empty, so there is nothing to classify.']);
    expect(parsed[1][4]).toMatch(/^(ham|spam)$/);
    // The comma-separated form still works for names without commas; a repeated flag adds adapters.
    const again = path.join(dir, 'plain');
    await cli('train', '--data', csv, ...tiny, '--steps', '1', '--out', again);
    const both = await cli('predict', '--adapters', adapter, '--adapters', again, '--data', rows, '--text-column', 'message', '--prompt-column', 'message');
    expect(both.code).toBe(0);
    expect(both.err).toContain('prompt "spam, v2"');
    expect(both.err).toContain('prompt "plain"');
  });

  it('--header and --no-header decide what the first line is', async () => {
    // A headerless file whose first line the guess would take for a header.
    const file = path.join(dir, 'no-header.csv');
    writeFileSync(file, ['message,category', ...smsSample(6).rows.map((r) => Papa.unparse([[r[0], r[1]]]))].join('\n'));
    const guessed = await cli('train', '--data', file, ...tiny, '--steps', '1', '--out', path.join(dir, 'h1'));
    expect(guessed.err).toMatch(/no-header\.csv: 12 rows; text "message", label "category"/);
    const forced = await cli('train', '--data', file, ...tiny, '--steps', '1', '--no-header', '--text-column', 'column_1', '--label-column', 'column_2', '--out', path.join(dir, 'h2'));
    expect(forced.err).not.toMatch(/^error:/m);
    expect(forced.err).toMatch(/no-header\.csv: 13 rows; text "column_1", label "column_2"/);
    expect(forced.code).toBe(0);
  });

  it('45 long labels and a 1,000-character init text: the text baseline is shortened to fit the model\'s positions and says so', async () => {
    const file = path.join(dir, 'many-labels.csv');
    const labels = Array.from({ length: 45 }, (_, i) => `category number ${i} of the long list`);
    writeFileSync(file, Papa.unparse([['text', 'label'], ...labels.flatMap((l, i) => [[`first text ${i}`, l], [`second text ${i}`, l]])]));
    const r = await cli('train', '--data', file, '--virtual-tokens', '2', '--batch-size', '2', '--max-length', '300', '--steps', '1', '--eval-batch-size', '4', '--eval-examples', '4', '--scoring', 'rank', '--out', path.join(dir, 'many'));
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const text = lines(r.out).find((l) => l.variant === 'text')!;
    expect(text.prompt).toMatch(/^Classify the text as category number 0 of the long list, .* or one of \d+ other labels\.$/);
    expect(r.err).toMatch(/^warning: The text-prompt baseline's instruction was shortened to fit the model's 512 positions \(\d+ tokens are left beside the max length and the longest label\): "Classify the text as /m);

    const initText = 'Decide whether this short message is spam or an ordinary message from a friend. '.repeat(13).slice(0, 1000);
    const init = await cli('train', '--data', csv, '--init', 'text', '--init-text', initText, '--virtual-tokens', '4', '--batch-size', '2', '--max-length', '400', '--steps', '1', '--eval-examples', '4', '--out', path.join(dir, 'init'));
    expect(init.err).not.toMatch(/^error:/m);
    expect(init.code).toBe(0);
    expect(lines(init.out).find((l) => l.variant === 'text')!.prompt).toMatch(/^Decide whether this short message is spam .*…$/);
  });
});
