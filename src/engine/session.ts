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
import type { StepSpeed } from './machineSpeed';
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
  /** For a model past the default's size on wasm or cpu: what the page estimates a step's time from before one has run (the engine fills it in). */
  stepSpeed: StepSpeed | null;
}

export interface GenerateResult {
  promptIds: number[];
  generatedIds: number[];
  text: string;
}

/** Reads the model's package again from where it came from (see ModelSession.hostPackage), with the bytes read so far. */
export type PackageReader = (onProgress?: ProgressCallback) => Promise<ModelPackage>;

export interface SessionOptions {
  /**
   * Keep the package's weight bytes in memory after the model is built. By default a
   * session opened from a source drops them (the backend holds its own copy) and reads the
   * source again for the rare work that needs them: exporting the base model, rebuilding
   * after a lost GPU device.
   */
  keepHostWeights?: boolean;
}

/** A package's name for the model: config.json's _name_or_path, else the hub id, the source's name or the source. */
export function modelName(pkg: ModelPackage): string {
  return String(pkg.config.raw._name_or_path ?? pkg.hubId ?? pkg.name ?? pkg.source);
}

export class ModelSession {
  private constructor(
    readonly pkg: ModelPackage,
    readonly model: CausalLM,
    readonly tokenizer: TextTokenizer,
    readonly backend: BackendChoice,
    private readonly reread: PackageReader | null,
  ) {}

  /**
   * `quantize`: a float checkpoint becomes the studio's int8 package on load (what the
   * studio and the CLI run), as it streams in where the source can; without it, float
   * weights stay float (the f32 reference). `checkConfig` may refuse the model from its
   * config.json alone, before any weight is read.
   */
  static async open(
    source: ModelSource, backend: BackendChoice, onProgress?: ProgressCallback, options: LoadOptions & SessionOptions = {},
  ): Promise<ModelSession> {
    const { keepHostWeights, ...loadOptions } = options;
    // Each file's size as read: a server that compresses or streams says no length, and a read
    // again (the base model's export) still shows how far it has come.
    const sizes = new Map<string, number>();
    const pkg = await loadModelPackage(source, (p) => {
      sizes.set(p.file, p.loaded);
      onProgress?.(p);
    }, loadOptions);
    return ModelSession.fromPackage(pkg, backend, keepHostWeights ? undefined : (progress) => loadModelPackage(source, progress && ((p) => {
      progress({ ...p, total: p.total ?? sizes.get(p.file) ?? null });
    }), loadOptions));
  }

  /**
   * A session over an already-read package. With `reread` (how to read it again), the
   * package's weight bytes are dropped once the model is built.
   */
  static fromPackage(pkg: ModelPackage, backend: BackendChoice, reread?: PackageReader): ModelSession {
    // On WebGPU, build.ts keeps int8 weights packed (QuantLinear); the check counts them so.
    if (backend.backend === 'webgpu' && backend.adapter) checkAdapterLimits(pkg, backend.adapter, { int8Packed: true });
    const tokenizer = TextTokenizer.fromJson(pkg.tokenizerJson, pkg.tokenizerConfig);
    if (tokenizer.vocabSize > pkg.config.vocabSize) {
      throw new StudioError('tokenizer', `The tokenizer has ${tokenizer.vocabSize} tokens but the model only ${pkg.config.vocabSize}.`,
        'tokenizer.json and the weights come from different models.');
    }
    const model = buildModel(pkg);
    const session = new ModelSession(pkg, model, tokenizer, backend, reread ?? null);
    if (reread) {
      // The fingerprint samples the bytes, so it is taken while they are here.
      void session.fingerprint;
      pkg.weights.release('the studio keeps only the backend\'s copy of a loaded model, and reads its source again when it needs the file\'s weights');
    }
    return session;
  }

  /** The same model on another backend (after a lost GPU device), from the source when the weights were dropped. */
  async rebuild(backend: BackendChoice): Promise<ModelSession> {
    return ModelSession.fromPackage(await this.hostPackage(), backend, this.reread ?? undefined);
  }

  /**
   * The package with its weight bytes: this session's when it kept them, else read again
   * from the source and checked to be the same weights (a file changed on disk since the
   * model loaded is refused, not silently used). `onProgress` follows that read (a URL not in
   * the browser's cache downloads again).
   */
  async hostPackage(onProgress?: ProgressCallback): Promise<ModelPackage> {
    if (!this.pkg.weights.released) return this.pkg;
    if (!this.reread) throw new StudioError('model', 'The model\'s weights are no longer in memory and there is no source to read them from.', 'Load the model again.');
    const pkg = await this.reread(onProgress);
    const now = modelFingerprint(pkg.config, pkg.weights, this.name);
    if (now.sha256 !== this.fingerprint.sha256) {
      throw new StudioError('model', `The model's files in ${this.pkg.source} changed since it was loaded: they are no longer the weights the studio holds.`,
        'Load the model again.');
    }
    return pkg;
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
    return modelName(this.pkg);
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
      stepSpeed: null,
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
