/**
 * Prompts that travel: exporting the current prompt as a PEFT adapter (zip or files) or a
 * resumable checkpoint, importing an adapter as the current prompt, and the library of
 * prompts kept side by side for batch prediction.
 */
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { defaultVerbalizer, type Dataset } from '../data';
import { floatPackageFiles, floatWeightsFile } from '../model/package';
import { classificationReport, majorityBaseline } from '../tuning/metrics';
import { StudioError } from '../errors';
import { readAdapterBundle, type StudioFile } from '../formats/bundle';
import { checkAdapterFits } from '../formats/peft';
import { validateTrainConfig, type TrainConfig } from '../tuning/config';
import { RunControl } from '../tuning/control';
import { Evaluator } from '../tuning/evaluator';
import { methodFromPeft } from '../tuning/methods';
import { Projector } from '../tuning/projection';
import { labelOnlyTask, longestTarget, prepareTask } from '../tuning/task';
import type { RunSnapshot } from '../tuning/trainer';
import type { AdapterInfo, BaseModelProgress, ImportAdapterArgs, LibraryEntry, RunInfo } from './api';
import type { LibraryPrompt } from './predictions';
import { runStep, type ActiveRun } from './run';
import { adapterFiles, adapterZip, bundleLimits, checkStudioFile, encodeRunCheckpoint, type AdapterExportInput } from './runFiles';
import type { ModelSession } from './session';

/**
 * The folder "Download base model" writes, named after the model (file-safe): what an
 * exported adapter's card tells Python to load when the model is not from the hub.
 */
export function baseModelFolder(session: Pick<ModelSession, 'name'>): string {
  const last = session.name.split(/[\\/]/).filter(Boolean).pop() ?? '';
  return last.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '') || 'base-model';
}

/** base_model_name_or_path of an exported adapter: the hub id when the model came from the hub, else that folder's name. */
export function pythonBaseModel(session: ModelSession): string {
  return session.pkg.hubId ?? baseModelFolder(session);
}

/** The most one file in a zip holds without ZIP64, which fflate does not write. */
const ZIP_FILE_LIMIT = 0xffffffff;
/** Bytes gathered before they join the Blob. */
const BLOB_PIECE = 64 * 2 ** 20;

/**
 * Bytes gathered into a Blob as they come: a browser keeps a Blob's bytes outside the page's
 * memory (on disk when they are many), so a 2 GB zip is never one array in the worker.
 */
class BlobCollector {
  private blob = new Blob([]);
  private pending: Uint8Array<ArrayBuffer>[] = [];
  private pendingBytes = 0;

  add(chunk: Uint8Array): void {
    this.pending.push(chunk as Uint8Array<ArrayBuffer>);
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= BLOB_PIECE) this.flush();
  }

  finish(type: string): Blob {
    this.flush();
    return new Blob([this.blob], { type });
  }

  private flush(): void {
    this.blob = new Blob([this.blob, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * The base model for Python: a zip of one folder (baseModelFolder) in Hugging Face layout,
 * float32, the weights the studio trained against, which an exported adapter's card loads.
 * Written as a stream, a tensor at a time, into a Blob: the float32 weights are four times
 * the int8 ones the studio holds, and never all in memory at once.
 */
export async function baseModelZip(session: ModelSession, onProgress?: (progress: BaseModelProgress) => void): Promise<{ fileName: string; folder: string; blob: Blob }> {
  const folder = baseModelFolder(session);
  // Shapes alone say how large the weights file will be: refused before the source is read again.
  const planned = floatWeightsFile(session.pkg).byteLength;
  if (planned >= ZIP_FILE_LIMIT) {
    throw new StudioError('model', `The base model's weights as float32 would take ${(planned / 2 ** 30).toFixed(1)} GiB, more than the 4 GiB one file in a zip can hold.`,
      `In Python, load the checkpoint the model came from${session.pkg.hubId ? ` (${session.pkg.hubId})` : ''}: the adapter fits it, within the int8 rounding the studio trained with.`);
  }
  const { files, weights } = floatPackageFiles(await session.hostPackage(({ file, loaded, total }) => onProgress?.({ stage: 'reading', file, loaded, total })));
  const collector = new BlobCollector();
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failure ??= error;
    else collector.add(chunk);
  });
  // Dated by nothing that changes: the same model gives the same bytes.
  const mtime = new Date(Date.UTC(1980, 0, 2));
  for (const [name, bytes] of files) {
    const file = new ZipDeflate(`${folder}/${name}`, { level: 6 });
    file.mtime = mtime;
    zip.add(file);
    file.push(bytes, true);
  }
  const stored = new ZipPassThrough(`${folder}/${weights.name}`); // already dense: stored, not deflated
  stored.mtime = mtime;
  zip.add(stored);
  let previous: Uint8Array | null = null;
  let written = 0;
  for (const chunk of weights.chunks()) {
    if (previous) stored.push(previous);
    previous = chunk;
    written += chunk.byteLength;
    onProgress?.({ stage: 'writing', file: weights.name, loaded: written, total: weights.byteLength });
  }
  stored.push(previous ?? new Uint8Array(0), true);
  zip.end();
  if (failure) throw failure;
  return { fileName: `${folder}.zip`, folder, blob: collector.finish('application/zip') };
}

/** The run's resumable checkpoint at `snapshot`, for the loaded model. */
export function encodeCheckpoint(session: ModelSession, run: ActiveRun, snapshot: RunSnapshot): Uint8Array {
  return encodeRunCheckpoint(snapshot, { config: run.info.config, task: run.task, history: run.history }, session.fingerprint, run.method.kind);
}

export class Adapters {
  private readonly library = new Map<string, LibraryPrompt & { entry: LibraryEntry }>();
  /** What an imported adapter brought beyond its weights, by run id. */
  private readonly imported = new Map<string, { studio: StudioFile | null; checkpoint: Uint8Array | null }>();

  constructor(private readonly nextId: () => number, private readonly now: () => Date) {}

  // ---- export ----------------------------------------------------------------------------

  private async exportInput(session: ModelSession, run: ActiveRun): Promise<AdapterExportInput> {
    const latest = (variant: string) => [...run.history].reverse().find((h) => h.variant === variant);
    // `step`: steps trained. Each score names the step it was measured at (the last
    // evaluation may be older than the prompt), and all are on the same `examples`.
    const metrics: Record<string, number | string> = { step: runStep(run) };
    const examples = run.evaluator.evaluationSet();
    // Free-text targets have no majority class worth naming (and a confusion matrix over them could be huge).
    const majority = examples.length > 0 && run.task.scoring === 'rank'
      ? majorityBaseline(classificationReport(run.task.labels, examples.map((e) => e.label), examples.map((e) => e.label))) : null;
    if (majority && run.history.length > 0) {
      metrics.examples = examples.length;
      metrics.majority_accuracy = majority.accuracy;
      metrics.majority_macro_f1 = majority.macroF1;
    }
    for (const variant of ['soft', 'zero-shot', 'text', 'discrete']) {
      const h = latest(variant);
      if (h) {
        const name = variant === 'soft' ? 'validation' : variant;
        metrics[`${name}_accuracy`] = h.accuracy;
        if (Number.isFinite(h.macroF1)) metrics[`${name}_macro_f1`] = h.macroF1; // none with target scoring
        if (typeof h.generationAccuracy === 'number') metrics[`${name}_generation_accuracy`] = h.generationAccuracy;
        metrics[`${name}_loss`] = h.loss;
        metrics[`${name}_step`] = h.step;
      }
    }
    const imported = this.imported.get(run.info.runId);
    const checkpoint = imported ? imported.checkpoint ?? undefined : encodeCheckpoint(session, run, await run.trainer!.snapshot());
    // An imported studio adapter keeps what it was made with: exported again, it is the same file.
    const original = imported?.studio;
    const fingerprint = original?.modelFingerprint && original.modelFingerprint.sha256 ? original.modelFingerprint : session.fingerprint;
    return {
      method: run.method,
      config: run.info.config,
      task: run.task,
      modelConfig: session.pkg.config,
      baseModel: pythonBaseModel(session),
      fingerprint,
      metrics: original?.metrics && run.history.length === 0 ? original.metrics as Record<string, number | string> : metrics,
      history: run.history,
      createdAt: original?.createdAt || this.now().toISOString(),
      checkpoint,
    };
  }

  /** How downloads of this prompt are named: the adapter's own name, or data-method-step. */
  baseName(run: ActiveRun, dataFileName: string): string {
    const data = (dataFileName.replace(/\.[^.]+$/, '') || 'prompt').replace(/[^\w.-]+/g, '_');
    return run.adapter ? run.adapter.fileName.replace(/\.zip$/i, '').replace(/[^\w.-]+/g, '_')
      : `${data}-${run.info.config.method}-step${runStep(run)}`;
  }

  /** The PEFT adapter zip of the prompt (with studio.json, a model card and a resumable checkpoint). */
  async zip(session: ModelSession, run: ActiveRun, dataFileName: string): Promise<{ fileName: string; bytes: Uint8Array }> {
    return { fileName: `${this.baseName(run, dataFileName)}.zip`, bytes: await adapterZip(await this.exportInput(session, run)) };
  }

  /** The same files unzipped, by name (the CLI writes them as a folder). */
  async files(session: ModelSession, run: ActiveRun): Promise<Map<string, Uint8Array>> {
    return adapterFiles(await this.exportInput(session, run));
  }

  async checkpoint(session: ModelSession, run: ActiveRun, dataFileName: string): Promise<{ fileName: string; bytes: Uint8Array }> {
    if (!run.trainer) {
      throw new StudioError('checkpoint', 'An imported adapter has no training state to checkpoint.', 'Train a prompt here to get a resumable checkpoint.');
    }
    return { fileName: `${this.baseName(run, dataFileName)}.checkpoint.safetensors`, bytes: encodeCheckpoint(session, run, await run.trainer.snapshot()) };
  }

  // ---- import ----------------------------------------------------------------------------

  /**
   * A PEFT prompt adapter (zip, or a folder's files) as a run without a trainer: predictions,
   * the playground and projections work on it. Labels, template and verbalizer come from its
   * studio.json, else from the loaded data and the page's settings. `warn` hears of a model mismatch.
   */
  importRun(session: ModelSession, dataset: Dataset | null, args: ImportAdapterArgs, warn: (message: string) => void): ActiveRun {
    const bundle = readAdapterBundle(args.files ?? args.zip!, bundleLimits(session.pkg.config));
    const exported = checkAdapterFits(bundle.adapter, session.pkg.config);
    const method = methodFromPeft(exported, session.pkg.config);
    try {
      const checked = bundle.studio ? checkStudioFile(bundle.studio, {
        peftType: exported.peftType,
        fallbackMethod: method.kind,
        numVirtualTokens: method.numVirtualTokens,
        numTasks: exported.peftType === 'MULTITASK_PROMPT_TUNING' ? exported.tensors.prefix_task_cols.shape[0] : null,
      }) : null;
      const studio = checked?.studio ?? null;
      const labels = studio?.labels ?? dataset?.labels.map((l) => l.name) ?? [];
      if (labels.length === 0) {
        throw new StudioError('adapter', `${args.fileName} has no studio.json, so the studio does not know which labels it predicts.`,
          'Load the CSV it was trained for first (Data step); its labels and your verbalizer are used.');
      }
      const verbalizer = studio?.verbalizer ?? args.fallback?.verbalizer ?? defaultVerbalizer(dataset!.labels);
      let config: TrainConfig = checked?.config ?? validateTrainConfig({ method: method.kind, numVirtualTokens: method.numVirtualTokens });
      if (!studio && args.fallback?.template) config = { ...config, template: args.fallback.template };
      const setup = { template: config.template, verbalizer, maxLength: config.maxLength, truncateSide: config.truncateSide, scoring: config.scoring };
      const datasetFits = dataset !== null && dataset.labels.length === labels.length && dataset.labels.every((l) => labels.includes(l.name));
      const maxPositions = session.pkg.config.maxPositions;
      const task = datasetFits
        ? prepareTask(session.tokenizer, dataset, setup, maxPositions, method.numVirtualTokens)
        : labelOnlyTask(session.tokenizer, labels, studio?.tasks ?? [], setup, maxPositions, method.numVirtualTokens, studio?.taskLabels);
      const trainedOn = checked?.fingerprint ?? null;
      const fingerprintMatches = trainedOn ? trainedOn.sha256 === session.fingerprint.sha256 : null;
      const runId = `adapter-${Date.now().toString(36)}-${this.nextId()}`;
      const info: RunInfo = {
        runId, config, labels: task.labels, tasks: task.tasks, taskLabels: task.taskLabels, trainCount: task.train.length, validationCount: task.validation.length,
        truncated: task.truncated, startStep: 0, verbalizer: task.verbalizer, targetTokens: longestTarget(task.labelIds),
      };
      const adapter: AdapterInfo = {
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
        warnings: [...(checked?.warnings ?? [])],
        run: info,
      };
      if (fingerprintMatches === false) {
        adapter.warnings.push(`${args.fileName} was trained on ${trainedOn!.label}, not on the loaded model (${session.fingerprint.label}); its predictions may be off.`);
      }
      for (const w of adapter.warnings) warn(w);
      this.imported.set(runId, { studio, checkpoint: bundle.checkpoint });
      return {
        info, task, method,
        evaluator: new Evaluator(session.model, session.tokenizer, task, config),
        projector: new Projector(session.model, session.tokenizer, config.projectionTopK),
        trainer: null, control: new RunControl(), finished: Promise.resolve(null),
        lastEvaluation: null, lastSnapshot: null, history: [], adapter,
      };
    } catch (e) {
      method.dispose();
      throw e;
    }
  }

  // ---- library ---------------------------------------------------------------------------

  prompts(): LibraryPrompt[] {
    return [...this.library.values()];
  }

  list(): LibraryEntry[] {
    return [...this.library.values()].map((p) => p.entry);
  }

  /** Keeps a copy of the run's current prompt under `name`; further training does not change the copy. */
  async add(session: ModelSession, run: ActiveRun, name: string): Promise<LibraryEntry> {
    const trimmed = name.trim();
    if (!trimmed) throw new StudioError('library', 'Give the prompt a name.');
    if ([...this.library.values()].some((p) => p.name === trimmed)) {
      throw new StudioError('library', `The library already has a prompt named "${trimmed}".`, 'Choose another name, or remove that one first.');
    }
    const method = methodFromPeft(await run.method.exportPeft(), session.pkg.config);
    const accuracy = [...run.history].reverse().find((h) => h.variant === 'soft')?.accuracy
      ?? (typeof run.adapter?.metrics?.validation_accuracy === 'number' ? run.adapter.metrics.validation_accuracy : null);
    const entry: LibraryEntry = {
      id: `prompt-${this.nextId()}`,
      name: trimmed,
      method: run.info.config.method,
      numVirtualTokens: method.numVirtualTokens,
      labels: run.task.labels,
      tasks: run.task.tasks,
      template: run.task.template,
      accuracy,
      source: run.adapter ? run.adapter.fileName : `trained, step ${runStep(run)}`,
    };
    this.library.set(entry.id, {
      id: entry.id, name: trimmed, method, labels: run.task.labels, verbalizer: run.task.verbalizer, template: run.task.template,
      maxLength: run.task.maxLength, truncateSide: run.info.config.truncateSide, tasks: run.task.tasks, taskLabels: run.task.taskLabels, entry,
      scoring: run.task.scoring, targetTokens: longestTarget(run.task.labelIds),
    });
    return entry;
  }

  remove(id: string): void {
    const p = this.library.get(id);
    if (!p) throw new StudioError('library', 'That prompt is not in the library.');
    p.method.dispose();
    this.library.delete(id);
  }

  clear(): void {
    for (const p of this.library.values()) p.method.dispose();
    this.library.clear();
  }
}
