/**
 * Hugging Face PEFT's on-disk form of a prompt-learning adapter, written and read without
 * Python. What `PeftModel.save_pretrained` writes for these methods:
 *
 * - adapter_model.safetensors: `prompt_embeddings` in inference form (P-tuning's encoder
 *   output, prefix tuning's [P, L·2·token_dim] past keys/values), plus `prefix_task_cols`
 *   and `prefix_task_rows` for multitask; F32, header metadata {"format": "pt"}.
 * - adapter_config.json: `json.dumps(config.to_dict(), indent=2, sort_keys=True)` with no
 *   trailing newline, `to_dict()` being `dataclasses.asdict`, so every field of the config
 *   class is present, null or not. Python's json escapes every non-ASCII character and
 *   writes floats with `repr` (0.0, 1e-05), which serializeAdapterConfig reproduces.
 *
 * The field lists are those of PEFT 0.20 (PromptLearningConfig with `peft_version` and
 * `modules_to_save`). Older PEFT versions drop fields they do not know, with a warning.
 */
import { StudioError } from '../errors';
import { listSome } from './bytes';
import { compareCodePoints, countNonFinite, parseSafetensors, toFloat32, writeSafetensors, type SafetensorsFile } from './safetensors';

export type PeftType = 'PROMPT_TUNING' | 'P_TUNING' | 'PREFIX_TUNING' | 'MULTITASK_PROMPT_TUNING';

export interface ExportTensor {
  shape: number[];
  data: Float32Array;
}

/** What PEFT's save_pretrained writes for one method: its tensors and its config fields. */
export interface PeftExport {
  peftType: PeftType;
  tensors: Record<string, ExportTensor>;
  /** Method-specific adapter_config.json fields (the common ones are added by the exporter). */
  config: Record<string, unknown>;
}

/** The base model's dimensions an adapter config states and an adapter must fit (a ModelConfig has them). */
export interface ModelDims {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKeyValueHeads: number;
  headDim: number;
}

export const SUPPORTED_PEFT_TYPES: readonly PeftType[] = ['PROMPT_TUNING', 'P_TUNING', 'PREFIX_TUNING', 'MULTITASK_PROMPT_TUNING'];

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** What save_pretrained(safe_serialization=False) writes: a pickle we do not read. */
export const ADAPTER_PICKLE_FILE = 'adapter_model.bin';

export type InitKind = 'random' | 'vocab' | 'text' | 'labels';

export interface AdapterCommon {
  /** The hub id when the model came from the hub, else the model's name. */
  baseModel: string;
  model: ModelDims;
  numVirtualTokens: number;
  init: { kind: InitKind; text?: string };
  /** Defaults to baseModel: the tokenizer ships with the model. */
  tokenizerName?: string;
  revision?: string | null;
  /**
   * PEFT writes its own version here. We are not PEFT, so by default we leave it null,
   * which PEFT replaces with its version when it loads the config.
   */
  peftVersion?: string | null;
}

/** Fields every prompt-learning config has (PeftConfigMixin, PeftConfig, PromptLearningConfig). */
const COMMON_FIELDS = [
  'auto_mapping', 'base_model_name_or_path', 'inference_mode', 'modules_to_save', 'num_attention_heads', 'num_layers',
  'num_transformer_submodules', 'num_virtual_tokens', 'peft_type', 'peft_version', 'revision', 'task_type', 'token_dim',
] as const;

/** Fields of each method's config class beyond the common ones, and which the method's exportPeft may supply. */
const METHOD_FIELDS: Record<PeftType, readonly string[]> = {
  PROMPT_TUNING: ['prompt_tuning_init', 'prompt_tuning_init_text', 'tokenizer_kwargs', 'tokenizer_name_or_path'],
  P_TUNING: ['encoder_dropout', 'encoder_hidden_size', 'encoder_num_layers', 'encoder_reparameterization_type'],
  PREFIX_TUNING: ['encoder_hidden_size', 'init_weights', 'prefix_projection'],
  MULTITASK_PROMPT_TUNING: [
    'num_ranks', 'num_tasks', 'prompt_tuning_init', 'prompt_tuning_init_state_dict_path', 'prompt_tuning_init_task',
    'prompt_tuning_init_text', 'tokenizer_kwargs', 'tokenizer_name_or_path',
  ],
};

/** Fields the methods' exportPeft may set; the rest come from `common`. */
const METHOD_SUPPLIED = new Set([
  'encoder_dropout', 'encoder_hidden_size', 'encoder_num_layers', 'encoder_reparameterization_type',
  'prefix_projection', 'num_ranks', 'num_tasks', 'token_dim', 'num_attention_heads',
]);

/** Fields PEFT declares `float`: Python writes 0 there as 0.0. */
const FLOAT_FIELDS: ReadonlySet<string> = new Set(['encoder_dropout']);

/**
 * Our inits in PEFT's terms: what PEFT itself could reproduce. Text init is PEFT's TEXT
 * (with the same text); class-label and sampled-vocabulary inits have no PEFT counterpart
 * it could re-run (labels: each label's mean token embedding; vocab: the data's most
 * frequent tokens), so they are RANDOM, as random init is. studio.json keeps the exact
 * init either way; PEFT never re-runs the init of a saved adapter (it loads it in
 * inference mode).
 */
function promptTuningInit(kind: InitKind): 'TEXT' | 'RANDOM' {
  return kind === 'text' ? 'TEXT' : 'RANDOM';
}

/** The method-specific fields of a read adapter config, as an exportPeft would supply them. */
export function methodSuppliedFields(peftType: PeftType, config: Record<string, unknown>): Record<string, unknown> {
  const allowed = new Set([...METHOD_FIELDS[peftType], ...COMMON_FIELDS]);
  return Object.fromEntries(Object.entries(config).filter(([k, v]) => METHOD_SUPPLIED.has(k) && allowed.has(k) && v !== undefined));
}

/**
 * Every field PEFT's `to_dict()` writes for this method's config class, as
 * `save_pretrained` leaves it (inference_mode true, auto_mapping null for CAUSAL_LM).
 */
export function buildAdapterConfig(exported: PeftExport, common: AdapterCommon): Record<string, unknown> {
  const m = common.model;
  const supplied = exported.config;
  for (const key of Object.keys(supplied)) {
    if (!METHOD_SUPPLIED.has(key) || !(METHOD_FIELDS[exported.peftType].includes(key) || (COMMON_FIELDS as readonly string[]).includes(key))) {
      throw new Error(`exportPeft of ${exported.peftType} supplied "${key}", which is not a field PEFT's config has for it`);
    }
  }
  const prompt = exported.tensors.prompt_embeddings;
  if (!prompt) throw new Error(`exportPeft of ${exported.peftType} has no prompt_embeddings`);
  if (prompt.shape[0] !== common.numVirtualTokens) {
    throw new Error(`prompt_embeddings has ${prompt.shape[0]} rows for ${common.numVirtualTokens} virtual tokens`);
  }
  const tokenDim = (supplied.token_dim as number | undefined) ?? m.hiddenSize;
  const width = exported.peftType === 'PREFIX_TUNING' ? m.numLayers * 2 * tokenDim : tokenDim;
  if (prompt.shape.length !== 2 || prompt.shape[1] !== width) {
    throw new Error(`prompt_embeddings has shape [${prompt.shape.join(', ')}], not [${common.numVirtualTokens}, ${width}]`);
  }
  const tokenizer = common.tokenizerName ?? common.baseModel;
  const config: Record<string, unknown> = {
    auto_mapping: null,
    base_model_name_or_path: common.baseModel,
    inference_mode: true,
    modules_to_save: null,
    num_attention_heads: (supplied.num_attention_heads as number | undefined) ?? m.numHeads,
    num_layers: m.numLayers,
    num_transformer_submodules: 1,
    num_virtual_tokens: common.numVirtualTokens,
    peft_type: exported.peftType,
    peft_version: common.peftVersion ?? null,
    revision: common.revision ?? null,
    task_type: 'CAUSAL_LM',
    token_dim: tokenDim,
  };
  const textInit = common.init.kind === 'text';
  if (textInit && !common.init.text) throw new Error('text init without its text');
  const promptFields = {
    prompt_tuning_init: promptTuningInit(common.init.kind),
    prompt_tuning_init_text: textInit ? common.init.text : null,
    tokenizer_kwargs: null,
    // PromptTuningConfig refuses TEXT without a tokenizer; for the others it only documents.
    tokenizer_name_or_path: tokenizer,
  };
  // PEFT fills a missing encoder_hidden_size with token_dim; our settings use 0 for the same.
  const encoderHidden = (supplied.encoder_hidden_size as number | undefined) || tokenDim;
  switch (exported.peftType) {
    case 'PROMPT_TUNING':
      Object.assign(config, promptFields);
      break;
    case 'P_TUNING':
      Object.assign(config, {
        encoder_dropout: supplied.encoder_dropout ?? 0,
        encoder_hidden_size: encoderHidden,
        encoder_num_layers: supplied.encoder_num_layers ?? 2,
        encoder_reparameterization_type: supplied.encoder_reparameterization_type ?? 'MLP',
      });
      break;
    case 'PREFIX_TUNING':
      Object.assign(config, {
        encoder_hidden_size: encoderHidden,
        init_weights: null,
        prefix_projection: supplied.prefix_projection ?? false,
      });
      break;
    case 'MULTITASK_PROMPT_TUNING':
      Object.assign(config, promptFields, {
        num_ranks: supplied.num_ranks ?? 1,
        num_tasks: supplied.num_tasks ?? 1,
        prompt_tuning_init_state_dict_path: null,
        prompt_tuning_init_task: 0,
        // MultitaskPromptTuningConfig.__post_init__ skips the base class's, which is what
        // fills peft_version: PEFT itself writes null here.
        peft_version: null,
      });
      break;
  }
  return config;
}

/** Python's json string encoding with ensure_ascii=True (its default). */
function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    // Everything outside printable ASCII, one \u escape per UTF-16 unit (so surrogate pairs), lowercase hex.
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip (the same digits JS picks),
 * positional when the decimal point falls within -4 < decpt <= 16, else d.ddde±XX.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(Math.abs(x))) as RegExpExecArray;
  let digits = m[1] + (m[2] ?? '');
  let decpt = m[1].length + Number(m[3] ?? 0);
  const lead = (/^0*/.exec(digits) as RegExpExecArray)[0].length;
  digits = digits.slice(lead).replace(/0+$/, '');
  decpt -= lead;
  let s: string;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) s = `0.${'0'.repeat(-decpt)}${digits}`;
    else if (decpt >= digits.length) s = `${digits}${'0'.repeat(decpt - digits.length)}.0`;
    else s = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  } else {
    const e = decpt - 1;
    s = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return x < 0 ? `-${s}` : s;
}

/**
 * `json.dumps(value, indent=2, sort_keys=True)` byte for byte. JS numbers have no int/float
 * distinction, so a number is written as a Python float when it is not an integer or
 * when it sits under one of `floatKeys`.
 */
export function pythonJsonDumps(value: unknown, floatKeys: ReadonlySet<string> = FLOAT_FIELDS): string {
  const dump = (v: unknown, level: number, asFloat: boolean): string => {
    if (v === null) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return asFloat || !Number.isInteger(v) ? pyFloatRepr(v) : String(v);
    if (typeof v === 'string') return pyString(v);
    const inner = ' '.repeat(2 * (level + 1));
    const outer = ' '.repeat(2 * level);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => inner + dump(x, level + 1, asFloat)).join(',\n')}\n${outer}]`;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v as object).sort(compareCodePoints);
      if (keys.length === 0) return '{}';
      const items = keys.map((k) => `${inner}${pyString(k)}: ${dump((v as Record<string, unknown>)[k], level + 1, floatKeys.has(k))}`);
      return `{\n${items.join(',\n')}\n${outer}}`;
    }
    throw new Error(`cannot write ${typeof v} as JSON`);
  };
  return dump(value, 0, false);
}

/** adapter_config.json's text as PEFT writes it (sorted keys, indent 2, no trailing newline). */
export function serializeAdapterConfig(config: Record<string, unknown>): string {
  return pythonJsonDumps(config, FLOAT_FIELDS);
}

/** adapter_model.safetensors: every exported tensor as F32, metadata {"format": "pt"} as PEFT's safe_save_file. */
export function writeAdapterSafetensors(exported: PeftExport): Uint8Array {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(exported.tensors)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return writeSafetensors(tensors, { format: 'pt' });
}

// ---------------------------------------------------------------------------------------
// Reading

/** An adapter as read from disk, before it is checked against a model. */
export interface PeftAdapter {
  /** As written in adapter_config.json; may be a type the studio does not run (LORA). */
  peftType: string;
  config: Record<string, unknown>;
  /** Every floating-point tensor, widened to float32. */
  tensors: Record<string, ExportTensor>;
}

function adapterError(message: string, hint?: string): never {
  throw new StudioError('adapter', message, hint);
}

const IGNORED_PATH = /(^|\/)(__MACOSX\/|\._)/;

/**
 * Which of these paths make up the adapter: the folder holding adapter_config.json,
 * whatever folder a zip or a folder upload nested it in. Its files' names relative to that
 * folder → their paths as given. Works on names alone, so a zip is read only for these.
 */
export function adapterRoot(paths: Iterable<string>): Map<string, string> {
  const original = new Map<string, string>();
  for (const p of paths) {
    const clean = p.replace(/\\/g, '/').replace(/^\.?\//, '');
    if (!IGNORED_PATH.test(clean) && !clean.endsWith('/')) original.set(clean, p);
  }
  const configs = [...original.keys()].filter((p) => p === ADAPTER_CONFIG_FILE || p.endsWith(`/${ADAPTER_CONFIG_FILE}`));
  if (configs.length === 0) {
    adapterError(`The adapter has no ${ADAPTER_CONFIG_FILE}.`,
      `A PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}, as save_pretrained writes them.`);
  }
  const depth = (p: string) => p.split('/').length;
  configs.sort((a, b) => depth(a) - depth(b));
  if (configs.length > 1 && depth(configs[0]) === depth(configs[1])) {
    const side = configs.filter((c) => depth(c) === depth(configs[0])).map((c) => c.slice(0, -ADAPTER_CONFIG_FILE.length) || './');
    adapterError(`There are several adapters here (${listSome(side)}).`, 'Load one adapter folder at a time.');
  }
  const root = configs[0].slice(0, -ADAPTER_CONFIG_FILE.length);
  const out = new Map<string, string>();
  for (const [p, given] of original) {
    if (!p.startsWith(root)) continue;
    const rel = p.slice(root.length);
    if (!rel.includes('/')) out.set(rel, given);
  }
  return out;
}

/** An adapter folder's files by their names relative to the folder holding adapter_config.json. */
export function adapterRootFiles(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  return new Map([...adapterRoot(files.keys())].map(([rel, p]) => [rel, files.get(p) as Uint8Array]));
}

export function parseAdapterConfigText(bytes: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    adapterError(`${ADAPTER_CONFIG_FILE} is not valid JSON.`, 'The file is damaged or is not a PEFT adapter config.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) adapterError(`${ADAPTER_CONFIG_FILE} is not a JSON object.`);
  return parsed as Record<string, unknown>;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Reads adapter_config.json and adapter_model.safetensors, from Python PEFT or from the studio. */
export function readPeftAdapter(files: Map<string, Uint8Array>): PeftAdapter {
  const root = adapterRootFiles(files);
  const config = parseAdapterConfigText(root.get(ADAPTER_CONFIG_FILE) as Uint8Array);
  const peftType = config.peft_type;
  if (typeof peftType !== 'string' || peftType === '') adapterError(`${ADAPTER_CONFIG_FILE} has no "peft_type".`);
  const weights = root.get(ADAPTER_WEIGHTS_FILE);
  if (!weights) {
    if (root.has(ADAPTER_PICKLE_FILE)) {
      adapterError(`The adapter's weights are in ${ADAPTER_PICKLE_FILE} (a PyTorch pickle), which the studio does not read.`,
        `Save it again with save_pretrained(..., safe_serialization=True) to get ${ADAPTER_WEIGHTS_FILE}.`);
    }
    adapterError(`The adapter has no ${ADAPTER_WEIGHTS_FILE}.`,
      `A PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}, as save_pretrained writes them.`);
  }
  let file: SafetensorsFile;
  try {
    file = parseSafetensors(weights, ADAPTER_WEIGHTS_FILE);
  } catch (e) {
    // The same sentence, under the code the import path reports.
    if (e instanceof StudioError) adapterError(e.message, e.hint);
    throw e;
  }
  const tensors: Record<string, ExportTensor> = {};
  for (const [name, entry] of file.tensors) {
    if (!FLOAT_DTYPES.has(entry.dtype)) {
      adapterError(`${ADAPTER_WEIGHTS_FILE}: tensor "${name}" is ${entry.dtype}; adapter tensors must be floating point (F32, F16 or BF16).`);
    }
    tensors[name] = { shape: [...entry.shape], data: toFloat32(entry) };
  }
  return { peftType, config, tensors };
}

function positiveInt(config: Record<string, unknown>, key: string): number | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    adapterError(`${ADAPTER_CONFIG_FILE}: "${key}" must be a positive whole number, got ${JSON.stringify(v)}.`);
  }
  return v;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks that a read adapter is a prompt adapter this model can run, naming both sides of
 * any disagreement, and returns it in the form methodFromPeft takes. Fields PEFT would fill
 * from the model (a null token_dim, num_layers, ...) are taken from the model, as PEFT does.
 */
export function checkAdapterFits(adapter: PeftAdapter, model: ModelDims): PeftExport {
  const retrain = 'Load the model the adapter was trained for.';
  const type = adapter.peftType;
  if (!(SUPPORTED_PEFT_TYPES as readonly string[]).includes(type)) {
    adapterError(`This is a ${type} adapter; the studio loads prompt-learning adapters only: ${SUPPORTED_PEFT_TYPES.join(', ')}.`,
      'Adapters that change the model\'s weights (LoRA and the like) run in Python with PEFT.');
  }
  const peftType = type as PeftType;
  const c = adapter.config;
  if (c.task_type !== 'CAUSAL_LM') {
    adapterError(`The adapter's task_type is ${JSON.stringify(c.task_type ?? null)}, but the studio runs causal language models only (task_type "CAUSAL_LM").`,
      'Train the adapter with task_type="CAUSAL_LM".');
  }
  const prompt = adapter.tensors.prompt_embeddings;
  if (!prompt) {
    adapterError(`The ${peftType} adapter has no "prompt_embeddings" tensor.`,
      `${ADAPTER_WEIGHTS_FILE} is incomplete or belongs to another kind of adapter.`);
  }

  const prefix = peftType === 'PREFIX_TUNING';
  const kvDim = model.numKeyValueHeads * model.headDim;
  const modelDim = prefix ? kvDim : model.hiddenSize;
  const tokenDim = positiveInt(c, 'token_dim') ?? modelDim;
  if (tokenDim !== modelDim) {
    adapterError(prefix
      ? `The adapter's token_dim is ${tokenDim}, but this model's keys and values have ${kvDim} dimensions per layer (${model.numKeyValueHeads} key/value heads × head_dim ${model.headDim}).`
      : `The adapter's token_dim is ${tokenDim}, but this model's embeddings have ${model.hiddenSize} dimensions (hidden_size).`, retrain);
  }
  const numLayers = positiveInt(c, 'num_layers') ?? model.numLayers;
  if (numLayers !== model.numLayers) {
    adapterError(`The adapter was made for a model with ${numLayers} layers (num_layers), but this model has ${model.numLayers}.`, retrain);
  }
  if (prefix) {
    const heads = positiveInt(c, 'num_attention_heads') ?? model.numKeyValueHeads;
    if (heads !== model.numKeyValueHeads) {
      adapterError(`The prefix adapter has ${heads} attention heads (num_attention_heads), but this model has ${model.numKeyValueHeads} key/value heads.`, retrain);
    }
  }

  const submodules = positiveInt(c, 'num_transformer_submodules') ?? 1;
  const rows = (positiveInt(c, 'num_virtual_tokens') ?? prompt.shape[0] / submodules) * submodules;
  const expectShape = (name: string, t: ExportTensor, expected: number[]) => {
    if (!sameShape(t.shape, expected)) {
      adapterError(`The adapter's "${name}" has shape [${t.shape.join(', ')}], but its ${ADAPTER_CONFIG_FILE} implies [${expected.join(', ')}].`,
        'The adapter\'s files do not belong together.');
    }
  };
  expectShape('prompt_embeddings', prompt, [rows, prefix ? numLayers * 2 * tokenDim : tokenDim]);
  const tensors: Record<string, ExportTensor> = { prompt_embeddings: prompt };
  if (peftType === 'MULTITASK_PROMPT_TUNING') {
    for (const name of ['prefix_task_cols', 'prefix_task_rows']) {
      if (!adapter.tensors[name]) {
        adapterError(`The ${peftType} adapter has no "${name}" tensor.`, `${ADAPTER_WEIGHTS_FILE} is incomplete or belongs to another kind of adapter.`);
      }
    }
    const tasks = positiveInt(c, 'num_tasks') ?? adapter.tensors.prefix_task_cols.shape[0];
    const ranks = positiveInt(c, 'num_ranks') ?? adapter.tensors.prefix_task_cols.shape[2];
    expectShape('prefix_task_cols', adapter.tensors.prefix_task_cols, [tasks, rows, ranks]);
    expectShape('prefix_task_rows', adapter.tensors.prefix_task_rows, [tasks, ranks, tokenDim]);
    tensors.prefix_task_cols = adapter.tensors.prefix_task_cols;
    tensors.prefix_task_rows = adapter.tensors.prefix_task_rows;
  }
  for (const [name, t] of Object.entries(tensors)) {
    const bad = countNonFinite(t.data);
    if (bad > 0) {
      adapterError(`${ADAPTER_WEIGHTS_FILE}: tensor "${name}" holds ${bad.toLocaleString('en-US')} of ${t.data.length.toLocaleString('en-US')} values that are not finite numbers (NaN or infinity).`,
        'The run that saved it diverged: export the prompt again from a step before its loss became NaN, or train again with a lower learning rate.');
    }
  }
  return { peftType, tensors, config: c };
}

// ---------------------------------------------------------------------------------------
// Model card

export interface ModelCardInfo {
  adapterConfig: Record<string, unknown>;
  template: string;
  /** Label → the text the model scores for it. */
  verbalizer: Record<string, string>;
  labels: string[];
  /** Multitask: task names in task-id order. */
  tasks?: string[];
  /** Multitask: each task's labels, in task-id order. */
  taskLabels?: string[][];
  /** Opaque: an object of numbers becomes a table, anything else a JSON block. */
  metrics: unknown;
  trainingConfig: unknown;
  /** Extra sentences for the reader, e.g. that the weights came from a quantized package. */
  notes?: string[];
}

// A JSON string is a Python literal; JSON.stringify leaves non-ASCII as is, which Python 3
// source reads as UTF-8 (Python-style \u escapes would split emoji into lone surrogates).
const pyLiteral = (s: string) => JSON.stringify(s);

/** The prompts the studio scores, by their metrics' name prefix, as the card names them. */
const SCORED: readonly [prefix: string, name: string][] = [
  ['validation', 'the soft prompt'],
  ['majority', 'majority class (always the most frequent label)'],
  ['zero-shot', 'zero-shot (the model, no prompt)'],
  ['text', 'a text prompt instead'],
  ['discrete', 'discrete projection (each virtual token replaced by its nearest real token)'],
];

/**
 * The metrics as a table. The studio's own (`<prompt>_accuracy`, `_macro_f1`, `_loss`,
 * `_step`) become one row per prompt with the step it was measured at; anything else is
 * listed by name.
 */
function metricsSection(metrics: unknown): string {
  if (metrics && typeof metrics === 'object' && !Array.isArray(metrics)) {
    const m = metrics as Record<string, unknown>;
    const entries = Object.entries(m);
    if (entries.length > 0 && entries.every(([, v]) => typeof v === 'number' || typeof v === 'string')) {
      const cell = (v: unknown) => (v === undefined ? '–' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v));
      const scored = SCORED.filter(([prefix]) => typeof m[`${prefix}_accuracy`] === 'number');
      const used = new Set(scored.flatMap(([prefix]) => ['accuracy', 'macro_f1', 'generation_accuracy', 'loss', 'step'].map((k) => `${prefix}_${k}`)));
      // Greedy decoding's share (what model.generate writes), where the file has it: older files do not.
      const written = scored.some(([prefix]) => typeof m[`${prefix}_generation_accuracy`] === 'number');
      const writes = (prefix: string) => (written ? ` ${cell(m[`${prefix}_generation_accuracy`])} |` : '');
      const out: string[] = [];
      if (scored.length > 0) {
        const trained = typeof m.step === 'number' ? `Trained ${m.step} steps. ` : '';
        const on = typeof m.examples === 'number' ? `on the same ${m.examples} validation examples` : 'on the validation examples';
        out.push(`${trained}Each score is ${on}, measured at the step given.`, '',
          `| prompt | accuracy | macro-F1 |${written ? ' writes the label (greedy) |' : ''} loss | measured at step |`, `|---|---|---|${written ? '---|' : ''}---|---|`,
          ...scored.map(([prefix, name]) => `| ${name} | ${cell(m[`${prefix}_accuracy`])} | ${cell(m[`${prefix}_macro_f1`])} |${writes(prefix)} ${cell(m[`${prefix}_loss`])} | ${prefix === 'majority' ? 'any (labels only)' : cell(m[`${prefix}_step`])} |`));
        used.add('step');
        used.add('examples');
      }
      const rest = entries.filter(([k]) => !used.has(k));
      if (rest.length > 0) {
        if (out.length > 0) out.push('');
        out.push('| metric | value |', '|---|---|', ...rest.map(([k, v]) => `| ${k} | ${cell(v)} |`));
      }
      return out.join('\n');
    }
  }
  return `\`\`\`json\n${JSON.stringify(metrics ?? null, null, 2)}\n\`\`\``;
}

/** A README.md in the spirit of PEFT's model card: front matter, how to load and use it, results. */
export function writeModelCard(info: ModelCardInfo): string {
  const c = info.adapterConfig;
  const base = String(c.base_model_name_or_path ?? '');
  // A hub id is owner/name; the studio names a base model folder without a slash.
  const fromHub = base.includes('/');
  const type = String(c.peft_type);
  const multitask = type === 'MULTITASK_PROMPT_TUNING';
  // Free-text targets (target scoring): the answer is what generate writes; no label list, no ranking function.
  const freeText = (info.trainingConfig as { scoring?: unknown } | null)?.scoring === 'target';
  const verbalizerPy = `{${Object.entries(info.verbalizer).map(([k, v]) => `${pyLiteral(k)}: ${pyLiteral(v)}`).join(', ')}}`;
  const taskArg = multitask ? ', task_ids=torch.tensor([task])' : '';
  const taskParam = multitask ? ', task=0' : '';
  const lines = [
    '---',
    `base_model: ${JSON.stringify(base)}`,
    'library_name: peft',
    'pipeline_tag: text-generation',
    'tags:',
    `- ${type.toLowerCase().replace(/_/g, '-')}`,
    '- prompt-tuning-studio',
    '---',
    '',
    `# ${type} adapter for ${base}`,
    '',
    `A soft prompt of ${String(c.num_virtual_tokens)} virtual tokens trained with Prompt Tuning Studio for ${base}; `
      + (freeText
        ? `it writes each text's target (a generation task, trained on ${info.labels.length.toLocaleString('en-US')} distinct targets and scored by exact match: greedy decoding writes the target).`
        : `it classifies a text as one of: ${info.labels.map((l) => `\`${l}\``).join(', ')}.`),
    ...(info.tasks && info.tasks.length > 0
      ? ['', `Tasks, by task id: ${info.tasks.map((t, i) => `${i} = \`${t}\`${info.taskLabels?.[i] ? ` (${info.taskLabels[i].map((l) => `\`${l}\``).join(', ')})` : ''}`).join(', ')}.`]
      : []),
    ...(info.notes && info.notes.length > 0 ? ['', ...info.notes] : []),
    '',
    '## Use it with transformers and PEFT',
    '',
    ...(fromHub
      ? [`The base model is \`${base}\` on the Hugging Face hub; transformers downloads it. Run this in this folder (the one holding this README):`]
      : [
        `The base model is the folder \`${base}/\`, in Hugging Face layout: download it from the studio that trained this prompt`,
        '(Export → "Download base model") and unzip it here, or write it here from a terminal with',
        `\`npm run cli -- base-model --model <the model's folder> --out ${base}\`, so that`,
        `\`${base}/config.json\` sits beside this README. Then run this in this folder:`,
      ]),
    '',
    '```python',
    'import torch',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    'from peft import PeftModel',
    '',
    `base = ${pyLiteral(base)}  # ${fromHub ? 'the base model, from the Hugging Face hub' : 'the base model\'s folder (Export → "Download base model"), here'}`,
    'adapter = "."  # this folder: adapter_config.json and adapter_model.safetensors',
    '',
    'tokenizer = AutoTokenizer.from_pretrained(base)',
    'model = AutoModelForCausalLM.from_pretrained(base)',
    'model = PeftModel.from_pretrained(model, adapter)',
    'model.eval()',
    '',
    `template = ${pyLiteral(info.template)}`,
    ...(freeText ? [] : [`verbalizer = ${verbalizerPy}`,
    '',
    '',
    `def score(text${taskParam}):`,
    '    """Summed log-probability of each label\'s verbalizer after the template, as the studio scores it."""',
    '    # The studio starts every input with the BOS token; check that the tokenizer adds it.',
    '    prompt_ids = tokenizer(template.replace("{text}", text))["input_ids"]',
    '    scores = {}',
    '    for label, word in verbalizer.items():',
    '        target = tokenizer(word, add_special_tokens=False)["input_ids"]',
    '        ids = torch.tensor([prompt_ids + target])',
    '        with torch.no_grad():',
    `            logits = model(input_ids=ids${taskArg}).logits`,
    '        # Prompt and P-tuning return logits for the virtual tokens too: keep the last len(ids).',
    '        logprobs = torch.log_softmax(logits[0, -ids.shape[1]:].float(), dim=-1)',
    '        scores[label] = sum(logprobs[len(prompt_ids) - 1 + i, t].item() for i, t in enumerate(target))',
    '    return max(scores, key=scores.get), scores',
    '',
    '',
    'print(score("Your text here"))']),
    '',
    `inputs = tokenizer(template.replace("{text}", "Your text here"), return_tensors="pt")`,
    `output = model.generate(**inputs, max_new_tokens=${freeText ? 24 : 8}${multitask ? ', task_ids=torch.tensor([0])' : ''})`,
    'print(tokenizer.decode(output[0], skip_special_tokens=True))',
    '```',
    '',
    'PEFT loads prompt adapters for inference only; to train further, resume the run in the studio from its checkpoint.',
    '',
    '## Metrics',
    '',
    metricsSection(info.metrics),
    '',
    '## Training configuration',
    '',
    '```json',
    JSON.stringify(info.trainingConfig ?? null, null, 2),
    '```',
    '',
  ];
  return lines.join('\n');
}
