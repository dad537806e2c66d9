/**
 * The downloadable adapter: one zip holding what PEFT's save_pretrained would write
 * (adapter_model.safetensors, adapter_config.json, README.md) plus studio.json with what
 * PEFT has no place for (template, verbalizer, labels, metrics, training settings, the
 * model's fingerprint). Unzipped, it is a folder `PeftModel.from_pretrained` loads as is.
 *
 * Reading takes the zip, or the files of a folder (from Python PEFT or from the studio);
 * studio.json is optional there.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { StudioError } from '../errors';
import type { ModelFingerprint } from './fingerprint';
import {
  ADAPTER_CONFIG_FILE, ADAPTER_PICKLE_FILE, ADAPTER_WEIGHTS_FILE, adapterRootFiles, buildAdapterConfig, readPeftAdapter,
  serializeAdapterConfig, writeAdapterSafetensors, writeModelCard, type AdapterCommon, type PeftAdapter, type PeftExport,
} from './peft';

export const STUDIO_FILE = 'studio.json';
export const README_FILE = 'README.md';
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const STUDIO_FORMAT = 'prompt-tuning-studio/adapter';
export const STUDIO_FORMAT_VERSION = 1;

export interface StudioInfo {
  /** The studio's method name (tuning/methods); PEFT's own type is in adapter_config.json. */
  method: string;
  /** The template examples are shown through; `{text}` stands for the text. */
  template: string;
  /** Label → the text the model scores for it. */
  verbalizer: Record<string, string>;
  labels: string[];
  /** Multitask: task names in task-id order. */
  tasks?: string[];
  /** Opaque to this module. */
  metrics: unknown;
  trainingConfig: Record<string, unknown>;
  modelFingerprint: ModelFingerprint;
  /** ISO 8601. */
  createdAt: string;
}

/** studio.json as written: the info plus what identifies the file. */
export interface StudioFile extends StudioInfo {
  format: typeof STUDIO_FORMAT;
  version: number;
  baseModel: string;
}

export interface AdapterBundleInput {
  exported: PeftExport;
  common: AdapterCommon;
  studio: StudioInfo;
  /** Sentences the README adds, e.g. how to get float weights for a quantized model. */
  notes?: string[];
  /** A studio checkpoint to ship alongside, so the run can be resumed from the download. */
  checkpoint?: Uint8Array;
}

export interface AdapterBundle {
  adapter: PeftAdapter;
  /** Null for a plain PEFT adapter. */
  studio: StudioFile | null;
  readme: string | null;
  checkpoint: Uint8Array | null;
}

function bundleError(message: string, hint?: string): never {
  throw new StudioError('adapter', message, hint);
}

/** The bundle's files by name, for a zip or for writing a folder (the CLI). */
export function adapterBundleFiles(input: AdapterBundleInput): Map<string, Uint8Array> {
  const config = buildAdapterConfig(input.exported, input.common);
  const studio: StudioFile = {
    format: STUDIO_FORMAT,
    version: STUDIO_FORMAT_VERSION,
    baseModel: input.common.baseModel,
    ...input.studio,
  };
  const readme = writeModelCard({
    adapterConfig: config,
    template: studio.template,
    verbalizer: studio.verbalizer,
    labels: studio.labels,
    tasks: studio.tasks,
    metrics: studio.metrics,
    trainingConfig: studio.trainingConfig,
    notes: input.notes,
  });
  const files = new Map<string, Uint8Array>([
    [ADAPTER_CONFIG_FILE, strToU8(serializeAdapterConfig(config))],
    [ADAPTER_WEIGHTS_FILE, writeAdapterSafetensors(input.exported)],
    [STUDIO_FILE, strToU8(`${JSON.stringify(studio, null, 2)}\n`)],
    [README_FILE, strToU8(readme)],
  ]);
  if (input.checkpoint) files.set(CHECKPOINT_FILE, input.checkpoint);
  return files;
}

/** DOS timestamps start in 1980; anything earlier would be written as garbage. */
const ZIP_EPOCH = Date.UTC(1980, 0, 2);

export function writeAdapterZip(input: AdapterBundleInput): Uint8Array {
  // Entries dated by the run, not the clock, so the same export gives the same bytes.
  const created = Date.parse(input.studio.createdAt);
  const mtime = new Date(Number.isFinite(created) && created > ZIP_EPOCH ? created : ZIP_EPOCH);
  const zippable: Zippable = {};
  for (const [name, bytes] of adapterBundleFiles(input)) {
    // Float weights barely compress; storing them keeps the export fast.
    zippable[name] = [bytes, { level: name.endsWith('.safetensors') ? 0 : 6, mtime }];
  }
  return zipSync(zippable);
}

const isZip = (b: Uint8Array) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);

/** Files we open from an archive; anything else (a whole model someone zipped along) is skipped. */
const WANTED = new Set([ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, ADAPTER_PICKLE_FILE, STUDIO_FILE, README_FILE, CHECKPOINT_FILE]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Each entry's CRC-32 from the central directory. fflate does not check them, and the
 * weights are stored uncompressed, so without this a flipped bit would load silently.
 * Null when the directory is zip64 (never for an adapter), which is then left unchecked.
 */
function centralCrcs(zip: Uint8Array): Map<string, number> | null {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('no end of central directory');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff) return null;
  const crcs = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error('bad central directory entry');
    const nameLength = view.getUint16(at + 28, true);
    const name = strFromU8(zip.subarray(at + 46, at + 46 + nameLength));
    crcs.set(name, view.getUint32(at + 16, true));
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return crcs;
}

function unzip(bytes: Uint8Array): Map<string, Uint8Array> {
  try {
    const entries = unzipSync(bytes, { filter: (f) => WANTED.has(f.name.split('/').pop() ?? '') });
    const crcs = centralCrcs(bytes);
    for (const [name, data] of Object.entries(entries)) {
      if (crcs && crcs.get(name) !== crc32(data)) throw new Error(`CRC mismatch in ${name}`);
    }
    return new Map(Object.entries(entries));
  } catch {
    return bundleError('The adapter file is not a readable zip archive: it is damaged or incomplete.',
      'Download the adapter again, or unzip it yourself and load the folder.');
  }
}

function parseStudioFile(bytes: Uint8Array): StudioFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strFromU8(bytes));
  } catch {
    bundleError(`${STUDIO_FILE} is not valid JSON.`, 'The file is damaged; the adapter itself may still load without it.');
  }
  const s = parsed as Partial<StudioFile> | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s) || s.format !== STUDIO_FORMAT) {
    bundleError(`${STUDIO_FILE} is not a Prompt Tuning Studio file.`, 'Remove it to load the adapter on its own.');
  }
  if (typeof s.version !== 'number' || s.version > STUDIO_FORMAT_VERSION) {
    bundleError(`${STUDIO_FILE} has version ${JSON.stringify(s.version)}; this studio reads version ${STUDIO_FORMAT_VERSION}.`,
      'Update the studio, or remove studio.json to load the adapter on its own.');
  }
  return s as StudioFile;
}

/**
 * A downloaded zip, or a folder's files keyed by their paths (a dropped folder's
 * relative paths are fine: the folder holding adapter_config.json is the adapter).
 */
export function readAdapterBundle(input: Uint8Array | ArrayBuffer | Map<string, Uint8Array>): AdapterBundle {
  let files: Map<string, Uint8Array>;
  if (input instanceof Map) {
    files = input;
  } else {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    if (!isZip(bytes)) {
      bundleError('The adapter file is not a zip archive.',
        `Load the zip the studio exported, or the folder holding ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}.`);
    }
    files = unzip(bytes);
  }
  const adapter = readPeftAdapter(files);
  const root = adapterRootFiles(files);
  const studio = root.get(STUDIO_FILE);
  const readme = root.get(README_FILE);
  return {
    adapter,
    studio: studio ? parseStudioFile(studio) : null,
    readme: readme ? strFromU8(readme) : null,
    checkpoint: root.get(CHECKPOINT_FILE) ?? null,
  };
}
