/**
 * A dataset made ready for the model: every example rendered through the template,
 * tokenized once, cut to the length budget, its label turned into target tokens.
 */
import { StudioError } from '../errors';
import type { Dataset } from '../data/examples';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import { resolveScoring, type Scoring, type ScoringChoice } from './config';
import type { EncodedExample } from './objective';

export interface TaskSetup {
  template: string;
  /** Label name → the text the model scores for it (e.g. "spam" → " spam"). */
  verbalizer: Record<string, string>;
  maxLength: number;
  truncateSide: 'left' | 'right';
  /** How evaluations score (config.ts, ScoringChoice); 'auto' when absent. */
  scoring?: ScoringChoice;
}

export interface PreparedTask {
  labels: string[];
  /** How evaluations score its examples: 'rank' among the labels, or each against its own 'target'. */
  scoring: Scoring;
  verbalizer: Record<string, string>;
  /** Tokens of each label's verbalizer, in label order. */
  labelIds: number[][];
  tasks: string[];
  /**
   * Per task, the label indices that task uses: with a task column, an example is only
   * ever classified among its own task's labels. One entry holding every label otherwise.
   */
  taskLabels: number[][];
  train: EncodedExample[];
  validation: EncodedExample[];
  /** Dataset example ids, aligned with train / validation. */
  trainIds: number[];
  validationIds: number[];
  /** Texts cut to fit maxLength. */
  truncated: number;
  /** How often each token occurs in the training inputs (for sampled-vocabulary init). */
  tokenCounts: Map<number, number>;
  template: string;
  maxLength: number;
}

/**
 * Characters per token a text may need before it is surely longer than any max length: real
 * BPE vocabularies average 4-5 characters a token on English (a budget of 4 cut texts that
 * fit), and hardly any text reaches 16.
 */
export const CHARS_PER_TOKEN_BUDGET = 16;

export function renderTemplate(template: string, text: string): string {
  return template.split('{text}').join(text);
}

/**
 * [BOS] + tokens of template(text), at most maxLength long. The text is cut at token
 * boundaries on the chosen side, then the whole string is tokenized again, because
 * tokenizing pieces separately would not give the tokens the model sees.
 */
export function encodeInput(tokenizer: TextTokenizer, template: string, text: string, maxLength: number, side: 'left' | 'right') {
  // Cutting the characters first keeps a 2-million-character cell from costing seconds of
  // tokenization; the budget is wide enough that a text which fits is never cut by it.
  const charBudget = maxLength * CHARS_PER_TOKEN_BUDGET;
  let precut = false;
  if (text.length > charBudget) {
    text = side === 'right' ? text.slice(0, charBudget) : text.slice(text.length - charBudget);
    // Never leave half of a surrogate pair at the cut.
    text = text.replace(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/g, '');
    precut = true;
  }
  const full = tokenizer.encode(renderTemplate(template, text), { addBos: true });
  if (full.length <= maxLength) return { ids: full, truncated: precut };
  const textIds = tokenizer.encode(text);
  let keep = Math.max(0, textIds.length - (full.length - maxLength));
  for (;;) {
    const kept = side === 'right' ? textIds.slice(0, keep) : textIds.slice(textIds.length - keep);
    const ids = tokenizer.encode(renderTemplate(template, tokenizer.decode(kept)), { addBos: true });
    if (ids.length <= maxLength || keep === 0) {
      if (ids.length > maxLength) {
        throw new StudioError('settings', `The max length (${maxLength} tokens) is below the template's own length (${ids.length} tokens).`,
          'Raise the max length or shorten the template.');
      }
      return { ids, truncated: true };
    }
    keep--;
  }
}

/** The most tokens any label's target has (a reduce: free-text labels can outnumber a spread's arguments). */
export function longestTarget(labelIds: number[][]): number {
  return labelIds.reduce((a, l) => Math.max(a, l.length), 1);
}

/** Checks the template, verbalizer and lengths against the model; each label's target tokens. */
function encodeLabels(tokenizer: TextTokenizer, labels: string[], setup: TaskSetup, maxPositions: number, promptLength: number): number[][] {
  const template = setup.template;
  if (!template.includes('{text}')) throw new StudioError('settings', 'The template must contain {text}, where each example\'s text goes.');
  const templateOnly = tokenizer.encode(renderTemplate(template, ''), { addBos: true }).length;
  if (setup.maxLength < templateOnly + 1) {
    throw new StudioError('settings', `The max length (${setup.maxLength} tokens) is below the template's own length (${templateOnly} tokens) plus one token of text.`,
      'Raise the max length or shorten the template.');
  }
  const labelIds = labels.map((label) => {
    const text = setup.verbalizer[label];
    if (text === undefined || text.trim() === '') {
      throw new StudioError('settings', `The label "${label}" has no verbalizer text.`, 'Give every label the words the model should produce for it.');
    }
    return tokenizer.encode(text);
  });
  const seen = new Map<string, string>();
  labels.forEach((label, i) => {
    const key = labelIds[i].join(',');
    const other = seen.get(key);
    if (other !== undefined) {
      throw new StudioError('settings', `The labels "${other}" and "${label}" have the same verbalizer tokens, so the model cannot tell them apart.`,
        'Give them different verbalizer texts.');
    }
    seen.set(key, label);
  });
  const longestLabel = longestTarget(labelIds);
  if (promptLength + setup.maxLength + longestLabel > maxPositions) {
    throw new StudioError('settings',
      `Virtual tokens (${promptLength}) + max length (${setup.maxLength}) + the longest label (${longestLabel} tokens) exceed the model's ${maxPositions} positions.`,
      'Lower the max length or the number of virtual tokens.');
  }
  return labelIds;
}

export function prepareTask(tokenizer: TextTokenizer, dataset: Dataset, setup: TaskSetup, maxPositions: number, promptLength: number): PreparedTask {
  const labels = dataset.labels.map((l) => l.name);
  if (labels.length < 2) throw new StudioError('data', 'Training needs at least two labels.');
  const template = setup.template;
  const labelIds = encodeLabels(tokenizer, labels, setup, maxPositions, promptLength);
  const tasks = dataset.tasks.length ? dataset.tasks : [];
  const taskIndex = new Map(tasks.map((t, i) => [t, i]));
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const out: PreparedTask = {
    labels, scoring: resolveScoring(setup.scoring, labels.length, dataset.examples.length), verbalizer: { ...setup.verbalizer }, labelIds, tasks, taskLabels: [],
    train: [], validation: [], trainIds: [], validationIds: [],
    truncated: 0, tokenCounts: new Map(), template, maxLength: setup.maxLength,
  };
  for (const ex of dataset.examples) {
    const { ids, truncated } = encodeInput(tokenizer, template, ex.text, setup.maxLength, setup.truncateSide);
    if (truncated) out.truncated++;
    const label = labelIndex.get(ex.label)!;
    const encoded: EncodedExample = { inputIds: ids, label, targetIds: labelIds[label], task: ex.task ? taskIndex.get(ex.task) ?? 0 : 0 };
    if (ex.split === 'train') {
      out.train.push(encoded);
      out.trainIds.push(ex.id);
      for (const id of ids) out.tokenCounts.set(id, (out.tokenCounts.get(id) ?? 0) + 1);
    } else {
      out.validation.push(encoded);
      out.validationIds.push(ex.id);
    }
  }
  const perTask = Array.from({ length: Math.max(1, tasks.length) }, () => new Set<number>());
  for (const e of [...out.train, ...out.validation]) perTask[e.task].add(e.label);
  out.taskLabels = tasks.length ? perTask.map((set) => [...set].sort((a, b) => a - b)) : [labels.map((_, j) => j)];
  if (out.train.length === 0) throw new StudioError('data', 'The training split is empty.');
  if (out.validation.length === 0) throw new StudioError('data', 'The validation split is empty.', 'Lower the validation fraction only as far as leaves one example per label.');
  return out;
}

/**
 * A task with labels but no examples: how an imported prompt classifies text typed into
 * the playground before (or without) a CSV. `taskLabels`: each task's own labels, by name
 * (every label for every task without them).
 */
export function labelOnlyTask(
  tokenizer: TextTokenizer, labels: string[], tasks: string[], setup: TaskSetup, maxPositions: number, promptLength: number, taskLabels?: string[][],
): PreparedTask {
  if (labels.length < 2) throw new StudioError('adapter', 'The prompt needs at least two labels to classify with.');
  const labelIds = encodeLabels(tokenizer, labels, setup, maxPositions, promptLength);
  return {
    labels, scoring: resolveScoring(setup.scoring, labels.length, Infinity), verbalizer: { ...setup.verbalizer }, labelIds, tasks,
    taskLabels: (tasks.length ? tasks : ['']).map((_, t) => taskLabels?.[t]?.map((l) => labels.indexOf(l)).sort((a, b) => a - b) ?? labels.map((_, j) => j)),
    train: [], validation: [], trainIds: [], validationIds: [],
    truncated: 0, tokenCounts: new Map(), template: setup.template, maxLength: setup.maxLength,
  };
}
