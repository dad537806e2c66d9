/**
 * Small files that unpack to gigabytes, and a 1.9 GB --data file of NUL bytes: each is
 * refused with its sizes named while the process's resident memory grows by under 200 MB
 * (measured as the peak, getrusage's maxrss, in a process of its own per case: see
 * memoryProbe.ts). Before the streaming reader, each of these unpacked or read the whole
 * gigabyte first.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'studio-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LIMIT = 200 * 2 ** 20;

const CASES: [string, { code: string; message: string }][] = [
  ['weights-honest', { code: 'adapter', message: 'The adapter zip\'s adapter_model.safetensors unpacks to 1.0 GiB, more than the 20.9 MiB an adapter for this model can hold.' }],
  ['weights-lying', {
    code: 'adapter',
    message: 'The adapter zip\'s adapter_model.safetensors is 20.9 MiB in the archive\'s directory, but its own header describes 851 bytes; the archive is damaged or was not written by the studio or PEFT.',
  }],
  ['weights-huge-header', { code: 'adapter', message: 'The adapter zip\'s adapter_model.safetensors unpacks to 1.0 GiB, more than the 20.9 MiB an adapter for this model can hold.' }],
  ['readme-lying', {
    code: 'adapter',
    message: 'The adapter zip\'s README.md unpacks to more than the 16.0 MiB its directory declares; the archive is damaged or crafted to exhaust memory, so it was not unpacked further.',
  }],
  ['checkpoint-lying', {
    code: 'adapter',
    message: 'The adapter zip\'s checkpoint.safetensors unpacks to more than the 73.2 MiB its directory declares; the archive is damaged or crafted to exhaust memory, so it was not unpacked further.',
  }],
  ['cli-resume-zip', {
    code: 'cli',
    message: `${path.join(dir, 'bomb.zip')}'s checkpoint.safetensors unpacks to more than the 73.2 MiB its directory declares; the archive is damaged or crafted to exhaust memory, so it was not unpacked further.`,
  }],
  ['cli-adapter-zip', {
    code: 'adapter',
    message: 'The adapter zip\'s adapter_model.safetensors is 20.9 MiB in the archive\'s directory, but its own header describes 851 bytes; the archive is damaged or was not written by the studio or PEFT.',
  }],
  ['cli-data-zeros', { code: 'csv', message: `${path.join(dir, 'zeros.csv')}: This file looks binary (it contains NUL bytes), not a CSV. A CSV file is plain text.` }],
];

describe('refusing a file that would unpack or read to gigabytes stays under 200 MB', () => {
  for (const [kind, error] of CASES) {
    it(kind, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'tests', 'bad-inputs', 'memoryProbe.ts'), kind, dir], { cwd: repoRoot });
      const result = JSON.parse(stdout) as { rssBefore: number; peakRss: number; error: unknown };
      expect(result.error).toEqual(error);
      const grew = result.peakRss - result.rssBefore;
      expect(grew, `${kind}: resident memory grew by ${(grew / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(LIMIT);
    });
  }
});
