/**
 * The fingerprint of a loaded model. A soft prompt is only meaningful for the exact frozen
 * weights it was trained against, so the fingerprint covers the config, every tensor's
 * name, dtype and shape, and a spread sample of every tensor's bytes: a different
 * checkpoint, a fine-tune or a re-quantization all change it, while hashing a few hundred
 * KB keeps it instant even for large models.
 */
import { Sha256, type ModelFingerprint } from '../formats/fingerprint';
import type { SafetensorsDtype } from '../formats/safetensors';
import type { ModelConfig } from './config';

/** The tensors of a loaded model; `WeightStore` has this shape. */
export interface WeightsSummary {
  readonly names: readonly string[];
  stored(name: string): { dtype: SafetensorsDtype; shape: number[]; bytes: Uint8Array };
}

/** Tensors up to this size are hashed whole; larger ones through SAMPLE_WINDOWS spread windows. */
const WHOLE_TENSOR_BYTES = 4096;
const SAMPLE_WINDOWS = 64;
const WINDOW_BYTES = 64;

/** JSON with object keys sorted, so the same config always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The fields that define the network. Named one by one (not `raw`) so that cosmetic
 * config.json keys (`_name_or_path`, `transformers_version`, ...) do not change it.
 */
function canonicalConfig(c: ModelConfig): Record<string, unknown> {
  return {
    modelType: c.modelType,
    architecture: c.architecture,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numKeyValueHeads: c.numKeyValueHeads,
    headDim: c.headDim,
    intermediateSize: c.intermediateSize,
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositions,
    normEps: c.normEps,
    ropeTheta: c.ropeTheta,
    ropeScaling: c.ropeScaling,
    tieWordEmbeddings: c.tieWordEmbeddings,
    attentionBias: c.attentionBias,
    hiddenAct: c.hiddenAct,
    bosTokenId: c.bosTokenId,
    eosTokenIds: c.eosTokenIds,
    quantization: c.quantization,
  };
}

/**
 * `name` is how the label calls the model (its hub id or folder name); without it the
 * label uses the architecture.
 */
export function modelFingerprint(config: ModelConfig, weights: WeightsSummary, name?: string): ModelFingerprint {
  const hash = new Sha256();
  hash.update(`prompt-tuning-studio model fingerprint v1\n${canonicalJson(canonicalConfig(config))}\n`);
  const names = [...weights.names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const dtypes = new Set<string>();
  for (const tensorName of names) {
    const { dtype, shape, bytes } = weights.stored(tensorName);
    dtypes.add(dtype);
    hash.update(`${JSON.stringify(tensorName)} ${dtype} [${shape.join(',')}] ${bytes.byteLength}\n`);
    if (bytes.byteLength <= WHOLE_TENSOR_BYTES) {
      hash.update(bytes);
    } else {
      const last = bytes.byteLength - WINDOW_BYTES;
      for (let i = 0; i < SAMPLE_WINDOWS; i++) {
        const at = Math.round((i * last) / (SAMPLE_WINDOWS - 1));
        hash.update(bytes.subarray(at, at + WINDOW_BYTES));
      }
    }
  }
  const label = `${name ?? config.architecture} (${config.modelType}, ${config.numLayers} layers, d=${config.hiddenSize}, ${[...dtypes].sort().join('+')} weights)`;
  return { sha256: hash.digestHex(), label };
}
