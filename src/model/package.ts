/**
 * A model package is a folder in Hugging Face layout: config.json, tokenizer.json
 * (+ tokenizer_config.json), model.safetensors or shards listed in
 * model.safetensors.index.json. The studio's own packages are the same, with int8
 * weights and a `quantization_config` block. Where the folder lives (a URL, the hub, a
 * local folder, files the user dropped) is a ModelSource.
 */
import { StudioError } from '../errors';
import { writeSafetensors, type TensorToWrite } from '../formats/safetensors';
import { parseModelConfig, type ModelConfig, type StudioQuantization } from './config';
import { quantizeRows } from './quantize';
import { WeightStore, type FloatTensor } from './weights';

export type ProgressCallback = (progress: { file: string; loaded: number; total: number | null }) => void;

export interface ModelSource {
  /** Where the model comes from, in words (a folder, URL or hub id). */
  readonly description: string;
  /** The hub repo id when the model came from the Hugging Face hub. */
  readonly hubId?: string;
  has(file: string): Promise<boolean>;
  read(file: string, onProgress?: ProgressCallback): Promise<Uint8Array>;
}

export interface ModelPackage {
  source: string;
  hubId?: string;
  config: ModelConfig;
  tokenizerJson: object;
  tokenizerConfig: object | undefined;
  weights: WeightStore;
}

export const STUDIO_INT8: StudioQuantization = {
  quant_method: 'studio_int8', bits: 8, symmetric: true, granularity: 'per_output_channel', scale_suffix: '_scale',
};

function parseJson(bytes: Uint8Array, file: string, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new StudioError('model', `${file} from ${source} is not valid JSON.`, 'Check that the file is complete and is the right one.');
  }
}

export async function loadModelPackage(source: ModelSource, onProgress?: ProgressCallback): Promise<ModelPackage> {
  if (!(await source.has('config.json'))) {
    throw new StudioError('model', `No config.json in ${source.description}.`,
      'A model folder needs config.json, tokenizer.json and model.safetensors (Hugging Face layout).');
  }
  const config = parseModelConfig(parseJson(await source.read('config.json'), 'config.json', source.description));
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
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (const name of shardNames) files.push({ name, bytes: await source.read(name, onProgress) });
  const weights = WeightStore.fromFiles(files, config.quantization);
  return { source: source.description, hubId: source.hubId, config, tokenizerJson: tokenizerJson as object, tokenizerConfig, weights };
}

/** Whether a tensor is a weight matrix the studio stores in int8 (norms and biases stay float). */
export function isQuantizable(name: string, shape: number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight');
}

/**
 * Writes a model as a studio package: config.json and model.safetensors, int8 with
 * per-row scales for every weight matrix when `quantize`, float32 otherwise.
 */
export function writeStudioPackage(
  rawConfig: Record<string, unknown>,
  tensors: Map<string, FloatTensor>,
  quantize: boolean,
): { configJson: string; safetensors: Uint8Array } {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of tensors) {
    if (quantize && isQuantizable(name, t.shape)) {
      const [rows, cols] = t.shape;
      const q = quantizeRows(t.data, rows, cols);
      out[name] = { dtype: 'I8', shape: t.shape, data: q.values };
      out[name + STUDIO_INT8.scale_suffix] = { dtype: 'F32', shape: [rows], data: q.scales };
    } else {
      out[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    }
  }
  const config: Record<string, unknown> = { ...rawConfig, torch_dtype: 'float32' };
  delete config.quantization_config;
  if (quantize) config.quantization_config = STUDIO_INT8;
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    configJson: JSON.stringify(sorted, null, 2) + '\n',
    safetensors: writeSafetensors(out, { format: 'pt' }),
  };
}
