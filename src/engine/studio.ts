/**
 * The studio's engine as one object: model, data, training run. The worker maps messages
 * onto its methods and forwards its events; tests and the CLI call it directly. It holds
 * every piece of state the page must not (tensors, parsed rows, the trainer) and emits
 * plain-data events.
 */
import Papa from 'papaparse';
import { buildDataset, defaultVerbalizer, guessMapping, readCsv, type ColumnMapping, type Dataset, type ParsedTable } from '../data';
import { StudioError, serializeError } from '../errors';
import type { ModelSource } from '../model/package';
import { readAdapterBundle, type StudioFile } from '../formats/bundle';
import { checkAdapterFits } from '../formats/peft';
import { validateTrainConfig, type TrainConfig } from '../tuning/config';
import { methodFromPeft } from '../tuning/methods/fromPeft';
import type { MethodKind } from '../tuning/methods/types';
import { methodPrompt, type PromptSource } from '../tuning/objective';
import { encodeInput, labelOnlyTask, prepareTask, type PreparedTask } from '../tuning/task';
import { RunControl, Trainer, type Evaluation, type RunSnapshot, type RunSummary } from '../tuning/trainer';
import type {
  AdapterInfo, BatchPredictArgs, DatasetSummary, EvaluationSummary, ImportAdapterArgs, LibraryEntry, Prediction, ProjectionSummary, PromptVariant, RunInfo, 
  SplitOptions, StartTrainingArgs, TableSummary, EngineEvent,
} from './api';
import {
  onWebGPUDeviceLost, restartAfterDeviceLoss, selectBackend, type BackendChoice, type BackendOptions, type BackendPreference,
} from './backend';
import {
  adapterFiles, adapterZip, checkSameLabels, checkSameSplit, decodeRunCheckpoint, encodeRunCheckpoint, type AdapterExportInput, type EvaluationRecord,
} from './runFiles';
import { predictMixed, type LibraryPrompt, type MixedRow } from './library';
import { ModelSession, type ModelFacts } from './session';

function summarize(e: Evaluation): EvaluationSummary {
  return { step: e.step, loss: e.loss, report: e.report, examples: e.examples };
}

interface ActiveRun {
  info: RunInfo;
  trainer: Trainer;
  task: PreparedTask;
  control: RunControl;
  finished: Promise<RunSummary | null>;
  lastEvaluation: Evaluation | null;
  /** The latest checkpoint, kept in memory so a lost GPU device costs at most checkpointEvery steps. */
  lastSnapshot: RunSnapshot | null;
  /** Every evaluation so far (all prompt variants), for checkpoints and the exported card. */
  history: EvaluationRecord[];
  /** Set when the prompt came from an adapter file rather than training here. */
  adapter: AdapterInfo | null;
}

function record(variant: PromptVariant, e: Evaluation | EvaluationSummary): EvaluationRecord {
  return { step: e.step, variant, loss: e.loss, accuracy: e.report.accuracy, macroF1: e.report.macroF1 };
}

const toArrayBuffer = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export class StudioEngine {
  backend: BackendChoice | null = null;
  session: ModelSession | null = null;
  private table: ParsedTable | null = null;
  private fileName = '';
  private dataset: Dataset | null = null;
  private run: ActiveRun | null = null;
  private runCounter = 0;
  private readonly library = new Map<string, LibraryPrompt & { entry: LibraryEntry }>();

  constructor(
    private readonly emit: (e: EngineEvent, transfer?: Transferable[]) => void,
    private readonly options: { backendOptions?: BackendOptions; now?: () => Date } = {},
  ) {}

  private deviceLost: string | null = null;
  /** Set by tests (through the worker's test hook) to make the next training step fail. */
  failNextStep = false;

  async init(preference: BackendPreference, flags?: Record<string, number | boolean>): Promise<BackendChoice> {
    this.backend = await selectBackend(preference, { ...this.options.backendOptions, flags });
    onWebGPUDeviceLost((reason) => {
      this.deviceLost = reason;
      // Without a run in progress there is nothing to wait for: recover now.
      if (this.finishedFlag) void this.recoverFromDeviceLoss(null);
    });
    return this.backend;
  }

  /**
   * A lost GPU device takes every tensor with it. Start a backend again (a fresh WebGPU
   * device, else wasm), rebuild the model from the package still in memory, and continue the
   * run from its last in-memory checkpoint.
   */
  private async recoverFromDeviceLoss(run: ActiveRun | null): Promise<RunSummary | null> {
    const reason = this.deviceLost ?? 'unknown reason';
    this.deviceLost = null;
    const runId = run?.info.runId ?? null;
    if (runId) this.emit({ event: 'trainingPhase', runId, phase: 'recovering' });
    const pkg = this.session?.pkg;
    this.backend = await restartAfterDeviceLoss();
    this.session = pkg ? ModelSession.fromPackage(pkg, this.backend) : null;
    if (!run || !this.session) {
      this.emit({ event: 'deviceLost', runId, reason, backend: this.backend, resumedFromStep: null });
      return null;
    }
    const trainer = await Trainer.create(this.session.model, this.session.tokenizer, run.task, run.info.config);
    if (run.lastSnapshot) trainer.restore(run.lastSnapshot);
    const resumed: ActiveRun = {
      ...run, trainer, control: new RunControl(), info: { ...run.info, startStep: trainer.step }, finished: Promise.resolve(null),
    };
    this.run = resumed;
    this.emit({ event: 'deviceLost', runId, reason, backend: this.backend, resumedFromStep: trainer.step });
    return this.execute(resumed);
  }

  async loadModel(source: ModelSource): Promise<ModelFacts> {
    if (!this.backend) throw new StudioError('model', 'The engine is not started yet.');
    if (this.run && !this.runFinished) throw new StudioError('model', 'A training run is in progress.', 'Stop it before loading another model.');
    // The studio trains against the int8 model: a float HF checkpoint is quantized as it loads.
    const next = await ModelSession.open(source, this.backend, ({ file, loaded, total }) =>
      this.emit({ event: 'loadProgress', file, loaded, total }), { quantize: true });
    // Only a model that loaded completely replaces the current one.
    this.disposeRun();
    this.clearLibrary();
    this.session?.dispose();
    this.session = next;
    return next.facts();
  }

  private requireSession(): ModelSession {
    if (!this.session) throw new StudioError('model', 'No model is loaded yet.');
    return this.session;
  }

  // ---- data -------------------------------------------------------------------------

  async loadTable(fileName: string, bytes: Uint8Array): Promise<TableSummary> {
    const table = await readCsv(bytes, { onProgress: (fraction) => this.emit({ event: 'tableProgress', fraction }) });
    if (table.rows.length === 0) {
      throw new StudioError('csv', `${fileName} has no data rows${table.columns.length ? ' (only a header)' : ''}.`,
        'Use a file with a header line and one row per example.');
    }
    this.table = table;
    this.fileName = fileName;
    this.dataset = null;
    return {
      fileName,
      columns: table.columns,
      rowCount: table.rows.length,
      preview: table.rows.slice(0, 20),
      delimiter: table.delimiter,
      hasHeader: table.hasHeader,
      encoding: table.encoding ?? null,
      problems: table.problems,
      warnings: table.warnings,
      guess: guessMapping(table),
    };
  }

  buildDataset(mapping: ColumnMapping, split: SplitOptions): DatasetSummary {
    if (!this.table) throw new StudioError('data', 'No CSV is loaded yet.', 'Upload a labeled CSV first.');
    const dataset = buildDataset(this.table, mapping, {
      validationFraction: split.validationFraction,
      seed: split.seed,
      splitColumn: split.splitColumn ?? null,
    });
    this.dataset = dataset;
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

  // ---- training ---------------------------------------------------------------------

  /** True when no run is executing (none started, or the last one ended). */
  private finishedFlag = true;

  get runFinished(): boolean {
    return this.finishedFlag;
  }

  async startTraining(args: StartTrainingArgs): Promise<RunInfo> {
    const session = this.requireSession();
    if (!this.dataset) throw new StudioError('data', 'No dataset is ready.', 'Upload a CSV and map its columns first.');
    if (!this.finishedFlag) throw new StudioError('training', 'A training run is already in progress.', 'Stop it first.');
    const trainCount = this.dataset.examples.filter((e) => e.split === 'train').length;
    const data = { trainExamples: trainCount, tasks: this.dataset.tasks.length };
    // A resumed run goes on with the settings it was trained with (only more steps may be asked for).
    const resumed = args.resumeFrom ? decodeRunCheckpoint(new Uint8Array(args.resumeFrom), session.fingerprint) : null;
    if (resumed) checkSameLabels(resumed, this.dataset.labels.map((l) => l.name));
    const config = resumed
      ? validateTrainConfig({ ...resumed.config, steps: Math.max(resumed.config.steps, args.config.steps ?? 0) }, data)
      : validateTrainConfig(args.config, data);
    const task = prepareTask(session.tokenizer, this.dataset, {
      template: config.template, verbalizer: resumed?.verbalizer ?? args.verbalizer, maxLength: config.maxLength, truncateSide: config.truncateSide,
    }, session.pkg.config.maxPositions, config.numVirtualTokens);
    if (resumed) checkSameSplit(resumed, task);
    this.disposeRun();
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    if (resumed) {
      try {
        trainer.restore(resumed.snapshot);
      } catch (e) {
        trainer.dispose();
        throw e;
      }
    }
    const info: RunInfo = {
      runId: args.runId ?? `run-${Date.now().toString(36)}-${++this.runCounter}`,
      config, labels: task.labels, trainCount: task.train.length, validationCount: task.validation.length,
      truncated: task.truncated, startStep: trainer.step, verbalizer: task.verbalizer,
    };
    const control = new RunControl();
    this.finishedFlag = false;
    const active: ActiveRun = {
      info, trainer, task, control, finished: Promise.resolve(null), lastEvaluation: null, lastSnapshot: null,
      history: resumed?.history ?? [], adapter: null,
    };
    this.run = active;
    active.finished = this.execute(active);
    return info;
  }

  private async execute(run: ActiveRun): Promise<RunSummary | null> {
    const { runId } = run.info;
    const { trainer } = run;
    const phase = (p: 'preparing' | 'baseline' | 'training' | 'paused' | 'finishing' | 'done') =>
      this.emit({ event: 'trainingPhase', runId, phase: p });
    try {
      // Let the reply to startTraining reach the page before the first heavy work.
      await new Promise((r) => setTimeout(r, 0));
      if (run.info.startStep === 0) {
        phase('baseline');
        const zero = await trainer.evaluate(null);
        run.history.push(record('zero-shot', zero));
        this.emit({ event: 'baseline', runId, variant: 'zero-shot', evaluation: summarize(zero) });
        const instruction = trainer.baselineInstruction();
        const text = await trainer.evaluate(trainer.textPrompt(instruction));
        run.history.push(record('text', text));
        this.emit({ event: 'baseline', runId, variant: 'text', evaluation: summarize(text), prompt: instruction });
      }
      phase('training');
      const summary = await trainer.run(run.control, {
        onStep: (step) => {
          this.emit({ event: 'step', runId, step });
          if (this.failNextStep) {
            this.failNextStep = false;
            throw new Error(`simulated failure after step ${step.step}`);
          }
        },
        onEvaluation: (e) => {
          run.lastEvaluation = e;
          run.history.push(record('soft', e));
          this.emit({ event: 'evaluation', runId, variant: 'soft', evaluation: summarize(e) });
        },
        onProjection: (p) => this.emit({ event: 'projection', runId, projection: p }),
        onCheckpoint: (s) => {
          run.lastSnapshot = s;
          const buffer = toArrayBuffer(this.encodeCheckpoint(run, s));
          this.emit({ event: 'checkpoint', runId, step: s.step, bytes: buffer }, [buffer]);
        },
        onLog: (message) => this.emit({ event: 'log', level: 'warn', message }),
      });
      phase('finishing');
      if (summary.stoppedBy !== 'non-finite-loss') {
        const discrete = await trainer.discretePrompt();
        if (discrete) {
          const evaluation = await trainer.evaluate(discrete.source);
          run.history.push(record('discrete', evaluation));
          this.emit({ event: 'evaluation', runId, variant: 'discrete', evaluation: summarize(evaluation) });
        }
      }
      this.emit({ event: 'trainingEnded', runId, summary });
      phase('done');
      return summary;
    } catch (e) {
      // A destroyed device makes GPU reads fail, sometimes before `device.lost` resolves.
      if (this.deviceLost === null && this.backend?.backend === 'webgpu') {
        await new Promise<void>((resolve) => {
          const stop = onWebGPUDeviceLost(() => resolve());
          setTimeout(() => { stop(); resolve(); }, 1000);
        });
      }
      if (this.deviceLost !== null) {
        // Errors after a device loss are its symptoms; recovery replaces this run's execution.
        return this.recoverFromDeviceLoss(run);
      }
      this.emit({ event: 'trainingError', runId, error: serializeError(e) });
      return null;
    } finally {
      if (this.run === run) this.finishedFlag = true;
    }
  }

  private encodeCheckpoint(run: ActiveRun, snapshot: RunSnapshot): Uint8Array {
    return encodeRunCheckpoint(snapshot, { config: run.info.config, task: run.task, history: run.history }, this.requireSession().fingerprint, run.trainer.method.kind);
  }

  /** Resolves when the current run has finished (for tests and the CLI). */
  async waitForRun(): Promise<RunSummary | null> {
    return this.run ? this.run.finished : null;
  }

  private requireRun(): ActiveRun {
    if (!this.run) throw new StudioError('training', 'No training run yet.', 'Press Train first.');
    return this.run;
  }

  /**
   * Answers once training has actually stopped: a step already dispatched still lands
   * first, so the page says "Pausing…" until then and "Paused at step N" after, exactly.
   */
  async pause(): Promise<void> {
    const run = this.requireRun();
    const { control } = run;
    control.pause();
    const reached = await Promise.race([control.whenPaused().then(() => true), run.finished.then(() => false)]);
    if (reached && control.paused && this.run === run) this.emit({ event: 'trainingPhase', runId: run.info.runId, phase: 'paused' });
  }

  resume(): void {
    const run = this.requireRun();
    run.control.resume();
    this.emit({ event: 'trainingPhase', runId: run.info.runId, phase: 'training' });
  }

  stop(): void {
    const run = this.requireRun();
    run.control.stop();
  }

  private async promptFor(variant: PromptVariant, trainer: Trainer): Promise<PromptSource> {
    switch (variant) {
      case 'soft':
        return methodPrompt(trainer.method);
      case 'zero-shot':
        return null;
      case 'text':
        return trainer.textPrompt(trainer.baselineInstruction());
      case 'discrete': {
        const d = await trainer.discretePrompt();
        if (!d) throw new StudioError('training', 'This method has no discrete projection (prefix tuning without projection).');
        return d.source;
      }
    }
  }

  /**
   * Metrics of a prompt variant on the validation examples training evaluates on, or (scope
   * 'all', for the CLI) on every example of the loaded data, training split included.
   */
  async evaluate(variant: PromptVariant, scope: 'validation' | 'all' = 'validation'): Promise<EvaluationSummary> {
    const run = this.requireRun();
    const { trainer, task } = run;
    if (task.validation.length === 0) {
      throw new StudioError('data', 'There is no validation data with this prompt\'s labels to evaluate on.',
        `Load a CSV whose labels are ${task.labels.join(', ')} (Data step), then load the adapter again.`);
    }
    const examples = scope === 'all' ? [...task.train, ...task.validation] : trainer.evaluationSet();
    const evaluation = await trainer.evaluate(await this.promptFor(variant, trainer), examples);
    // Asked for between runs (an imported prompt): these are the predictions the CSV download holds.
    if (variant === 'soft' && scope === 'validation' && this.finishedFlag) run.lastEvaluation = evaluation;
    return summarize(evaluation);
  }

  async project(task = 0): Promise<ProjectionSummary> {
    return this.requireRun().trainer.project(task);
  }

  async predict(texts: string[], variants: PromptVariant[]): Promise<Prediction[]> {
    const run = this.requireRun();
    const session = this.requireSession();
    const { task, trainer } = run;
    const examples = texts.map((text) => ({
      inputIds: encodeInput(session.tokenizer, task.template, text, task.maxLength, run.info.config.truncateSide).ids,
      label: -1, targetIds: [], task: 0,
    }));
    const out: Prediction[] = texts.map((text) => ({ text, probabilities: {} }));
    for (const variant of variants) {
      const e = await trainer.evaluate(await this.promptFor(variant, trainer), examples);
      e.probabilities.forEach((p, i) => (out[i].probabilities[variant] = p));
    }
    return out;
  }

  /** The validation predictions of the last evaluation as CSV, formula-looking cells neutralized. */
  exportPredictions(): { fileName: string; csv: string } {
    const run = this.requireRun();
    const e = run.lastEvaluation;
    if (!e || !this.dataset) throw new StudioError('training', 'There are no validation predictions yet.', 'Train until the first evaluation.');
    const byId = new Map(this.dataset.examples.map((x) => [x.id, x]));
    const rows = e.predictions.map((predicted, i) => {
      const example = byId.get(run.task.validationIds[i])!;
      return {
        line: example.line,
        text: example.text,
        label: example.label,
        predicted: run.task.labels[predicted],
        correct: example.label === run.task.labels[predicted] ? 'yes' : 'no',
        ...Object.fromEntries(run.task.labels.map((l, j) => [`p(${l})`, e.probabilities[i][j].toFixed(6)])),
      };
    });
    // escapeFormulae prefixes ' to cells starting with = + - @ tab or CR, so a spreadsheet shows them as text.
    const csv = Papa.unparse(rows, { escapeFormulae: true, newline: '\r\n' });
    const base = this.fileName.replace(/\.[^.]+$/, '') || 'data';
    return { fileName: `${base}-predictions-step${e.step}.csv`, csv };
  }

  // ---- export and import -----------------------------------------------------------------

  private async exportInput(run: ActiveRun): Promise<AdapterExportInput> {
    const session = this.requireSession();
    const latest = (variant: string) => [...run.history].reverse().find((h) => h.variant === variant);
    const metrics: Record<string, number | string> = { step: run.trainer.step };
    for (const variant of ['soft', 'zero-shot', 'text', 'discrete']) {
      const h = latest(variant);
      if (h) {
        const name = variant === 'soft' ? 'validation' : variant;
        metrics[`${name}_accuracy`] = h.accuracy;
        metrics[`${name}_macro_f1`] = h.macroF1;
        if (variant === 'soft') metrics.validation_loss = h.loss;
      }
    }
    const imported = this.imported.get(run.info.runId);
    const checkpoint = imported ? imported.checkpoint ?? undefined : this.encodeCheckpoint(run, await run.trainer.snapshot());
    // An imported studio adapter keeps what it was made with: exported again, it is the same file.
    const original = imported?.studio;
    return {
      method: run.trainer.method,
      config: run.info.config,
      task: run.task,
      modelConfig: session.pkg.config,
      baseModel: session.baseModelName,
      fingerprint: original?.modelFingerprint ?? session.fingerprint,
      metrics: original && run.history.length === 0 ? original.metrics as Record<string, number | string> : metrics,
      history: run.history,
      createdAt: original?.createdAt ?? (this.options.now?.() ?? new Date()).toISOString(),
      checkpoint,
    };
  }

  private exportBaseName(run: ActiveRun): string {
    const data = (this.fileName.replace(/\.[^.]+$/, '') || 'prompt').replace(/[^\w.-]+/g, '_');
    return run.adapter ? run.adapter.fileName.replace(/\.zip$/i, '').replace(/[^\w.-]+/g, '_')
      : `${data}-${run.info.config.method}-step${run.trainer.step}`;
  }

  /** The PEFT adapter zip of the current prompt (with studio.json, a model card and a resumable checkpoint). */
  async exportAdapter(): Promise<{ fileName: string; bytes: Uint8Array }> {
    const run = this.requireRun();
    return { fileName: `${this.exportBaseName(run)}.zip`, bytes: await adapterZip(await this.exportInput(run)) };
  }

  /** The same files unzipped, by name (the CLI writes them as a folder). */
  async exportAdapterFiles(): Promise<Map<string, Uint8Array>> {
    return adapterFiles(await this.exportInput(this.requireRun()));
  }

  /** The latest resumable checkpoint of the current run. */
  async exportCheckpoint(): Promise<{ fileName: string; bytes: Uint8Array }> {
    const run = this.requireRun();
    if (run.adapter) throw new StudioError('checkpoint', 'An imported adapter has no training state to checkpoint.', 'Train a prompt here to get a resumable checkpoint.');
    return { fileName: `${this.exportBaseName(run)}.checkpoint.safetensors`, bytes: this.encodeCheckpoint(run, await run.trainer.snapshot()) };
  }

  /** What an imported adapter brought beyond its weights, by run id. */
  private readonly imported = new Map<string, { studio: StudioFile | null; checkpoint: Uint8Array | null }>();

  /**
   * A PEFT prompt adapter (zip, or a folder's files) becomes the current prompt: predictions,
   * the playground and projections work on it. Labels, template and verbalizer come from its
   * studio.json, else from the loaded data and the page's settings.
   */
  async importAdapter(args: ImportAdapterArgs): Promise<AdapterInfo> {
    const session = this.requireSession();
    if (!this.finishedFlag) throw new StudioError('training', 'A training run is in progress.', 'Stop it before importing an adapter.');
    const bundle = readAdapterBundle(args.files ?? args.zip!);
    const exported = checkAdapterFits(bundle.adapter, session.pkg.config);
    const studio = bundle.studio;
    const labels = studio?.labels ?? this.dataset?.labels.map((l) => l.name) ?? [];
    if (labels.length === 0) {
      throw new StudioError('adapter', `${args.fileName} has no studio.json, so the studio does not know which labels it predicts.`,
        'Load the CSV it was trained for first (Data step); its labels and your verbalizer are used.');
    }
    const verbalizer = studio?.verbalizer ?? args.fallback?.verbalizer ?? defaultVerbalizer(this.dataset!.labels);
    const method = methodFromPeft(exported, session.pkg.config);
    try {
      let config: TrainConfig;
      try {
        config = validateTrainConfig({ ...(studio?.trainingConfig as Partial<TrainConfig> | undefined), method: (studio?.method ?? method.kind) as MethodKind, numVirtualTokens: method.numVirtualTokens });
      } catch {
        config = validateTrainConfig({ method: method.kind, numVirtualTokens: method.numVirtualTokens });
      }
      if (!studio && args.fallback?.template) config = { ...config, template: args.fallback.template };
      const setup = { template: config.template, verbalizer, maxLength: config.maxLength, truncateSide: config.truncateSide };
      const datasetFits = this.dataset !== null && this.dataset.labels.length === labels.length
        && this.dataset.labels.every((l) => labels.includes(l.name));
      const task = datasetFits
        ? prepareTask(session.tokenizer, this.dataset!, setup, session.pkg.config.maxPositions, method.numVirtualTokens)
        : labelOnlyTask(session.tokenizer, labels, studio?.tasks ?? [], setup, session.pkg.config.maxPositions, method.numVirtualTokens);
      const trainedOn = studio?.modelFingerprint ?? null;
      const fingerprintMatches = trainedOn ? trainedOn.sha256 === session.fingerprint.sha256 : null;
      const runId = `adapter-${Date.now().toString(36)}-${++this.runCounter}`;
      const run: RunInfo = {
        runId, config, labels: task.labels, trainCount: task.train.length, validationCount: task.validation.length,
        truncated: task.truncated, startStep: 0, verbalizer: task.verbalizer,
      };
      const info: AdapterInfo = {
        runId,
        fileName: args.fileName,
        peftType: exported.peftType,
        method: config.method,
        numVirtualTokens: method.numVirtualTokens,
        labels: task.labels,
        verbalizer: task.verbalizer,
        template: task.template,
        tasks: task.tasks,
        baseModel: String(bundle.adapter.config.base_model_name_or_path ?? ''),
        fromStudio: studio !== null,
        trainedOn: trainedOn?.label ?? null,
        fingerprintMatches,
        hasCheckpoint: bundle.checkpoint !== null,
        metrics: studio && studio.metrics && typeof studio.metrics === 'object' ? studio.metrics as Record<string, number | string> : null,
        evaluable: task.validation.length > 0,
        run,
      };
      if (fingerprintMatches === false) {
        this.emit({ event: 'log', level: 'warn', message: `${args.fileName} was trained on ${trainedOn!.label}, not on the loaded model (${session.fingerprint.label}); its predictions may be off.` });
      }
      this.disposeRun();
      const trainer = Trainer.fromMethod(session.model, session.tokenizer, task, config, method);
      this.run = {
        info: run,
        trainer, task, control: new RunControl(), finished: Promise.resolve(null),
        lastEvaluation: null, lastSnapshot: null, history: [], adapter: info,
      };
      this.imported.set(runId, { studio, checkpoint: bundle.checkpoint });
      return info;
    } catch (e) {
      if (!this.run || this.run.trainer.method !== method) method.dispose();
      throw e;
    }
  }

  // ---- prompt library ----------------------------------------------------------------------

  private clearLibrary(): void {
    for (const p of this.library.values()) p.method.dispose();
    this.library.clear();
  }

  listLibrary(): LibraryEntry[] {
    return [...this.library.values()].map((p) => p.entry);
  }

  /**
   * Keeps a copy of the current prompt (trained or imported) under `name`; further
   * training does not change the copy.
   */
  async addToLibrary(name: string): Promise<LibraryEntry> {
    const run = this.requireRun();
    const session = this.requireSession();
    const trimmed = name.trim();
    if (!trimmed) throw new StudioError('library', 'Give the prompt a name.');
    if ([...this.library.values()].some((p) => p.name === trimmed)) {
      throw new StudioError('library', `The library already has a prompt named "${trimmed}".`, 'Choose another name, or remove that one first.');
    }
    const method = methodFromPeft(await run.trainer.method.exportPeft(), session.pkg.config);
    const accuracy = [...run.history].reverse().find((h) => h.variant === 'soft')?.accuracy
      ?? (typeof run.adapter?.metrics?.validation_accuracy === 'number' ? run.adapter.metrics.validation_accuracy : null);
    const entry: LibraryEntry = {
      id: `prompt-${++this.runCounter}`,
      name: trimmed,
      method: run.info.config.method,
      numVirtualTokens: method.numVirtualTokens,
      labels: run.task.labels,
      tasks: run.task.tasks,
      template: run.task.template,
      accuracy,
      source: run.adapter ? run.adapter.fileName : `trained, step ${run.trainer.step}`,
    };
    this.library.set(entry.id, {
      id: entry.id, name: trimmed, method, labels: run.task.labels, verbalizer: run.task.verbalizer, template: run.task.template,
      maxLength: run.task.maxLength, truncateSide: run.info.config.truncateSide, tasks: run.task.tasks, entry,
    });
    return entry;
  }

  removeFromLibrary(id: string): void {
    const p = this.library.get(id);
    if (!p) throw new StudioError('library', 'That prompt is not in the library.');
    p.method.dispose();
    this.library.delete(id);
  }

  /** Rows that each name their prompt, scored in mixed batches through the one model. */
  async predictRows(rows: MixedRow[], batchSize = 16, onProgress?: (done: number, total: number) => void) {
    const session = this.requireSession();
    return predictMixed(session.model, session.tokenizer, [...this.library.values()], rows, { batchSize, onProgress });
  }

  /**
   * Batch prediction over a CSV whose rows name their prompt (and, for multitask prompts,
   * their task): the results as CSV, formula-looking cells neutralized.
   */
  async batchPredict(args: BatchPredictArgs): Promise<{ fileName: string; csv: string; rows: number; failed: number }> {
    const table = await readCsv(args.bytes);
    const column = (name: string | undefined, what: string, required: boolean) => {
      if (name === undefined || name === '') {
        if (required) throw new StudioError('csv', `Choose the ${what} column.`);
        return -1;
      }
      const i = table.columns.indexOf(name);
      if (i < 0) throw new StudioError('csv', `${args.fileName} has no column "${name}" (its columns: ${table.columns.join(', ')}).`);
      return i;
    };
    const textAt = column(args.textColumn, 'text', true);
    const promptAt = column(args.promptColumn, 'prompt', args.prompt === undefined);
    const taskAt = column(args.taskColumn, 'task', false);
    if (table.rows.length === 0) throw new StudioError('csv', `${args.fileName} has no data rows.`);
    const rows: MixedRow[] = table.rows.map((r) => ({
      text: r[textAt],
      prompt: promptAt >= 0 ? r[promptAt] : args.prompt!,
      ...(taskAt >= 0 ? { task: r[taskAt] } : {}),
    }));
    const results = await this.predictRows(rows, args.batchSize ?? 16, (done, total) =>
      this.emit({ event: 'batchProgress', done, total }));
    const labelColumns = [...new Set([...this.library.values()].flatMap((p) => p.labels))];
    const out = table.rows.map((r, i) => {
      const res = results[i];
      return {
        line: table.lineNumbers[i],
        text: r[textAt],
        prompt: rows[i].prompt,
        task: res.ok ? res.task ?? '' : rows[i].task ?? '',
        predicted: res.ok ? res.predicted : '',
        ...Object.fromEntries(labelColumns.map((l) => [`p(${l})`, res.ok && l in res.probabilities ? res.probabilities[l].toFixed(6) : ''])),
        error: res.ok ? '' : res.error,
      };
    });
    const csv = Papa.unparse(out, { escapeFormulae: true, newline: '\r\n' });
    const base = args.fileName.replace(/\.[^.]+$/, '') || 'rows';
    return { fileName: `${base}-predictions.csv`, csv, rows: out.length, failed: results.filter((r) => !r.ok).length };
  }

  private disposeRun(): void {
    if (this.run) {
      const { trainer, control, finished } = this.run;
      control.stop();
      if (this.finishedFlag) trainer.dispose();
      else void finished.then(() => trainer.dispose());
    }
    this.run = null;
  }
}
