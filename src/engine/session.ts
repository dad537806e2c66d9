/**
 * A loaded model ready to use: its package, tfjs model and tokenizer, with the facts a
 * user wants to see about it. The worker and the CLI both drive the engine through this.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import type { ModelFingerprint } from '../formats/fingerprint';
import { modelFingerprint } from '../model/fingerprint';
import { buildModel } from '../model/build';
import { countParameters, type ModelConfig } from '../model/config';
import { generate, type GenerateOptions } from '../model/generate';
import { checkAdapterLimits, loadModelPackage, type LoadOptions, type ModelPackage, type ModelSource, type ProgressCallback } from '../model/package';
import type { CausalLM } from '../model/types';
import { TextTokenizer } from '../tokenizer/tokenizer';
import type { BackendChoice } from './backend';
import type { SuggestedSettings } from './memoryBudget';

export interface ModelFacts {
  name: string;
  source: string;
  hubId: string | null;
  architecture: string;
  modelType: string;
  parameters: number;
  layers: number;
  hiddenSize: number;
  heads: number;
  kvHeads: number;
  vocabSize: number;
  maxPositions: number;
  /** How the checkpoint stores weight matrices. */
  quantization: string;
  /** Checkpoint bytes per safetensors dtype. */
  fileBytesByDtype: Record<string, number>;
  /** Bytes the model's tensors hold on the backend, by tfjs dtype. */
  backendBytesByDtype: Record<string, number>;
  backendBytes: number;
  backend: string;
  backendReason: string;
  adapter: BackendChoice['adapter'];
  /** For a model past the default's size: the batch and max length it trains well at here (the engine fills it in). */
  suggestedSettings: SuggestedSettings | null;
}

export interface GenerateResult {
  promptIds: number[];
  generatedIds: number[];
  text: string;
}

export class ModelSession {
  private constructor(
    readonly pkg: ModelPackage,
    readonly model: CausalLM,
    readonly tokenizer: TextTokenizer,
    readonly backend: BackendChoice,
  ) {}

  /**
   * `quantize`: a float checkpoint becomes the studio's int8 package on load (what the
   * studio and the CLI run), as it streams in where the source can; without it, float
   * weights stay float (the f32 reference). `checkConfig` may refuse the model from its
   * config.json alone, before any weight is read.
   */
  static async open(
    source: ModelSource, backend: BackendChoice, onProgress?: ProgressCallback, options: LoadOptions = {},
  ): Promise<ModelSession> {
    return ModelSession.fromPackage(await loadModelPackage(source, onProgress, options), backend);
  }

  /** A session over an already-read package: also how a model is rebuilt on a new backend. */
  static fromPackage(pkg: ModelPackage, backend: BackendChoice): ModelSession {
    // On WebGPU, build.ts keeps int8 weights packed (QuantLinear); the check counts them so.
    if (backend.backend === 'webgpu' && backend.adapter) checkAdapterLimits(pkg, backend.adapter, { int8Packed: true });
    const tokenizer = TextTokenizer.fromJson(pkg.tokenizerJson, pkg.tokenizerConfig);
    if (tokenizer.vocabSize > pkg.config.vocabSize) {
      throw new StudioError('tokenizer', `The tokenizer has ${tokenizer.vocabSize} tokens but the model only ${pkg.config.vocabSize}.`,
        'tokenizer.json and the weights come from different models.');
    }
    const model = buildModel(pkg);
    return new ModelSession(pkg, model, tokenizer, backend);
  }

  private cachedFingerprint: ModelFingerprint | null = null;

  /** Which exact weights these are: checkpoints and exported prompts carry it. */
  get fingerprint(): ModelFingerprint {
    this.cachedFingerprint ??= modelFingerprint(this.pkg.config, this.pkg.weights, this.name);
    return this.cachedFingerprint;
  }

  /** How an exported adapter names its base model: the hub id when it came from the hub. */
  get baseModelName(): string {
    return this.pkg.hubId ?? this.name;
  }

  get name(): string {
    const raw = this.pkg.config.raw;
    return String(raw._name_or_path ?? this.pkg.hubId ?? this.pkg.name ?? this.pkg.source);
  }

  facts(): ModelFacts {
    const cfg = this.pkg.config;
    const backendBytesByDtype: Record<string, number> = {};
    let backendBytes = 0;
    for (const t of this.model.weightTensors()) {
      const bytes = t.size * (t.dtype === 'complex64' ? 8 : 4);
      backendBytesByDtype[t.dtype] = (backendBytesByDtype[t.dtype] ?? 0) + bytes;
      backendBytes += bytes;
    }
    return {
      name: this.name,
      source: this.pkg.source,
      hubId: this.pkg.hubId ?? null,
      architecture: cfg.architecture,
      modelType: cfg.modelType,
      parameters: countParameters(cfg),
      layers: cfg.numLayers,
      hiddenSize: cfg.hiddenSize,
      heads: cfg.numHeads,
      kvHeads: cfg.numKeyValueHeads,
      vocabSize: cfg.vocabSize,
      maxPositions: cfg.maxPositions,
      quantization: cfg.quantization ? 'int8, symmetric, one scale per output channel' : 'none (float)',
      fileBytesByDtype: this.pkg.weights.bytesByDtype(),
      backendBytesByDtype,
      backendBytes,
      backend: tf.getBackend(),
      backendReason: this.backend.reason,
      adapter: this.backend.adapter,
      suggestedSettings: null,
    };
  }

  /** Token ids of a prompt as the model sees it: BOS (when the model has one) then the text. */
  promptIds(text: string): number[] {
    return this.tokenizer.encode(text, { addBos: true });
  }

  async generate(prompt: string, opts: GenerateOptions): Promise<GenerateResult> {
    const promptIds = this.promptIds(prompt);
    const generatedIds = await generate(this.model, promptIds, opts);
    const text = this.tokenizer.decode([...promptIds, ...generatedIds], { skipSpecialTokens: true });
    return { promptIds, generatedIds, text };
  }

  dispose(): void {
    this.model.dispose();
  }
}
