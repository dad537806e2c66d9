/**
 * One refusal in a process of its own, for memory.test.ts: builds the bad file, measures
 * the resident memory just before, has the studio refuse it, and prints the peak resident
 * memory reached meanwhile (getrusage's maxrss, a high-water mark the refusal cannot hide
 * from) with the error, as one JSON line. Run: node --import tsx memoryProbe.ts CASE DIR
 */
import { closeSync, openSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { locateAdapter, locateCheckpoint, readAdapter, readCheckpointFile, readDataFile } from '../../src/cli/files';
import { bundleLimits } from '../../src/engine/runFiles';
import { isStudioError } from '../../src/errors';
import { readAdapterBundle } from '../../src/formats/bundle';
import { rawZip, stored, zeros } from './bombs';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** The default model's dimensions (stories260K): what the limits are derived from. */
const STORIES = { hiddenSize: 64, numLayers: 5, numHeads: 8, numKeyValueHeads: 4, headDim: 8 };
const utf8 = (s: string) => new TextEncoder().encode(s);
const config = stored('adapter_config.json', utf8('{"peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM"}'));

function header(rows: number): Uint8Array {
  const json = utf8(JSON.stringify({ prompt_embeddings: { dtype: 'F32', shape: [rows, 64], data_offsets: [0, rows * 256] } }));
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const [kind, dir] = process.argv.slice(2);
const limits = bundleLimits(STORIES);
const zipFile = path.join(dir, 'bomb.zip');

/** Each case: build its file (not measured), then the refusal (measured). */
const cases: Record<string, () => () => unknown> = {
  // Unpacks to 1 GiB, and its directory says so.
  'weights-honest': () => {
    const zip = rawZip([config, zeros('adapter_model.safetensors', header(3), GiB)]);
    return () => readAdapterBundle(zip, limits);
  },
  // Its directory claims just under the limit; the header inside says 3 rows; the stream holds 1 GiB.
  'weights-lying': () => {
    const zip = rawZip([config, zeros('adapter_model.safetensors', header(3), GiB, limits.weights - 1)]);
    return () => readAdapterBundle(zip, limits);
  },
  // A header that itself claims 1 GiB of prompt, directory size matching: refused from the header.
  'weights-huge-header': () => {
    const rows = Math.floor(GiB / 256);
    const h = header(rows);
    const zip = rawZip([config, zeros('adapter_model.safetensors', h, rows * 256, h.length + rows * 256)]);
    return () => readAdapterBundle(zip, limits);
  },
  'readme-lying': () => {
    const zip = rawZip([config, zeros('README.md', utf8('# card\n'), GiB, 16 * MiB - 1)]);
    return () => readAdapterBundle(zip, limits);
  },
  // The checkpoint is opaque in an adapter: only its size bounds it, up to the checkpoint limit.
  'checkpoint-lying': () => {
    const zip = rawZip([config, zeros('checkpoint.safetensors', new Uint8Array(0), GiB, limits.checkpoint - 1)]);
    return () => readAdapterBundle(zip, limits);
  },
  // The CLI: --resume with that zip, read from disk.
  'cli-resume-zip': () => {
    writeFileSync(zipFile, rawZip([config, zeros('checkpoint.safetensors', new Uint8Array(0), GiB, limits.checkpoint - 1)]));
    return () => readCheckpointFile(locateCheckpoint(zipFile), limits);
  },
  // The CLI: an adapter zip read from disk, then unpacked as the engine does.
  'cli-adapter-zip': () => {
    writeFileSync(zipFile, rawZip([config, zeros('adapter_model.safetensors', header(3), GiB, limits.weights - 1)]));
    return () => readAdapterBundle(readAdapter(locateAdapter(zipFile, 'import'), limits).zip!, limits);
  },
  // The CLI: --data, 1.9 GB of NUL bytes (a sparse file: nothing is written to disk).
  'cli-data-zeros': () => {
    const file = path.join(dir, 'zeros.csv');
    closeSync(openSync(file, 'w'));
    truncateSync(file, 1_900_000_000);
    return () => readDataFile(file, 'train');
  },
};

const refuse = cases[kind]();
const rssBefore = process.memoryUsage().rss;
let error: { code: string; message: string } | null = null;
try {
  refuse();
} catch (e) {
  error = isStudioError(e) ? { code: e.code, message: e.message } : { code: 'internal', message: String(e) };
}
const peakRss = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ kind, rssBefore, peakRss, error })}\n`);
