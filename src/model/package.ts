/**
 * A model package is a folder in Hugging Face layout: config.json, tokenizer.json
 * (+ tokenizer_config.json), model.safetensors or shards listed in
 * model.safetensors.index.json. The studio's own packages are the same, with int8
 * weights and a `quantization_config` block. Where the folder lives (a URL, the hub, a
 * local folder, files the user dropped) is a ModelSource.
 */
import { StudioError } from '../errors';
import { elementCount, safetensorsLayout, safetensorsTensorBytes, writeSafetensors, type TensorEntry, type TensorToWrite } from '../formats/safetensors';
import { parseModelConfig, type ModelConfig } from './config';
import { isBuffer, quantizedPackage, quantizeOnLoad, quantizeWeight, quantizeWhileStreaming, isQuantizable, STUDIO_INT8 } from './quantizeOnLoad';
import { WeightStore, type FloatTensor } from './weights';

export { isBuffer, isQuantizable, quantizeOnLoad, STUDIO_INT8 };

/** Bytes of `file` read so far; `fromCache` where they come from the browser's cache (a second pass over a file just downloaded into it, or a later load). */
export type ProgressCallback = (progress: { file: string; loaded: number; total: number | null; fromCache?: boolean }) => void;

export interface ModelSource {
  /** Where the model comes from, in words (a folder, URL or hub id). */
  readonly description: string;
  /** The hub repo id when the model came from the Hugging Face hub. */
  readonly hubId?: string;
  /** What to call the model when its config.json has no _name_or_path (a dropped folder's name). */
  readonly name?: string;
  has(file: string): Promise<boolean>;
  read(file: string, onProgress?: ProgressCallback): Promise<Uint8Array>;
  /**
   * The file's bytes in chunks as they are read, for sources that can (a folder, dropped
   * files): what lets a float checkpoint be quantized without ever being held whole.
   * Each chunk is the consumer's to keep.
   */
  stream?(file: string, onProgress?: ProgressCallback): AsyncIterable<Uint8Array>;
}

export interface LoadOptions {
  /** May refuse the model from its config.json (it will not fit, say) before any weight is read. */
  checkConfig?: (config: ModelConfig) => void;
  /** Float weights become the studio's int8 package (quantizeOnLoad), streamed where the source can. */
  quantize?: boolean;
}

export interface ModelPackage {
  source: string;
  hubId?: string;
  /** The source's name for the model (see ModelSource.name). */
  name?: string;
  config: ModelConfig;
  tokenizerJson: object;
  tokenizerConfig: object | undefined;
  weights: WeightStore;
}

function parseJson(bytes: Uint8Array, file: string, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new StudioError('model', `${file} from ${source} is not valid JSON.`, 'Check that the file is complete and is the right one.');
  }
}

export async function loadModelPackage(source: ModelSource, onProgress?: ProgressCallback, options: LoadOptions = {}): Promise<ModelPackage> {
  if (!(await source.has('config.json'))) {
    throw new StudioError('model', `No config.json in ${source.description}.`,
      'A model folder needs config.json, tokenizer.json and model.safetensors (Hugging Face layout).');
  }
  const config = parseModelConfig(parseJson(await source.read('config.json'), 'config.json', source.description));
  options.checkConfig?.(config);
  if (!(await source.has('tokenizer.json'))) {
    throw new StudioError('tokenizer', `No tokenizer.json in ${source.description}.`,
      'The studio needs the fast-tokenizer file tokenizer.json beside config.json.');
  }
  const tokenizerJson = parseJson(await source.read('tokenizer.json'), 'tokenizer.json', source.description);
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
    throw new StudioError('tokenizer', `tokenizer.json from ${source.description} has no "model" section; it is not a Hugging Face tokenizer file.`);
  }
  const tokenizerConfig = (await source.has('tokenizer_config.json'))
    ? (parseJson(await source.read('tokenizer_config.json'), 'tokenizer_config.json', source.description) as object)
    : undefined;

  let shardNames: string[];
  if (await source.has('model.safetensors')) {
    shardNames = ['model.safetensors'];
  } else if (await source.has('model.safetensors.index.json')) {
    const index = parseJson(await source.read('model.safetensors.index.json'), 'model.safetensors.index.json', source.description) as {
      weight_map?: Record<string, string>;
    };
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new StudioError('model', 'model.safetensors.index.json has no "weight_map".');
    }
    shardNames = [...new Set(Object.values(index.weight_map))].sort();
  } else {
    throw new StudioError('model', `No model.safetensors (or model.safetensors.index.json) in ${source.description}.`,
      'The studio reads safetensors weights; convert .bin/.pt checkpoints with transformers\' save_pretrained(safe_serialization=True).');
  }
  const described = {
    source: source.description, hubId: source.hubId, ...(source.name ? { name: source.name } : {}), config, tokenizerJson: tokenizerJson as object, tokenizerConfig,
  };
  if (options.quantize && !config.quantization && source.stream) {
    const shards = [];
    for (const name of shardNames) shards.push(await quantizeWhileStreaming(source.stream(name, onProgress), name, config.modelType));
    return quantizedPackage(described, shards);
  }
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (const name of shardNames) files.push({ name, bytes: await source.read(name, onProgress) });
  const pkg = { ...described, weights: WeightStore.fromFiles(files, config.quantization) };
  return options.quantize ? quantizeOnLoad(pkg) : pkg;
}

/** config.json of a package the studio writes: float32 apart from its own int8 block, where `quantize`. */
function packageConfigJson(rawConfig: Record<string, unknown>, quantize: boolean): string {
  const config: Record<string, unknown> = { ...rawConfig, torch_dtype: 'float32' };
  delete config.quantization_config;
  if (quantize) config.quantization_config = STUDIO_INT8;
  return configJson(config);
}

function configJson(config: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify(sorted, null, 2) + '\n';
}

/**
 * Writes a model as a studio package: config.json and model.safetensors, int8 with
 * per-output-channel scales for every weight matrix when `quantize`, float32 otherwise.
 */
export function writeStudioPackage(
  rawConfig: Record<string, unknown>,
  tensors: Map<string, FloatTensor>,
  quantize: boolean,
): { configJson: string; safetensors: Uint8Array } {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of tensors) {
    if (quantize && isQuantizable(name, t.shape)) {
      const q = quantizeWeight(rawConfig.model_type, name, t);
      out[name] = { dtype: 'I8', shape: t.shape, data: q.values };
      out[name + STUDIO_INT8.scale_suffix] = { dtype: 'F32', shape: q.scaleShape, data: q.scales };
    } else {
      out[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    }
  }
  return {
    configJson: packageConfigJson(rawConfig, quantize),
    safetensors: writeSafetensors(out, { format: 'pt' }),
  };
}

/**
 * A loaded package as files in Hugging Face layout (what `cli convert` writes):
 * config.json, model.safetensors, tokenizer.json and, when there was one, tokenizer_config.json.
 */
export function saveStudioPackage(pkg: ModelPackage): Map<string, Uint8Array> {
  const out: Record<string, TensorToWrite> = {};
  for (const name of pkg.weights.names) {
    const t = pkg.weights.stored(name);
    out[name] = { dtype: t.dtype, shape: t.shape, data: t.bytes };
  }
  const config: Record<string, unknown> = { ...pkg.config.raw };
  if (config._name_or_path === undefined && pkg.hubId) config._name_or_path = pkg.hubId;
  const text = (s: string) => new TextEncoder().encode(s);
  const files = new Map<string, Uint8Array>([
    ['config.json', text(configJson(config))],
    ['model.safetensors', writeSafetensors(out, { format: 'pt' })],
    ['tokenizer.json', text(JSON.stringify(pkg.tokenizerJson) + '\n')],
  ]);
  if (pkg.tokenizerConfig) files.set('tokenizer_config.json', text(JSON.stringify(pkg.tokenizerConfig, null, 2) + '\n'));
  return files;
}

/**
 * A loaded package as a float32 checkpoint in Hugging Face layout, what transformers'
 * `AutoModelForCausalLM.from_pretrained` loads: config.json without the quantization block,
 * model.safetensors with every int8 weight dequantized (the very numbers the studio computes
 * with, widened to float32) and the rest as float32, scales and buffers left out, and the
 * tokenizer files as they came. The weights file comes as its header and then one tensor at
 * a time, each dequantized as it is asked for: only one tensor is ever widened, where the
 * whole file is four times the int8 weights (about 2 GB for a 0.5B model).
 */
export interface FloatPackageFiles {
  files: Map<string, Uint8Array>;
  weights: FloatWeightsFile;
}

export interface FloatWeightsFile {
  name: string;
  byteLength: number;
  chunks(): Generator<Uint8Array>;
}

/** The float32 weights file alone: its size comes from the shapes, before any tensor is read. */
export function floatWeightsFile(pkg: ModelPackage): FloatWeightsFile {
  const suffix = pkg.config.quantization?.scale_suffix;
  const names = pkg.weights.names.filter((name) => !isBuffer(name)
    && !(suffix && name.endsWith(suffix) && pkg.weights.has(name.slice(0, -suffix.length)) && pkg.weights.isQuantized(name.slice(0, -suffix.length))));
  const layout = safetensorsLayout(Object.fromEntries(names.map((name) => [name, { dtype: 'F32' as const, shape: pkg.weights.shape(name) }])), { format: 'pt' });
  return {
    name: 'model.safetensors',
    byteLength: layout.byteLength,
    *chunks() {
      yield layout.header;
      for (const { name } of layout.tensors) {
        const t = pkg.weights.float(name);
        yield safetensorsTensorBytes(name, { dtype: 'F32', shape: t.shape, data: t.data });
      }
    },
  };
}

export function floatPackageFiles(pkg: ModelPackage): FloatPackageFiles {
  const text = (s: string) => new TextEncoder().encode(s);
  const files = new Map<string, Uint8Array>([
    ['config.json', text(packageConfigJson(pkg.config.raw, false))],
    ['tokenizer.json', text(JSON.stringify(pkg.tokenizerJson) + '\n')],
  ]);
  if (pkg.tokenizerConfig) files.set('tokenizer_config.json', text(JSON.stringify(pkg.tokenizerConfig, null, 2) + '\n'));
  return { files, weights: floatWeightsFile(pkg) };
}

// ---- will it fit the GPU --------------------------------------------------------------

/** The WebGPU limits that bound one tensor (each tfjs tensor is one GPU buffer). */
export interface BufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Token embedding tables: on the GPU as float32 even in an int8 model (prompt init and projection read every row). */
const EMBEDDING_TABLE = /(^|\.)(embed_tokens|wte)\.weight$/;

/**
 * Refuses, before any upload, a model with a tensor that no buffer on this adapter can
 * hold: WebGPU would fail it with a validation error (or a lost device), not a message.
 * Sizes are what build.ts uploads: float32 for float weights; with `int8Packed` (WebGPU),
 * int8 matrices packed four to a word, except the embedding table, which also gets a
 * float32 copy. (The total is reported, not checked: WebGPU does not say how much memory
 * the device has.)
 */
export function checkAdapterLimits(pkg: ModelPackage, limits: BufferLimits, options: { int8Packed?: boolean } = {}): void {
  const bindingIsSmaller = limits.maxStorageBufferBindingSize <= limits.maxBufferSize;
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const limitName = bindingIsSmaller ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const scaleSuffix = pkg.config.quantization?.scale_suffix;
  let largest: { name: string; bytes: number; form: string } | null = null;
  let total = 0;
  for (const name of pkg.weights.names) {
    if (isBuffer(name)) continue;
    const isScale = scaleSuffix !== undefined && name.endsWith(scaleSuffix);
    if (isScale && !options.int8Packed) continue; // folded into the dequantized weight
    const shape = pkg.weights.shape(name);
    let bytes = elementCount(shape) * 4;
    let form = `[${shape.join(', ')}], float32`;
    if (options.int8Packed && !isScale && pkg.weights.isQuantized(name) && !EMBEDDING_TABLE.test(name)) {
      const perColumn = pkg.weights.has(name + scaleSuffix) && pkg.weights.shape(name + scaleSuffix).length === 2;
      const [rows, cols] = perColumn ? [shape[1], shape[0]] : shape;
      bytes = rows * Math.ceil(cols / 4) * 4;
      form = `[${shape.join(', ')}], int8`;
    }
    total += bytes;
    if (!largest || bytes > largest.bytes) largest = { name, bytes, form };
  }
  if (largest && largest.bytes > limit) {
    throw new StudioError('model',
      `The model is too large for this GPU: its tensor "${largest.name}" (${largest.form}) needs ${formatBytes(largest.bytes)}, `
      + `over the adapter's ${formatBytes(limit)} limit for one buffer (${limitName}); the whole model needs ${formatBytes(total)}.`,
      'Choose a smaller model, or the wasm backend, which has no such limit.');
  }
}
