/**
 * The studio's engine as one object: model, data, training run. The worker maps messages
 * onto its methods and forwards its events; tests and the CLI call it directly. It holds every
 * piece of state the page must not (tensors, parsed rows, the trainer) and emits plain-data events.
 */
import * as tf from '@tensorflow/tfjs';
import { buildDataset, guessMapping, listSome, readCsv, summarizeDataset, type ColumnMapping, type Dataset, type ParsedTable } from '../data';
import { StudioError, describeError, serializeError } from '../errors';
import type { ModelSource } from '../model/package';
import { validateTrainConfig, type TrainConfig } from '../tuning/config';
import { RunControl } from '../tuning/control';
import { longestTarget, type PreparedTask } from '../tuning/task';
import { measureTokenLengths, type TokenLengths } from '../tuning/tokenLengths';
import { Trainer, type RunSnapshot, type RunSummary } from '../tuning/trainer';
import { Adapters, baseModelZip, encodeCheckpoint } from './adapters';
import type {
  AdapterInfo, BatchPredictArgs, DatasetSummary, EngineEvent, EvaluationSummary, ImportAdapterArgs, LibraryEntry, Prediction,
  ProjectionSummary, PromptVariant, RunInfo, SplitOptions, StartTrainingArgs, TableSummary,
} from './api';
import {
  onWebGPUDeviceLost, restartAfterDeviceLoss, selectBackend, type BackendChoice, type BackendOptions, type BackendPreference,
} from './backend';
import { toArrayBuffer } from '../formats/bytes';
import { batchPredictCsv, predictMixed, predictTexts, validationPredictionsCsv, type MixedRow } from './predictions';
import { executeRun, type ProgressPacing } from './execution';
import { disposeRun, promptFor, summarize, type ActiveRun } from './run';
import { checkSameLabels, checkSameSplit, decodeRunCheckpoint } from './runFiles';
import { measureStepSpeed } from './machineSpeed';
import { checkWeightsFit, memoryBudget, suggestSettings, type LargeModelFrom, type MemoryBudget, type RunMemory } from './memoryBudget';
import { dataFacts, EncodedTasks, evaluatorThatFits, planRunMemory } from './runPlan';
import { ModelSession, type ModelFacts } from './session';

export class StudioEngine {
  backend: BackendChoice | null = null;
  session: ModelSession | null = null;
  private table: ParsedTable | null = null;
  private fileName = '';
  private dataset: Dataset | null = null;
  private run: ActiveRun | null = null;
  private runCounter = 0;
  private readonly adapters: Adapters;

  constructor(
    private readonly emit: (e: EngineEvent, transfer?: Transferable[]) => void,
    private readonly options: { backendOptions?: BackendOptions; now?: () => Date; memoryBudgetBytes?: number; progressPacing?: ProgressPacing; largeModelFrom?: LargeModelFrom } = {},
  ) {
    this.adapters = new Adapters(() => ++this.runCounter, () => this.options.now?.() ?? new Date());
  }

  private deviceLost: string | null = null;
  /** Set by tests (through the worker's test hook) to make the next training step fail. */
  failNextStep = false;
  interruptFlag: Int32Array | null = null; // the page's, for pause and stop: read between a step's layers (control.ts)

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
   * device, else wasm), rebuild the model from its package (read again from its source), and continue the
   * run from its last in-memory checkpoint.
   */
  private async recoverFromDeviceLoss(run: ActiveRun | null): Promise<RunSummary | null> {
    const reason = this.deviceLost ?? 'unknown reason';
    this.deviceLost = null;
    const runId = run?.info.runId ?? null;
    if (runId) this.emit({ event: 'trainingPhase', runId, phase: 'recovering' });
    const lost = this.session;
    this.session = null; // not the lost one while the backend restarts and its source is read again
    this.backend = await restartAfterDeviceLoss();
    this.session = await lost?.rebuild(this.backend).catch((e) => {
      this.emit({ event: 'log', level: 'warn', message: `The model could not be rebuilt after the GPU device was lost (load it again): ${describeError(e)}` });
      return null;
    }) ?? null;
    if (!run || !this.session) {
      this.emit({ event: 'deviceLost', runId, reason, backend: this.backend, resumedFromStep: null });
      return null;
    }
    const plan = this.planRun(run.task, run.info.config);
    const trainer = await Trainer.create(this.session.model, this.session.tokenizer, run.task, run.info.config, { evaluationBatch: plan.evaluationBatch });
    if (run.lastSnapshot) trainer.restore(run.lastSnapshot);
    const resumed: ActiveRun = {
      ...run, ...trainerParts(trainer), control: new RunControl(this.interruptFlag), info: { ...run.info, startStep: trainer.step }, finished: Promise.resolve(null),
    };
    this.run = resumed;
    this.emit({ event: 'deviceLost', runId, reason, backend: this.backend, resumedFromStep: trainer.step });
    return this.execute(resumed);
  }

  async loadModel(source: ModelSource): Promise<ModelFacts> {
    if (!this.backend) throw new StudioError('model', 'The engine is not started yet.');
    if (this.run && !this.runFinished) throw new StudioError('model', 'A training run is in progress.', 'Stop it before loading another model.');
    // The studio trains against the int8 model: a float HF checkpoint is quantized as it loads.
    const budget = this.budget();
    const next = await ModelSession.open(source, this.backend, ({ file, loaded, total, fromCache = false }) =>
      this.emit({ event: 'loadProgress', file, loaded, total, fromCache }), { quantize: true, checkConfig: (config) => checkWeightsFit(config, budget, config.architecture) });
    // Only a model that loaded completely replaces the current one.
    this.disposeRun();
    this.adapters.clear();
    this.session?.dispose();
    this.session = next;
    const facts = next.facts();
    const suggestedSettings = suggestSettings(next.pkg.config, facts.parameters, budget, tf.memory().numBytes, this.options.largeModelFrom);
    return { ...facts, suggestedSettings, stepSpeed: await measureStepSpeed(next.pkg.config, facts.parameters, this.options.largeModelFrom) };
  }

  private requireSession(): ModelSession {
    if (!this.session) throw new StudioError('model', 'No model is loaded yet.');
    return this.session;
  }

  /** What the backend can hold (an override in tests and benchmarks). */
  private budget(): MemoryBudget {
    return memoryBudget(this.backend!, this.options.memoryBudgetBytes);
  }

  /**
   * Whether a run's steps and evaluations fit the backend, before anything is allocated: a
   * refusal names the largest batch and length that fit; otherwise the model recomputes MLP
   * pre-activations in the backward if keeping them would cost too much, and evaluation
   * batches shrink to what fits.
   */
  private planRun(task: PreparedTask, config: TrainConfig): RunMemory {
    const session = this.requireSession();
    const plan = planRunMemory(session, this.budget(), task, config);
    session.model.mlpRecompute = plan.mlpRecompute;
    return plan;
  }

  private readonly encodedTasks = new EncodedTasks();

  /** What a run at these settings would hold, or its refusal, without starting it: the Method step says it before Train. */
  previewRun(args: Pick<StartTrainingArgs, 'config' | 'verbalizer'>): RunMemory {
    const session = this.requireSession();
    if (!this.dataset) throw new StudioError('data', 'No dataset is ready.', 'Upload a CSV and map its columns first.');
    const config = validateTrainConfig(args.config, dataFacts(this.dataset));
    const task = this.encodedTasks.get(session, this.dataset, {
      template: config.template, verbalizer: args.verbalizer, maxLength: config.maxLength, truncateSide: config.truncateSide, scoring: config.scoring,
    }, config.numVirtualTokens);
    return planRunMemory(session, this.budget(), task, config);
  }

  // ---- data -------------------------------------------------------------------------

  /** `options.hasHeader` says whether the first line is a header (the CLI's --header / --no-header); guessed otherwise. */
  async loadTable(fileName: string, bytes: Uint8Array, options: { hasHeader?: boolean } = {}): Promise<TableSummary> {
    const table = await readCsv(bytes, { ...options, onProgress: (fraction) => this.emit({ event: 'tableProgress', fraction }) });
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
    return summarizeDataset(dataset);
  }

  /** The dataset's token lengths through the template and the model's tokenizer (a sample past `limit` rows, none counted past `cap`): what the max length cuts, how wide batches come out. */
  tokenLengths(template: string, limit?: number, cap?: number): TokenLengths {
    if (!this.dataset) throw new StudioError('data', 'No dataset is ready.', 'Upload a CSV and map its columns first.');
    return measureTokenLengths(this.requireSession().tokenizer, this.dataset, template, limit, cap);
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
    const data = dataFacts(this.dataset);
    // A resumed run goes on with the settings it was trained with (only more steps may be asked for).
    const resumed = args.resumeFrom ? decodeRunCheckpoint(new Uint8Array(args.resumeFrom), session.fingerprint) : null;
    if (resumed) checkSameLabels(resumed, this.dataset.labels.map((l) => l.name));
    const config = resumed
      ? validateTrainConfig({ ...resumed.config, steps: Math.max(resumed.config.steps, args.config.steps ?? 0) }, data)
      : validateTrainConfig(args.config, data);
    const task = this.encodedTasks.get(session, this.dataset, {
      template: config.template, verbalizer: resumed?.verbalizer ?? args.verbalizer, maxLength: config.maxLength, truncateSide: config.truncateSide, scoring: config.scoring,
    }, config.numVirtualTokens);
    if (resumed) checkSameSplit(resumed, task);
    const plan = this.planRun(task, config);
    this.disposeRun();
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config, { evaluationBatch: plan.evaluationBatch });
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
      config, labels: task.labels, tasks: task.tasks, taskLabels: task.taskLabels, trainCount: task.train.length, validationCount: task.validation.length,
      truncated: task.truncated, startStep: trainer.step, verbalizer: task.verbalizer, memory: plan, targetTokens: longestTarget(task.labelIds),
    };
    const control = new RunControl(this.interruptFlag);
    this.finishedFlag = false;
    const active: ActiveRun = {
      info, task, ...trainerParts(trainer), control, finished: Promise.resolve(null), lastEvaluation: null, lastSnapshot: null,
      history: resumed?.history ?? [], adapter: null,
    };
    this.run = active;
    active.finished = this.execute(active);
    return info;
  }

  private async execute(run: ActiveRun): Promise<RunSummary | null> {
    try {
      return await executeRun(run, {
        emit: this.emit, isCurrent: (r) => this.run === r, pacing: this.options.progressPacing,
        checkpoint: (r, snapshot) => this.emitCheckpoint(r, snapshot),
        simulatedFailure: () => {
          const fail = this.failNextStep;
          this.failNextStep = false;
          return fail;
        },
        failed: (r, error) => this.runFailed(r, error),
      });
    } finally {
      if (this.run === run) this.finishedFlag = true;
    }
  }

  /** A run ended by an error: a lost device's symptoms are recovered from, anything else is reported. */
  private async runFailed(run: ActiveRun, error: unknown): Promise<RunSummary | null> {
    // A destroyed device makes GPU reads fail, sometimes before `device.lost` resolves.
    if (this.deviceLost === null && this.backend?.backend === 'webgpu') {
      await new Promise<void>((resolve) => {
        const stop = onWebGPUDeviceLost(() => resolve());
        setTimeout(() => { stop(); resolve(); }, 1000);
      });
    }
    // Errors after a device loss are its symptoms; recovery replaces this run's execution.
    if (this.deviceLost !== null) return this.recoverFromDeviceLoss(run);
    this.emit({ event: 'trainingError', runId: run.info.runId, error: serializeError(error) });
    return null;
  }

  /** A snapshot as the run's newest checkpoint: kept for a lost device, and its bytes to the page. */
  private emitCheckpoint(run: ActiveRun, snapshot: RunSnapshot): void {
    run.lastSnapshot = snapshot;
    const buffer = toArrayBuffer(encodeCheckpoint(this.requireSession(), run, snapshot));
    this.emit({ event: 'checkpoint', runId: run.info.runId, step: snapshot.step, bytes: buffer }, [buffer]);
  }

  /**
   * Asks the running training for a checkpoint at its next step (the page is being hidden
   * or closed); a paused run, which takes one as it pauses, has it already.
   */
  requestCheckpoint(): void {
    const run = this.run;
    if (run?.trainer && !this.finishedFlag && !run.control.paused) run.trainer.requestCheckpoint();
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
    if (!reached || !control.paused || this.run !== run) return;
    // Paused, nothing in flight: a checkpoint of exactly this step, so a reload resumes here.
    if (run.trainer && run.lastSnapshot?.step !== run.trainer.step) this.emitCheckpoint(run, await run.trainer.snapshot());
    if (control.paused && this.run === run) this.emit({ event: 'trainingPhase', runId: run.info.runId, phase: 'paused' });
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

  /**
   * Metrics of a prompt variant on the validation examples training evaluates on, or (scope
   * 'all', for the CLI) on every example of the loaded data, training split included.
   */
  async evaluate(variant: PromptVariant, scope: 'validation' | 'all' = 'validation'): Promise<EvaluationSummary> {
    const run = this.requireRun();
    const { task } = run;
    if (task.validation.length === 0) {
      throw new StudioError('data', 'There is no validation data with this prompt\'s labels to evaluate on.',
        `Load a CSV whose labels are ${listSome(task.labels, 12)} (Data step), then load the adapter again.`);
    }
    const examples = scope === 'all' ? [...task.train, ...task.validation] : run.evaluator.evaluationSet();
    const evaluation = await run.evaluator.evaluate(await promptFor(run, variant), examples, run.trainer?.step ?? 0);
    // Asked for between runs (an imported prompt): these are the predictions the CSV download holds.
    if (variant === 'soft' && scope === 'validation' && this.finishedFlag) run.lastEvaluation = evaluation;
    return summarize(evaluation);
  }

  async project(task = 0): Promise<ProjectionSummary> {
    const run = this.requireRun();
    return run.projector.event(run.trainer?.step ?? 0, run.method.projectable(task));
  }

  // ---- predictions -----------------------------------------------------------------------

  async predict(texts: string[], variants: PromptVariant[], continueTokens = 0, task = 0): Promise<Prediction[]> {
    return predictTexts(this.requireRun(), this.requireSession(), texts, variants, continueTokens, task);
  }

  /** The validation predictions of the last evaluation as CSV, formula-looking cells neutralized. */
  exportPredictions(): { fileName: string; csv: string } {
    return validationPredictionsCsv(this.requireRun(), this.dataset, this.fileName);
  }

  /** Rows that each name their prompt, scored in mixed batches through the one model. */
  async predictRows(rows: MixedRow[], batchSize = 16, onProgress?: (done: number, total: number) => void) {
    const session = this.requireSession();
    return predictMixed(session.model, session.tokenizer, this.adapters.prompts(), rows, { batchSize, onProgress });
  }

  /**
   * Batch prediction over a CSV whose rows name their prompt (and, for multitask prompts,
   * their task): the results as CSV, formula-looking cells neutralized.
   */
  async batchPredict(args: BatchPredictArgs): Promise<{ fileName: string; csv: string; rows: number; failed: number }> {
    const session = this.requireSession();
    return batchPredictCsv(session.model, session.tokenizer, this.adapters.prompts(), args,
      (done, total) => this.emit({ event: 'batchProgress', done, total }));
  }

  // ---- export and import -----------------------------------------------------------------

  /** The PEFT adapter zip of the current prompt (with studio.json, a model card and a resumable checkpoint). */
  async exportAdapter(): Promise<{ fileName: string; bytes: Uint8Array }> {
    return this.adapters.zip(this.requireSession(), this.requireRun(), this.fileName);
  }

  /** The same files unzipped, by name (the CLI writes them as a folder). */
  async exportAdapterFiles(): Promise<Map<string, Uint8Array>> {
    return this.adapters.files(this.requireSession(), this.requireRun());
  }

  /**
   * The loaded model as Python loads it: a zip of one folder in Hugging Face layout, float32
   * (int8 weights dequantized: what the prompt was trained against). An exported adapter's
   * card names that folder as its base model unless the model came from the hub.
   */
  async exportBaseModel(): Promise<{ fileName: string; folder: string; blob: Blob }> {
    return baseModelZip(this.requireSession(), (progress) => this.emit({ event: 'exportProgress', what: 'baseModel', ...progress }));
  }

  /** The latest resumable checkpoint of the current run. */
  async exportCheckpoint(): Promise<{ fileName: string; bytes: Uint8Array }> {
    return this.adapters.checkpoint(this.requireSession(), this.requireRun(), this.fileName);
  }

  /** A PEFT prompt adapter (zip, or a folder's files) becomes the current prompt. */
  async importAdapter(args: ImportAdapterArgs): Promise<AdapterInfo> {
    const session = this.requireSession();
    if (!this.finishedFlag) throw new StudioError('training', 'A training run is in progress.', 'Stop it before importing an adapter.');
    const run = this.adapters.importRun(session, this.dataset, args, (message) => this.emit({ event: 'log', level: 'warn', message }));
    try {
      run.evaluator = evaluatorThatFits(session, this.budget(), run.evaluator, run.info.config);
    } catch (e) {
      disposeRun(run);
      throw e;
    }
    this.disposeRun();
    this.run = run;
    return run.adapter!;
  }

  // ---- prompt library ----------------------------------------------------------------------

  listLibrary(): LibraryEntry[] {
    return this.adapters.list();
  }

  /** Keeps a copy of the current prompt (trained or imported) under `name`. */
  async addToLibrary(name: string): Promise<LibraryEntry> {
    return this.adapters.add(this.requireSession(), this.requireRun(), name);
  }

  removeFromLibrary(id: string): void {
    this.adapters.remove(id);
  }

  private disposeRun(): void {
    if (this.run) {
      const run = this.run;
      run.control.stop();
      if (this.finishedFlag) disposeRun(run);
      else void run.finished.then(() => disposeRun(run));
    }
    this.run = null;
  }
}

/** A trained run's method, evaluator and projector are its trainer's. */
function trainerParts(trainer: Trainer): Pick<ActiveRun, 'trainer' | 'method' | 'evaluator' | 'projector'> {
  return { trainer, method: trainer.method, evaluator: trainer.evaluator, projector: trainer.projector };
}
