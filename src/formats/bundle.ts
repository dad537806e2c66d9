/**
 * The downloadable adapter: one zip holding what PEFT's save_pretrained would write
 * (adapter_model.safetensors, adapter_config.json, README.md) plus studio.json with what
 * PEFT has no place for (template, verbalizer, labels, metrics, training settings, the
 * model's fingerprint). Unzipped, it is a folder `PeftModel.from_pretrained` loads as is.
 *
 * Reading takes the zip, or the files of a folder (from Python PEFT or from the studio);
 * studio.json is optional there.
 */
import { strFromU8, strToU8, zipSync, type Zippable } from 'fflate';
import { StudioError } from '../errors';
import type { ModelFingerprint } from './fingerprint';
import { outlineSafetensors, safetensorsHeaderBytes } from './safetensors';
import { isZip, readZipDirectory, readZipEntry, type EntryBudget, type ZipContext } from './zip';
import {
  ADAPTER_CONFIG_FILE, ADAPTER_PICKLE_FILE, ADAPTER_WEIGHTS_FILE, adapterRoot, adapterRootFiles, buildAdapterConfig, readPeftAdapter,
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
  /** Multitask: each task's labels, in task-id order (a task's text is classified among its own labels). */
  taskLabels?: string[][];
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
  studio: UncheckedStudioFile | null;
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
    taskLabels: studio.taskLabels,
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

/** Files we open from an archive; anything else (a whole model someone zipped along) is skipped. */
const WANTED = new Set([ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, ADAPTER_PICKLE_FILE, STUDIO_FILE, README_FILE, CHECKPOINT_FILE]);

/** How much an adapter's files may unpack to (the engine derives these from the model's dimensions). */
export interface BundleLimits {
  /** adapter_model.safetensors, in bytes. */
  weights: number;
  /** checkpoint.safetensors, in bytes. */
  checkpoint: number;
  /** What the limits are, to end a sentence: "an adapter for this model can hold". */
  why: string;
}

const MiB = 2 ** 20;
/** Without a model to size them by: more than any prompt adapter of a model the studio can run. */
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = { weights: 256 * MiB, checkpoint: 256 * MiB, why: 'an adapter can hold' };
/** adapter_config.json, studio.json, README.md: text a few kilobytes long. */
const TEXT_LIMIT = 16 * MiB;

const ZIP_CONTEXT: ZipContext = {
  label: 'The adapter zip',
  code: 'adapter',
  damaged: { message: 'The adapter file is not a readable zip archive: it is damaged or incomplete.', hint: 'Download the adapter again, or unzip it yourself and load the folder.' },
};

/** A safetensors entry's budget narrows to what its header describes, checked as soon as the header is in. */
function safetensorsBudget(name: string, limit: number, why: string): EntryBudget {
  return {
    limit,
    why,
    header: {
      need: safetensorsHeaderBytes,
      check: (prefix) => {
        try {
          return outlineSafetensors(prefix, name).fileBytes;
        } catch (e) {
          if (e instanceof StudioError) bundleError(e.message, e.hint);
          throw e;
        }
      },
    },
  };
}

/** The adapter's own files from a zip (the folder holding adapter_config.json), each unpacked within its budget. */
function unzip(bytes: Uint8Array, limits: BundleLimits): Map<string, Uint8Array> {
  const entries = readZipDirectory(bytes, ZIP_CONTEXT);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const files = new Map<string, Uint8Array>();
  for (const [rel, name] of adapterRoot(byName.keys())) {
    if (!WANTED.has(rel)) continue;
    const budget = rel === ADAPTER_WEIGHTS_FILE ? safetensorsBudget(rel, limits.weights, limits.why)
      // The checkpoint stays opaque until a run resumes from it (readCheckpoint checks it then): only its size is bounded here.
      : rel === CHECKPOINT_FILE ? { limit: limits.checkpoint, why: limits.why }
      : { limit: TEXT_LIMIT, why: `a ${rel} can reasonably hold` };
    files.set(rel, readZipEntry(bytes, byName.get(name)!, budget, ZIP_CONTEXT));
  }
  return files;
}

/** studio.json as read: its format and version checked, every other field still to be checked (engine/runFiles.ts). */
export type UncheckedStudioFile = { format: typeof STUDIO_FORMAT; version: number } & Record<string, unknown>;

function parseStudioFile(bytes: Uint8Array): UncheckedStudioFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strFromU8(bytes));
  } catch {
    bundleError(`${STUDIO_FILE} is not valid JSON.`, 'The file is damaged; the adapter itself may still load without it.');
  }
  const s = parsed as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s) || s.format !== STUDIO_FORMAT) {
    bundleError(`${STUDIO_FILE} is not a Prompt Tuning Studio file.`, 'Remove it to load the adapter on its own.');
  }
  if (typeof s.version !== 'number' || s.version > STUDIO_FORMAT_VERSION) {
    bundleError(`${STUDIO_FILE} has version ${JSON.stringify(s.version)?.slice(0, 40)}; this studio reads version ${STUDIO_FORMAT_VERSION}.`,
      'Update the studio, or remove studio.json to load the adapter on its own.');
  }
  return s as UncheckedStudioFile;
}

function notZip(): never {
  return bundleError('The adapter file is not a zip archive.',
    `Load the zip the studio exported, or the folder holding ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}.`);
}

/** The names of the adapter's own files (relative to its folder), read from a zip's directory or a folder's paths: nothing is unpacked. */
export function adapterFileNames(input: Uint8Array | ArrayBuffer | Map<string, Uint8Array>): string[] {
  if (input instanceof Map) return [...adapterRoot(input.keys()).keys()];
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (!isZip(bytes)) notZip();
  return [...adapterRoot(readZipDirectory(bytes, ZIP_CONTEXT).map((e) => e.name)).keys()];
}

/**
 * A downloaded zip, or a folder's files keyed by their paths (a dropped folder's
 * relative paths are fine: the folder holding adapter_config.json is the adapter).
 */
export function readAdapterBundle(input: Uint8Array | ArrayBuffer | Map<string, Uint8Array>, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): AdapterBundle {
  let files: Map<string, Uint8Array>;
  if (input instanceof Map) {
    files = input;
  } else {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    if (!isZip(bytes)) notZip();
    files = unzip(bytes, limits);
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
