/**
 * The studio's engine as one object: model, data, training run. The worker maps messages
 * onto its methods and forwards its events; tests and the CLI call it directly. It holds
 * every piece of state the page must not (tensors, parsed rows, the trainer) and emits
 * plain-data events.
 */
import Papa from 'papaparse';
import { buildDataset, defaultVerbalizer, guessMapping, readCsv, type ColumnMapping, type Dataset, type ParsedTable } from '../data';
import { StudioError, isStudioError } from '../errors';
import type { ModelSource } from '../model/package';
import { validateTrainConfig, type TrainConfig } from '../tuning/config';
import { methodPrompt, type PromptSource } from '../tuning/objective';
import { encodeInput, prepareTask, type PreparedTask } from '../tuning/task';
import { RunControl, Trainer, type Evaluation, type RunSnapshot, type RunSummary } from '../tuning/trainer';
import type {
  DatasetSummary, EvaluationSummary, Prediction, ProjectionSummary, PromptVariant, RunInfo, SerializedError,
  SplitOptions, StartTrainingArgs, TableSummary, WorkerEvent,
} from '../worker/protocol';
import {
  onWebGPUDeviceLost, restartAfterDeviceLoss, selectBackend, type BackendChoice, type BackendOptions, type BackendPreference,
} from './backend';
import { ModelSession, type ModelFacts } from './session';

export interface CheckpointCodec {
  encode(snapshot: RunSnapshot, run: RunInfo): Uint8Array;
  decode(bytes: Uint8Array): RunSnapshot;
}

export function serializeError(e: unknown): SerializedError {
  if (isStudioError(e)) return { code: e.code, message: e.message, hint: e.hint };
  return { code: 'internal', message: `Internal error: ${(e as Error)?.message ?? String(e)}` };
}

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
}

export class StudioEngine {
  backend: BackendChoice | null = null;
  session: ModelSession | null = null;
  private table: ParsedTable | null = null;
  private fileName = '';
  private dataset: Dataset | null = null;
  private run: ActiveRun | null = null;
  private runCounter = 0;

  constructor(
    private readonly emit: (e: WorkerEvent, transfer?: Transferable[]) => void,
    private readonly options: { backendOptions?: BackendOptions; checkpoints?: CheckpointCodec } = {},
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
    const config = validateTrainConfig(args.config, { trainExamples: trainCount, tasks: this.dataset.tasks.length });
    const task = prepareTask(session.tokenizer, this.dataset, {
      template: config.template, verbalizer: args.verbalizer, maxLength: config.maxLength, truncateSide: config.truncateSide,
    }, session.pkg.config.maxPositions, config.numVirtualTokens);
    this.disposeRun();
    const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
    let startStep = 0;
    if (args.resumeFrom) {
      if (!this.options.checkpoints) throw new StudioError('checkpoint', 'Resuming needs the checkpoint format, which is not available here.');
      try {
        trainer.restore(this.options.checkpoints.decode(new Uint8Array(args.resumeFrom)));
      } catch (e) {
        trainer.dispose();
        throw e;
      }
      startStep = trainer.step;
    }
    const info: RunInfo = {
      runId: `run-${Date.now().toString(36)}-${++this.runCounter}`,
      config, labels: task.labels, trainCount: task.train.length, validationCount: task.validation.length,
      truncated: task.truncated, startStep,
    };
    const control = new RunControl();
    this.finishedFlag = false;
    const active: ActiveRun = { info, trainer, task, control, finished: Promise.resolve(null), lastEvaluation: null, lastSnapshot: null };
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
        this.emit({ event: 'baseline', runId, variant: 'zero-shot', evaluation: summarize(zero) });
        const instruction = trainer.baselineInstruction();
        const text = await trainer.evaluate(trainer.textPrompt(instruction));
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
          this.emit({ event: 'evaluation', runId, variant: 'soft', evaluation: summarize(e) });
        },
        onProjection: (p) => this.emit({ event: 'projection', runId, projection: p }),
        onCheckpoint: (s) => {
          run.lastSnapshot = s;
          const codec = this.options.checkpoints;
          if (!codec) return;
          const bytes = codec.encode(s, run.info);
          const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          this.emit({ event: 'checkpoint', runId, step: s.step, bytes: buffer }, [buffer]);
        },
        onLog: (message) => this.emit({ event: 'log', level: 'warn', message }),
      });
      phase('finishing');
      if (summary.stoppedBy !== 'non-finite-loss') {
        const discrete = await trainer.discretePrompt();
        if (discrete) {
          const evaluation = await trainer.evaluate(discrete.source);
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

  /** Resolves when the current run has finished (for tests and the CLI). */
  async waitForRun(): Promise<RunSummary | null> {
    return this.run ? this.run.finished : null;
  }

  private requireRun(): ActiveRun {
    if (!this.run) throw new StudioError('training', 'No training run yet.', 'Press Train first.');
    return this.run;
  }

  pause(): void {
    const run = this.requireRun();
    run.control.pause();
    this.emit({ event: 'trainingPhase', runId: run.info.runId, phase: 'paused' });
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

  async evaluate(variant: PromptVariant): Promise<EvaluationSummary> {
    const { trainer } = this.requireRun();
    return summarize(await trainer.evaluate(await this.promptFor(variant, trainer)));
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
