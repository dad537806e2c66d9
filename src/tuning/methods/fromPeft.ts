/**
 * A PEFT prompt adapter (from Python or from the studio) as a method the engine can run:
 * predictions, the playground and projections then work on it as on a prompt trained here.
 * PEFT stores prompts in inference form (P-tuning's encoder output, prefix tuning's
 * per-layer keys/values), so imported adapters predict exactly but train without their
 * original reparameterization.
 */
import { StudioError } from '../../errors';
import { methodSuppliedFields } from '../../formats/peft';
import type { ModelConfig } from '../../model/config';
import { MultitaskPromptTuning } from './multitask';
import { PrefixTuning } from './prefix';
import { PromptTuning } from './prompt';
import type { ExportTensor, PeftExport, SoftPromptMethod } from './types';

function tensor(exported: PeftExport, name: string): ExportTensor {
  const t = exported.tensors[name];
  if (!t) throw new StudioError('adapter', `The adapter has no "${name}" tensor, which ${exported.peftType} needs.`);
  return t;
}

/**
 * The imported method exports as what was imported (P-tuning stays P_TUNING with its
 * encoder fields, prefix tuning keeps prefix_projection), with its current tensors.
 */
export function methodFromPeft(exported: PeftExport, model: ModelConfig): SoftPromptMethod {
  const method = runnableMethod(exported, model);
  const own = method.exportPeft.bind(method);
  method.exportPeft = async () => ({ ...(await own()), peftType: exported.peftType, config: methodSuppliedFields(exported.peftType, exported.config) });
  return method;
}

function runnableMethod(exported: PeftExport, model: ModelConfig): SoftPromptMethod {
  const prompt = tensor(exported, 'prompt_embeddings');
  const [p, width] = prompt.shape;
  switch (exported.peftType) {
    case 'PROMPT_TUNING':
    case 'P_TUNING':
      if (width !== model.hiddenSize) {
        throw new StudioError('adapter', `The adapter's prompt has token_dim ${width}, but this model's embeddings have ${model.hiddenSize}.`,
          'Load the model the adapter was trained for.');
      }
      return new PromptTuning(prompt.data, p, width);
    case 'PREFIX_TUNING': {
      const expected = model.numLayers * 2 * model.numKeyValueHeads * model.headDim;
      if (width !== expected) {
        throw new StudioError('adapter', `The adapter's prefixes have ${width} values per virtual token, but this model needs ${expected} (${model.numLayers} layers × 2 × ${model.numKeyValueHeads * model.headDim}).`,
          'Load the model the adapter was trained for.');
      }
      return new PrefixTuning(prompt.data, { numVirtualTokens: p, prefixProjection: false, encoderHiddenSize: model.hiddenSize, seed: 0 }, model);
    }
    case 'MULTITASK_PROMPT_TUNING': {
      const cols = tensor(exported, 'prefix_task_cols');
      const rows = tensor(exported, 'prefix_task_rows');
      const [tasks, , ranks] = cols.shape;
      return new MultitaskPromptTuning(prompt.data, { numVirtualTokens: p, numTasks: tasks, numRanks: ranks, seed: 0 }, width, { cols: cols.data, rows: rows.data });
    }
  }
}
