/**
 * The method registry: for each method, what it is (catalog.ts), how to create it for a
 * run, and the names its parameters have in PyTorch (checkpoints use them); and for each
 * PEFT type, how an exported adapter runs here. The trainer, the engine and the checkpoint
 * code reach the methods only through this file.
 */
import type { ModelDims } from '../../formats/peft';
import type { TrainConfig } from '../config';
import { METHOD_CATALOG, type MethodDescription, type MethodKind } from './catalog';
import { methodSuppliedFields } from '../../formats/peft';
import { MultitaskPromptTuning } from './multitask';
import { PrefixTuning } from './prefix';
import { PromptTuning } from './prompt';
import { PTuning } from './ptuning';
import type { PeftExport, PeftType, SoftPromptMethod } from './types';

/** What creating a method for a run takes: the settings, the initial [P, d] vectors, the model, the task count. */
export interface MethodContext {
  config: TrainConfig;
  initial: Float32Array;
  model: ModelDims;
  numTasks: number;
}

export interface MethodEntry extends MethodDescription {
  kind: MethodKind;
  create(context: MethodContext): SoftPromptMethod;
  /** Trainable values create() would make (for the memory check before it runs). */
  parameterCount(context: Omit<MethodContext, 'initial'>): number;
  /** Parameter names for a method with `count` variables, in its `variables` order; null if no layout has that many. */
  variableNames(count: number): string[] | null;
}

const encoderWidth = ({ config, model }: Omit<MethodContext, 'initial'>) => config.encoderHiddenSize || model.hiddenSize;
const linearParameters = (inputs: number, outputs: number) => inputs * outputs + outputs;

function ptuning(kind: 'ptuning-mlp' | 'ptuning-lstm'): MethodEntry {
  const encoder = kind === 'ptuning-mlp' ? 'MLP' : 'LSTM';
  return {
    ...METHOD_CATALOG[kind],
    kind,
    create: (c) => new PTuning(c.initial, {
      numVirtualTokens: c.config.numVirtualTokens, encoder, encoderHiddenSize: encoderWidth(c), encoderNumLayers: c.config.encoderNumLayers, seed: c.config.seed,
    }, c.model.hiddenSize),
    variableNames: (count) => PTuning.variableNames(encoder, count),
    parameterCount: (c) => {
      const [d, h, p] = [c.model.hiddenSize, encoderWidth(c), c.config.numVirtualTokens];
      if (encoder === 'MLP') return p * d + linearParameters(d, h) + linearParameters(h, h) + linearParameters(h, d);
      let lstm = 0;
      for (let l = 0; l < c.config.encoderNumLayers; l++) lstm += 2 * (4 * h * ((l === 0 ? d : 2 * h) + h) + 8 * h);
      return p * d + lstm + linearParameters(2 * h, 2 * h) + linearParameters(2 * h, d);
    },
  };
}

export const METHODS: Readonly<Record<MethodKind, MethodEntry>> = {
  prompt: {
    ...METHOD_CATALOG.prompt,
    kind: 'prompt',
    create: (c) => new PromptTuning(c.initial, c.config.numVirtualTokens, c.model.hiddenSize),
    variableNames: () => PromptTuning.variableNames,
    parameterCount: (c) => c.config.numVirtualTokens * c.model.hiddenSize,
  },
  'ptuning-mlp': ptuning('ptuning-mlp'),
  'ptuning-lstm': ptuning('ptuning-lstm'),
  prefix: {
    ...METHOD_CATALOG.prefix,
    kind: 'prefix',
    create: (c) => new PrefixTuning(c.initial, {
      numVirtualTokens: c.config.numVirtualTokens, prefixProjection: c.config.prefixProjection, encoderHiddenSize: encoderWidth(c), seed: c.config.seed,
    }, c.model),
    variableNames: (count) => PrefixTuning.variableNames(count),
    parameterCount: (c) => {
      const out = c.model.numLayers * 2 * c.model.numKeyValueHeads * c.model.headDim;
      const p = c.config.numVirtualTokens;
      if (!c.config.prefixProjection) return p * out;
      const h = encoderWidth(c);
      return p * c.model.hiddenSize + linearParameters(c.model.hiddenSize, h) + linearParameters(h, out);
    },
  },
  multitask: {
    ...METHOD_CATALOG.multitask,
    kind: 'multitask',
    create: (c) => new MultitaskPromptTuning(c.initial, {
      numVirtualTokens: c.config.numVirtualTokens, numTasks: Math.max(1, c.numTasks), numRanks: c.config.numRanks, seed: c.config.seed,
    }, c.model.hiddenSize),
    variableNames: () => MultitaskPromptTuning.variableNames,
    parameterCount: (c) => {
      const [p, d, r, t] = [c.config.numVirtualTokens, c.model.hiddenSize, c.config.numRanks, Math.max(1, c.numTasks)];
      return p * d + t * p * r + t * r * d;
    },
  },
};

export function createMethod(context: MethodContext): SoftPromptMethod {
  return METHODS[context.config.method].create(context);
}

/**
 * The names PyTorch (and so PEFT's PromptEncoder / PrefixEncoder / MultitaskPromptEmbedding)
 * gives the same parameters, for a method's `variables` in their order.
 */
export function methodVariableNames(kind: MethodKind, count: number): string[] {
  const names = METHODS[kind]?.variableNames(count) ?? null;
  if (!names || names.length !== count) throw new Error(`a ${kind} method with ${count} variables has no known layout`);
  return names;
}

/**
 * How each PEFT type's saved (inference-form) tensors run here. P-tuning's encoder output
 * runs as a plain prompt and prefix tuning's keys/values as free prefixes, so imported
 * adapters predict exactly but train without their original reparameterization.
 */
const FROM_PEFT: Readonly<Record<PeftType, (exported: PeftExport, model: ModelDims) => SoftPromptMethod>> = {
  PROMPT_TUNING: PromptTuning.fromPeft,
  P_TUNING: PromptTuning.fromPeft,
  PREFIX_TUNING: PrefixTuning.fromPeft,
  MULTITASK_PROMPT_TUNING: MultitaskPromptTuning.fromPeft,
};

/**
 * A PEFT prompt adapter (from Python or from the studio) as a method the engine can run.
 * It exports as what was imported (P-tuning stays P_TUNING with its encoder fields, prefix
 * tuning keeps prefix_projection), with its current tensors.
 */
export function methodFromPeft(exported: PeftExport, model: ModelDims): SoftPromptMethod {
  const method = FROM_PEFT[exported.peftType](exported, model);
  const own = method.exportPeft.bind(method);
  method.exportPeft = async () => ({ ...(await own()), peftType: exported.peftType, config: methodSuppliedFields(exported.peftType, exported.config) });
  return method;
}
