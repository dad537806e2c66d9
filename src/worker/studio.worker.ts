/**
 * The engine's home in the browser: a module Web Worker, so the page never waits on a
 * tensor. A thin shell: it decodes requests, calls the StudioEngine, and posts replies
 * and the engine's events.
 */
import { currentWebGPUDevice } from '../engine/backend';
import { PROGRESS_PACING, type ProgressPacing } from '../engine/execution';
import { StudioEngine } from '../engine/studio';
import { LARGE_MODEL_PARAMETERS, type LargeModelFrom } from '../engine/memoryBudget';
import { StudioError, serializeError } from '../errors';
import { toArrayBuffer } from '../formats/bytes';
import type { ModelSource } from '../model/package';
import { cacheStorageFileCache, fileListSource, hubSource, urlSource } from '../model/sources';
import {
  IMMEDIATE_METHODS, type Method, type ModelSourceSpec, type ReplyMessage, type RequestMessage, type Requests, type WorkerEvent,
} from './protocol';
import { wasmBackendOptions } from './wasmAssets';

const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(message: ReplyMessage | WorkerEvent, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

// Read at each report, so the test hook below can change it.
const progressPacing: ProgressPacing = { ...PROGRESS_PACING };
const largeModelFrom: LargeModelFrom = { parameters: LARGE_MODEL_PARAMETERS };
const engine = new StudioEngine(post, { backendOptions: wasmBackendOptions(), progressPacing, largeModelFrom });

// Fault injection for the end-to-end tests (Playwright evaluates these in the worker). Only the
// test build (`vite build --mode test`, as playwright.config.ts builds) has them; the product's
// bundle drops this block.
if (import.meta.env.MODE === 'test') {
  (self as unknown as { __studioTest: unknown }).__studioTest = {
    loseDevice: () => currentWebGPUDevice()?.destroy(),
    failNextStep: () => (engine.failNextStep = true),
    /** Progress inside every step and evaluation, however quick (the default model's steps are). */
    reportAllProgress: () => Object.assign(progressPacing, { quietMs: 0, intervalMs: 0 }),
    /** Every model loaded from now on counts as large (suggested settings, a step-time estimate): the default model is far below. */
    treatEveryModelAsLarge: () => (largeModelFrom.parameters = 0),
  };
}

function sourceFor(spec: ModelSourceSpec): ModelSource {
  switch (spec.kind) {
    case 'url':
      return urlSource(spec.url, { description: spec.label ?? spec.url });
    case 'files':
      return fileListSource(spec.files, 'the chosen files');
    case 'hub':
      return hubSource(spec.repo, spec.revision, { cache: cacheStorageFileCache() });
  }
}

type Handler<M extends Method> = (args: Requests[M]['args'], id: number) => Promise<Requests[M]['result']> | Requests[M]['result'];

const handlers: { [M in Method]: Handler<M> } = {
  init: ({ backend, flags, interrupt }) => {
    engine.interruptFlag = interrupt ? new Int32Array(interrupt) : null;
    return engine.init(backend, flags);
  },
  loadModel: ({ source }) => engine.loadModel(sourceFor(source)),
  async generate({ prompt, maxNewTokens, temperature, topP, seed }, id) {
    if (!engine.session) throw new StudioError('model', 'No model is loaded yet.');
    const session = engine.session;
    const ids = session.promptIds(prompt);
    // Decoding the whole text each time keeps SentencePiece's spaces and multi-byte characters right.
    return session.generate(prompt, {
      maxNewTokens, temperature, topP, seed,
      onToken: (tokenId) => {
        ids.push(tokenId);
        post({ event: 'token', requestId: id, tokenId, text: session.tokenizer.decode(ids, { skipSpecialTokens: true }) });
      },
    });
  },
  loadTable: ({ fileName, bytes }) => engine.loadTable(fileName, new Uint8Array(bytes)),
  buildDataset: ({ mapping, split }) => engine.buildDataset(mapping, split),
  tokenLengths: ({ template, cap }) => engine.tokenLengths(template, undefined, cap),
  previewRun: (args) => engine.previewRun(args),
  startTraining: (args) => engine.startTraining(args),
  pause: async () => (await engine.pause(), null),
  resume: () => (engine.resume(), null),
  stop: () => (engine.stop(), null),
  checkpointSoon: () => (engine.requestCheckpoint(), null),
  evaluate: ({ variant }) => engine.evaluate(variant),
  project: ({ task }) => engine.project(task),
  predict: ({ texts, variants, continueTokens, task }) => engine.predict(texts, variants, continueTokens, task),
  async exportAdapter() {
    const { fileName, bytes } = await engine.exportAdapter();
    return { fileName, bytes: toArrayBuffer(bytes) };
  },
  async exportCheckpoint() {
    const { fileName, bytes } = await engine.exportCheckpoint();
    return { fileName, bytes: toArrayBuffer(bytes) };
  },
  // A Blob crosses to the page as a handle: its bytes stay where the browser keeps them.
  exportBaseModel: () => engine.exportBaseModel(),
  async importAdapter({ fileName, zip, files, fallback }) {
    const folder = files
      ? new Map(await Promise.all(files.map(async ({ name, file }) => [name, new Uint8Array(await file.arrayBuffer())] as const)))
      : undefined;
    return engine.importAdapter({ fileName, zip, files: folder, fallback });
  },
  listLibrary: () => engine.listLibrary(),
  addToLibrary: ({ name }) => engine.addToLibrary(name),
  removeFromLibrary: ({ id }) => (engine.removeFromLibrary(id), null),
  batchPredict: (args) => engine.batchPredict(args),
  exportPredictions: () => engine.exportPredictions(),
};

async function handle({ id, method, args }: RequestMessage): Promise<void> {
  try {
    const handler = handlers[method] as Handler<typeof method>;
    const result = await handler(args as never, id);
    post({ id, ok: true, result });
  } catch (err) {
    post({ id, ok: false, error: serializeError(err) });
  }
}

// Requests run one at a time, in order: tfjs state is global and the GPU queue is shared.
// Pause/resume/stop skip the queue so they act on a run in progress at once.
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (e: MessageEvent<RequestMessage>) => {
  const message = e.data;
  if (IMMEDIATE_METHODS.includes(message.method)) {
    void handle(message);
    return;
  }
  queue = queue.then(() => handle(message));
};
