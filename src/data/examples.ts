import { StudioError } from '../errors';
import type { ParsedTable, RowProblem } from './csv';
import { createRng, hashString, shuffleInPlace } from './random';

/** Which columns hold what. Column names are those of ParsedTable.columns. */
export interface ColumnMapping {
  /** One or more columns whose values are joined (non-empty parts only) into the example text. */
  textColumns: string[];
  labelColumn: string | null;
  taskColumn: string | null;
  splitColumn: string | null;
}

export type SplitName = 'train' | 'validation';

export interface Example {
  /** Index of the source row in ParsedTable.rows: stable across mappings, seeds and splits. */
  id: number;
  /** 1-based line in the file where the row starts. */
  line: number;
  text: string;
  /** Trimmed label value. */
  label: string;
  task?: string;
  split: SplitName;
}

export interface LabelStats {
  name: string;
  count: number;
  trainCount: number;
  validationCount: number;
}

export interface Dataset {
  examples: Example[];
  /**
   * Sorted by name (numbers numerically, everything else by code point), not by first appearance,
   * so that the same data in another row order gives the same class order.
   */
  labels: LabelStats[];
  /** Distinct task names, sorted like labels; empty without a task column. */
  tasks: string[];
  /** Every row that did not become an example (parse problems included), in line order. */
  rejected: RowProblem[];
  /** How many example texts were shortened to maxTextChars. */
  truncated: number;
  warnings: string[];
}

export interface BuildDatasetOptions {
  /** Put between the values of several text columns (default "\n"). */
  textJoiner?: string;
  /** Share of each label's examples held out for validation, in (0, 0.9] (default 0.2). */
  validationFraction?: number;
  /** Integer seed of the random split (default 0). */
  seed?: number;
  /**
   * A column with train/validation values that decides the split instead of the random one.
   * Undefined: use mapping.splitColumn; null: ignore any split column.
   */
  splitColumn?: string | null;
  /** Longest example text in UTF-16 code units; longer texts are cut (never mid surrogate pair). */
  maxTextChars?: number;
  /** The side that is cut off when a text is too long (default 'right': keep the beginning). */
  truncateSide?: 'left' | 'right';
}

const LABEL_NAMES = new Set([
  'label', 'labels', 'class', 'classes', 'category', 'categories', 'target', 'y', 'sentiment', 'intent', 'topic',
  'emotion', 'tag', 'gold', 'goldlabel', 'labeltext', 'labelname', 'classlabel', 'polarity', 'stance', 'annotation',
]);
const TEXT_NAMES = new Set([
  'text', 'texts', 'sentence', 'content', 'body', 'message', 'msg', 'review', 'reviewtext', 'comment', 'tweet',
  'question', 'document', 'doc', 'utterance', 'query', 'input', 'prompt', 'passage', 'post', 'description', 'sms',
]);
const TASK_NAMES = new Set(['task', 'tasks', 'taskname']);
const SPLIT_NAMES = new Set(['split', 'splits', 'fold', 'set', 'subset', 'partition', 'datasplit', 'dataset']);

/** Column statistics look at this many rows; enough to judge kinds, bounded on 100k-row files. */
const STATS_ROWS = 20_000;

/** Reads a split cell: train/validation synonyms, case-insensitive; null when not recognised. */
export function parseSplitValue(value: string): SplitName | 'test' | null {
  const v = value.trim().toLowerCase();
  if (v === 'train' || v === 'training' || v === 'trn') return 'train';
  if (['validation', 'valid', 'val', 'dev', 'development', 'eval', 'evaluation', 'heldout', 'held-out'].includes(v)) {
    return 'validation';
  }
  if (v === 'test' || v === 'testing' || v === 'tst') return 'test';
  return null;
}

interface ColumnStats {
  name: string;
  key: string;
  averageLength: number;
  distinct: number;
  nonEmpty: number;
  numericShare: number;
  splitShare: number;
}

/**
 * Guesses which columns are text, label, task and split. Split and task need telling names;
 * the label is a column named like a label (label, class, category, target, y, sentiment…)
 * or else one with few distinct values relative to the rows; the text is the remaining
 * column with the longest average value, preferring columns named like texts (text,
 * sentence, review, message…).
 */
export function guessMapping(table: ParsedTable): ColumnMapping {
  const stats = table.columns.map((name, j) => columnStats(table, name, j));
  const taken = new Set<string>();

  const split = stats.find((s) => SPLIT_NAMES.has(s.key) && s.nonEmpty > 0 && s.splitShare >= 0.9) ?? null;
  if (split) taken.add(split.name);
  const task = stats.find((s) => !taken.has(s.name) && TASK_NAMES.has(s.key)) ?? null;
  if (task) taken.add(task.name);

  const rows = Math.min(table.rows.length, STATS_ROWS);
  let label: ColumnStats | null = null;
  const labelLike = stats.filter((s) => !taken.has(s.name) && (LABEL_NAMES.has(s.key) || /label/.test(s.key)));
  if (labelLike.length > 0) {
    // An exact name beats a partial one ("label" over "label_id"); then fewer distinct values.
    labelLike.sort((a, b) => Number(LABEL_NAMES.has(b.key)) - Number(LABEL_NAMES.has(a.key)) || a.distinct - b.distinct);
    label = labelLike[0];
    taken.add(label.name);
  }

  // A column named like a text wins over a longer one (say a URL); numeric columns (ids,
  // scores) are texts only when nothing else is left.
  const remaining = stats.filter((s) => !taken.has(s.name));
  const named = remaining.filter((s) => TEXT_NAMES.has(s.key) && s.nonEmpty > 0);
  const wordy = remaining.filter((s) => s.numericShare < 0.9);
  let text: ColumnStats | null = null;
  for (const s of named.length > 0 ? named : wordy.length > 0 ? wordy : remaining) {
    if (!text || s.averageLength > text.averageLength) text = s;
  }
  if (text) taken.add(text.name);

  if (!label) {
    const limit = Math.max(2, Math.min(1000, rows * 0.5));
    const candidates = stats.filter(
      (s) => !taken.has(s.name) && s.distinct >= 2 && s.distinct <= limit && s.averageLength <= 64,
    );
    candidates.sort((a, b) => a.distinct / Math.max(1, a.nonEmpty) - b.distinct / Math.max(1, b.nonEmpty));
    label = candidates[0] ?? null;
  }

  return {
    textColumns: text ? [text.name] : [],
    labelColumn: label?.name ?? null,
    taskColumn: task?.name ?? null,
    splitColumn: split?.name ?? null,
  };
}

function columnStats(table: ParsedTable, name: string, j: number): ColumnStats {
  const n = Math.min(table.rows.length, STATS_ROWS);
  let totalLength = 0;
  let nonEmpty = 0;
  let numeric = 0;
  let splitLike = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v = (table.rows[i][j] ?? '').trim();
    if (v === '') continue;
    nonEmpty++;
    totalLength += v.length;
    distinct.add(v);
    if (/^[-+]?\d+(\.\d+)?$/.test(v)) numeric++;
    if (parseSplitValue(v) !== null) splitLike++;
  }
  return {
    name,
    key: name.trim().toLowerCase().replace(/[\s_\-.]+/g, ''),
    averageLength: nonEmpty === 0 ? 0 : totalLength / nonEmpty,
    distinct: distinct.size,
    nonEmpty,
    numericShare: nonEmpty === 0 ? 0 : numeric / nonEmpty,
    splitShare: nonEmpty === 0 ? 0 : splitLike / nonEmpty,
  };
}

/**
 * The split a CSV gets unless told otherwise, on the page and in the CLI alike, so the same
 * file splits the same way everywhere.
 */
export const DEFAULT_SPLIT = { validationFraction: 0.2, seed: 42 } as const;

/**
 * Turns parsed rows into labeled examples and splits them into train and validation.
 * The random split is deterministic in `seed` and stratified by label (and task): each label
 * with n ≥ 2 examples puts round(n · fraction), clamped to [1, n − 1], into validation. Each
 * label is shuffled by its own generator seeded from (seed, label), so adding a label does not
 * reshuffle the others.
 */
export function buildDataset(table: ParsedTable, mapping: ColumnMapping, options: BuildDatasetOptions = {}): Dataset {
  const opts = resolveOptions(options);
  const columns = resolveColumns(table, mapping, options);
  if (table.rows.length === 0) throw noRowsError(table.problems);

  const warnings: string[] = [];
  const rejected: RowProblem[] = [...table.problems];
  const examples: Example[] = [];
  const fixedSplit: (SplitName | null)[] = [];
  let truncated = 0;
  let testRows = 0;

  for (let i = 0; i < table.rows.length; i++) {
    const row = table.rows[i];
    const line = table.lineNumbers[i] ?? i + 1;
    const parts: string[] = [];
    for (const j of columns.text) {
      const v = row[j] ?? '';
      if (v.trim() !== '') parts.push(v);
    }
    let text = parts.join(opts.textJoiner);
    if (text.trim() === '') {
      rejected.push({ line, reason: `The text is empty (${describeColumns(columns.textNames)}).` });
      continue;
    }
    const label = (row[columns.label] ?? '').trim();
    if (label === '') {
      rejected.push({ line, reason: `The label is missing (column "${columns.labelName}" is empty).` });
      continue;
    }
    let task: string | undefined;
    if (columns.task !== null) {
      task = (row[columns.task] ?? '').trim();
      if (task === '') {
        rejected.push({ line, reason: `The task is missing (column "${columns.taskName}" is empty).` });
        continue;
      }
    }
    let split: SplitName | null = null;
    if (columns.split !== null) {
      const raw = row[columns.split] ?? '';
      const parsed = parseSplitValue(raw);
      if (parsed === null) {
        rejected.push({
          line,
          reason:
            raw.trim() === ''
              ? `The split value is missing (column "${columns.splitName}" is empty).`
              : `Unknown split value "${raw.trim()}" in column "${columns.splitName}"; use train, validation (or val, dev) or test.`,
        });
        continue;
      }
      if (parsed === 'test') testRows++;
      split = parsed === 'train' ? 'train' : 'validation';
    }
    if (opts.maxTextChars !== undefined && text.length > opts.maxTextChars) {
      text = truncateText(text, opts.maxTextChars, opts.truncateSide);
      truncated++;
    }
    const example: Example = { id: i, line, text, label, split: 'train' };
    if (task !== undefined) example.task = task;
    examples.push(example);
    fixedSplit.push(split);
  }
  rejected.sort((a, b) => a.line - b.line);

  if (examples.length === 0) throw noRowsError(rejected);
  const labelNames = sortNames(new Set(examples.map((e) => e.label)));
  if (labelNames.length < 2) {
    throw new StudioError(
      'data',
      examples.length === 1
        ? `The file has only one usable row (label "${labelNames[0]}"), so there is nothing to tell apart.`
        : `All ${examples.length.toLocaleString('en-US')} usable rows have the same label ("${labelNames[0]}"), so there is nothing to tell apart.`,
      `A classifier needs at least two labels: add examples of another class, or check that "${columns.labelName}" is really the label column.`,
    );
  }

  if (columns.split !== null) {
    examples.forEach((e, k) => {
      e.split = fixedSplit[k] ?? 'train';
    });
    checkFixedSplit(examples, columns.splitName ?? '', testRows, warnings);
  } else {
    randomSplit(examples, opts.validationFraction, opts.seed, warnings);
  }

  const labels = labelStats(examples, labelNames);
  const tasks = columns.task !== null ? sortNames(new Set(examples.map((e) => e.task ?? ''))) : [];
  if (columns.task !== null) warnSingleLabelTasks(examples, tasks, warnings);
  warnLookalikeLabels(labelNames, warnings);
  warnDuplicates(examples, warnings);
  if (truncated > 0) {
    warnings.push(
      `${plural(truncated, 'text was', 'texts were')} longer than ${opts.maxTextChars} characters and cut from the ${opts.truncateSide}.`,
    );
  }
  return { examples, labels, tasks, rejected, truncated, warnings };
}

interface ResolvedOptions {
  textJoiner: string;
  validationFraction: number;
  seed: number;
  maxTextChars: number | undefined;
  truncateSide: 'left' | 'right';
}

function resolveOptions(options: BuildDatasetOptions): ResolvedOptions {
  const validationFraction = options.validationFraction ?? 0.2;
  if (typeof validationFraction !== 'number' || !(validationFraction > 0 && validationFraction <= 0.9)) {
    throw new StudioError(
      'settings',
      `The validation share must be more than 0 and at most 0.9 (got ${String(validationFraction)}).`,
      'Use for example 0.2 to hold out a fifth of each label for validation.',
    );
  }
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new StudioError('settings', `The split seed must be a whole number (got ${String(seed)}).`);
  }
  const maxTextChars = options.maxTextChars;
  if (maxTextChars !== undefined && (!Number.isSafeInteger(maxTextChars) || maxTextChars < 1)) {
    throw new StudioError(
      'settings',
      `The maximum text length must be a whole number of characters, at least 1 (got ${String(maxTextChars)}).`,
    );
  }
  const truncateSide = options.truncateSide ?? 'right';
  if (truncateSide !== 'left' && truncateSide !== 'right') {
    throw new StudioError('settings', `Texts can be cut from the 'left' or the 'right' (got ${String(truncateSide)}).`);
  }
  const textJoiner = options.textJoiner ?? '\n';
  if (typeof textJoiner !== 'string') {
    throw new StudioError('settings', 'The text joiner must be a string, such as a line break or " | ".');
  }
  return { textJoiner, validationFraction, seed, maxTextChars, truncateSide };
}

interface ResolvedColumns {
  text: number[];
  textNames: string[];
  label: number;
  labelName: string;
  task: number | null;
  taskName: string | null;
  split: number | null;
  splitName: string | null;
}

function resolveColumns(table: ParsedTable, mapping: ColumnMapping, options: BuildDatasetOptions): ResolvedColumns {
  const available = `The file's columns are: ${table.columns.join(', ')}.`;
  const indexOf = (name: string, role: string): number => {
    const j = table.columns.indexOf(name);
    if (j < 0) {
      throw new StudioError('data', `The ${role} column "${name}" does not exist in this file.`, `Choose one of its columns. ${available}`);
    }
    return j;
  };
  const textNames = [...new Set(mapping.textColumns ?? [])];
  if (textNames.length === 0) {
    throw new StudioError('data', 'No text column is chosen.', `Choose the column that holds the texts to classify. ${available}`);
  }
  const text = textNames.map((n) => indexOf(n, 'text'));
  if (mapping.labelColumn === null || mapping.labelColumn === undefined || mapping.labelColumn === '') {
    throw new StudioError(
      'data',
      'No label column is chosen, and none could be recognised in this file.',
      `Choose the column that holds each row's label (its class), or add one named "label". ${available}`,
    );
  }
  const label = indexOf(mapping.labelColumn, 'label');
  if (textNames.includes(mapping.labelColumn)) {
    throw new StudioError(
      'data',
      `The column "${mapping.labelColumn}" is chosen both as text and as label.`,
      'The label must be a separate column that names each row\'s class.',
    );
  }
  const roles = new Map<string, string>(textNames.map((n) => [n, 'text']));
  roles.set(mapping.labelColumn, 'label');
  const other = (name: string | null | undefined, role: string): number | null => {
    if (name === null || name === undefined || name === '') return null;
    const j = indexOf(name, role);
    const clash = roles.get(name);
    if (clash) {
      throw new StudioError('data', `The column "${name}" is chosen both as ${clash} and as ${role}.`, `Choose a different ${role} column, or none.`);
    }
    roles.set(name, role);
    return j;
  };
  const taskName = mapping.taskColumn ?? null;
  const task = other(taskName, 'task');
  const splitName = options.splitColumn === undefined ? (mapping.splitColumn ?? null) : options.splitColumn;
  const split = other(splitName, 'split');
  return {
    text,
    textNames,
    label,
    labelName: mapping.labelColumn,
    task,
    taskName: task === null ? null : taskName,
    split,
    splitName: split === null ? null : splitName,
  };
}

function noRowsError(problems: RowProblem[]): StudioError {
  if (problems.length === 0) {
    return new StudioError('data', 'The file has no data rows.', 'Add at least two labeled rows under the header.');
  }
  const shown = problems
    .slice(0, 3)
    .map((p) => `line ${p.line}: ${p.reason}`)
    .join(' ');
  return new StudioError(
    'data',
    `None of the rows could be used (${plural(problems.length, 'row was', 'rows were')} rejected). ${shown}`,
    'Check the delimiter, quotes and column choice; the list of rejected rows says what is wrong with each.',
  );
}

/** Distinct labels past which, when they are also more than a fifth of the rows, labels are taken for free text. */
export const FREE_TEXT_LABELS_FROM = 33;

/**
 * Classification labels repeat; free-text targets (a question's answer, a sentence's
 * continuation) are mostly unique. Such data is split without regard to its labels, and its
 * evaluations check each example's own target rather than rank them all (tuning/config.ts).
 */
export function labelsLookLikeFreeText(labels: number, rows: number): boolean {
  return labels >= FREE_TEXT_LABELS_FROM && labels > rows / 5;
}

function randomSplit(examples: Example[], fraction: number, seed: number, warnings: string[]): void {
  const strata = new Map<string, number[]>();
  // Free-text targets: stratifying by them would keep every unique one in training.
  const byLabel = !labelsLookLikeFreeText(new Set(examples.map((e) => e.label)).size, examples.length);
  for (let k = 0; k < examples.length; k++) {
    const e = examples[k];
    const label = byLabel ? e.label : '';
    const key = e.task === undefined ? label : `${e.task}\u0000${label}`;
    let group = strata.get(key);
    if (!group) strata.set(key, (group = []));
    group.push(k);
  }
  const singletons: string[] = [];
  let validation = 0;
  for (const [key, group] of strata) {
    if (group.length < 2) {
      const e = examples[group[0]];
      singletons.push(e.task === undefined ? `"${e.label}"` : `"${e.label}" (task "${e.task}")`);
      continue;
    }
    const n = group.length;
    const take = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    const order = shuffleInPlace([...group], createRng(hashString(key, seed)));
    for (let t = 0; t < take; t++) examples[order[t]].split = 'validation';
    validation += take;
  }
  if (singletons.length > 0) {
    warnings.push(
      `${singletons.length === 1 ? 'Label' : 'Labels'} ${listSome(singletons)} ${singletons.length === 1 ? 'has' : 'have'} only one example, ` +
        'which stays in training, so the model cannot be validated on it. Add more examples of it.',
    );
  }
  if (validation === 0) {
    throw new StudioError(
      'data',
      'Every label has a single example, so nothing can be held out for validation.',
      'Add at least two examples for each label.',
    );
  }
}

function checkFixedSplit(examples: Example[], splitName: string, testRows: number, warnings: string[]): void {
  const trainLabels = new Set<string>();
  const valLabels = new Set<string>();
  for (const e of examples) (e.split === 'train' ? trainLabels : valLabels).add(e.label);
  if (valLabels.size === 0) {
    throw new StudioError(
      'data',
      `The split column "${splitName}" marks no usable rows for validation.`,
      'Mark some rows as validation (or val, dev, test), or choose no split column to split at random.',
    );
  }
  if (trainLabels.size === 0) {
    throw new StudioError(
      'data',
      `The split column "${splitName}" marks no usable rows for training.`,
      'Mark some rows as train, or choose no split column to split at random.',
    );
  }
  if (testRows > 0) {
    warnings.push(`${plural(testRows, 'row marked "test" is', 'rows marked "test" are')} used for validation.`);
  }
  const unseen = sortNames(valLabels).filter((l) => !trainLabels.has(l));
  if (unseen.length > 0) {
    warnings.push(`Label${unseen.length === 1 ? '' : 's'} ${listSome(unseen.map((l) => `"${l}"`))} only occur in validation rows, so the model never trains on ${unseen.length === 1 ? 'it' : 'them'}.`);
  }
  const untested = sortNames(trainLabels).filter((l) => !valLabels.has(l));
  if (untested.length > 0) {
    warnings.push(`Label${untested.length === 1 ? '' : 's'} ${listSome(untested.map((l) => `"${l}"`))} have no validation rows, so results for ${untested.length === 1 ? 'it' : 'them'} cannot be checked.`);
  }
}

function labelStats(examples: Example[], names: string[]): LabelStats[] {
  const byName = new Map<string, LabelStats>(names.map((name) => [name, { name, count: 0, trainCount: 0, validationCount: 0 }]));
  for (const e of examples) {
    const s = byName.get(e.label)!;
    s.count++;
    if (e.split === 'train') s.trainCount++;
    else s.validationCount++;
  }
  return names.map((n) => byName.get(n)!);
}

function warnSingleLabelTasks(examples: Example[], tasks: string[], warnings: string[]): void {
  const labelsByTask = new Map<string, Set<string>>();
  for (const e of examples) {
    const t = e.task ?? '';
    let set = labelsByTask.get(t);
    if (!set) labelsByTask.set(t, (set = new Set()));
    set.add(e.label);
  }
  const single = tasks.filter((t) => (labelsByTask.get(t)?.size ?? 0) < 2);
  if (single.length > 0) {
    warnings.push(`Task${single.length === 1 ? '' : 's'} ${listSome(single.map((t) => `"${t}"`))} ha${single.length === 1 ? 's' : 've'} only one label, so there is nothing to learn for ${single.length === 1 ? 'it' : 'them'}.`);
  }
}

/** What two labels that look the same share: Unicode compatibility form, no invisible characters, one case, one kind of space. */
function lookalikeKey(label: string): string {
  return label.normalize('NFKC').replace(/[\p{Cf}\p{Cc}\u034f\ufe00-\ufe0f]/gu, '').toLowerCase().replace(/[\s_\-\u2010-\u2015]+/g, ' ').trim();
}

/** A label as the user can read it: invisible and unusual characters spelled out as <U+200B>. */
function visibleLabel(label: string): string {
  const spelled = label.replace(/[^\p{L}\p{N}\p{P}\p{S} ]/gu, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
  return `"${spelled}"`;
}

function warnLookalikeLabels(labels: string[], warnings: string[]): void {
  const byKey = new Map<string, string[]>();
  for (const l of labels) {
    const key = lookalikeKey(l);
    const list = byKey.get(key) ?? [];
    list.push(l);
    byKey.set(key, list);
  }
  const groups = [...byKey.values()].filter((g) => g.length > 1).map((g) => g.map(visibleLabel).join(' / '));
  if (groups.length > 0) {
    warnings.push(`Some labels look alike but are written differently (${listSome(groups)}): they differ only in capitals, spaces, dashes, invisible characters or Unicode forms. `
      + 'They are treated as different classes; fix the file if they are the same.');
  }
}

/**
 * Exact duplicate texts are common in scraped data (the SMS corpus has hundreds). They are kept,
 * but copies on both sides of the split make validation scores look better than they are.
 */
function warnDuplicates(examples: Example[], warnings: string[]): void {
  const seen = new Map<string, { labels: Set<string>; train: boolean; validation: boolean; count: number }>();
  for (const e of examples) {
    let s = seen.get(e.text);
    if (!s) seen.set(e.text, (s = { labels: new Set(), train: false, validation: false, count: 0 }));
    s.count++;
    s.labels.add(e.label);
    if (e.split === 'train') s.train = true;
    else s.validation = true;
  }
  let extra = 0;
  let repeated = 0;
  let conflicting = 0;
  let bothSides = 0;
  for (const s of seen.values()) {
    if (s.count > 1) {
      repeated++;
      extra += s.count - 1;
      if (s.train && s.validation) bothSides++;
    }
    if (s.labels.size > 1) conflicting++;
  }
  if (repeated > 0) {
    let message = `${plural(repeated, 'text occurs', 'texts occur')} more than once (${plural(extra, 'extra copy', 'extra copies')}).`;
    if (bothSides > 0) {
      message += ` ${plural(bothSides, 'of them is', 'of them are')} in both train and validation, which makes validation scores look better than they are.`;
    }
    warnings.push(message);
  }
  if (conflicting > 0) {
    warnings.push(`${plural(conflicting, 'text has', 'texts have')} different labels in different rows; the model cannot get both right.`);
  }
}

function truncateText(text: string, max: number, side: 'left' | 'right'): string {
  if (side === 'right') {
    let out = text.slice(0, max);
    const last = out.charCodeAt(out.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
    return out;
  }
  let out = text.slice(text.length - max);
  const first = out.charCodeAt(0);
  if (first >= 0xdc00 && first <= 0xdfff) out = out.slice(1);
  return out;
}

/**
 * The strings the model scores for each label: a leading space (so they tokenize as a word
 * after the prompt) and underscores/hyphens as spaces ("very_positive" → " very positive").
 * If two labels would become the same string, those keep their raw spelling.
 */
export function defaultVerbalizer(labels: readonly (string | { name: string })[]): Record<string, string> {
  const names = labels.map((l) => (typeof l === 'string' ? l : l.name));
  const pretty = names.map((n) => {
    const words = n.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim();
    return ' ' + (words === '' ? n.trim() : words);
  });
  const uses = new Map<string, number>();
  for (const p of pretty) uses.set(p, (uses.get(p) ?? 0) + 1);
  return Object.fromEntries(names.map((n, i) => [n, (uses.get(pretty[i]) ?? 0) > 1 ? ' ' + n.trim() : pretty[i]]));
}

/** What the page is told of a built dataset (its rows stay in the worker). */
export function summarizeDataset(dataset: Dataset) {
  return {
    labels: dataset.labels,
    tasks: dataset.tasks,
    trainCount: dataset.examples.filter((e) => e.split === 'train').length,
    validationCount: dataset.examples.filter((e) => e.split === 'validation').length,
    rejected: dataset.rejected,
    warnings: dataset.warnings,
    verbalizer: defaultVerbalizer(dataset.labels),
  };
}

/** Numbers in numeric order, other names by code point: locale-independent, so the same everywhere. */
function sortNames(names: Iterable<string>): string[] {
  const isNum = (s: string) => /^[-+]?\d+(\.\d+)?$/.test(s);
  return [...names].sort((a, b) => {
    const na = isNum(a);
    const nb = isNum(b);
    if (na && nb) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
    if (na !== nb) return na ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function describeColumns(names: string[]): string {
  return names.length === 1 ? `column "${names[0]}"` : `columns ${names.map((n) => `"${n}"`).join(', ')}`;
}

/** Items for one line of text: the first `max`, and how many more (free-text labels come by the thousand). */
export function listSome(items: string[], max = 8): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
