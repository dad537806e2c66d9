/**
 * Runs the int8 kernel checks where the kernels run: in a module worker on the webgpu
 * backend, with every op kept on the GPU (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD 0). The kernel
 * cases are tests/kernels/cases.ts, shared with the Node runner; the model suite is here.
 * Only async reads (`await t.data()`): a synchronous readback in a worker crashes
 * SwiftShader's GPU process.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { loadModelPackage, type ModelPackage } from '../../src/model/package';
import { urlSource } from '../../src/model/sources';
import type { CausalLM } from '../../src/model/types';
import { compare, KERNEL_TOLERANCE, rng, uniform } from '../../tests/kernels/cases';
import { runBackendCases } from '../../tests/kernels/run';
import type { KernelMessage, KernelRequest, KernelSuiteResult, ModelSuiteResult } from './protocol';

const post = (m: KernelMessage) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);
const log = (text: string) => post({ kind: 'log', text });

async function kernelSuite(): Promise<KernelSuiteResult> {
  return { suite: 'kernels', ...(await runBackendCases('webgpu', log)) };
}

/** Logits of every position, and the gradient of Σ logits·c with respect to the input embeddings. */
async function probe(model: CausalLM, ids: number[], cData: Float32Array) {
  const embeds = tf.tidy(() => model.embed(tf.tensor2d(ids, [1, ids.length], 'int32'))); // [1, T, d]
  const c = tf.tensor3d(cData, [1, ids.length, model.config.vocabSize]);
  const logitsOf = (e: tf.Tensor3D) => model.logits(model.forward({ inputsEmbeds: e }).hidden); // [1, T, V]
  const logits = tf.tidy(() => logitsOf(embeds));
  const grad = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(logitsOf(e as tf.Tensor3D), c)))(embeds); // [1, T, d]
  const out = { logits: (await logits.data()) as Float32Array, grad: (await grad.data()) as Float32Array };
  tf.dispose([embeds, c, logits, grad]);
  return out;
}

async function modelSuite(backend: BackendChoice): Promise<ModelSuiteResult> {
  const url = (id: string) => new URL(`/models/${id}/`, location.href).href;
  const packages: Record<'int8' | 'float32', ModelPackage> = {
    int8: await loadModelPackage(urlSource(url('stories260K'))),
    float32: await loadModelPackage(urlSource(url('stories260K-f32'))),
  };
  const prompt = 'Once upon a time';
  const open = (pkg: ModelPackage) => {
    const before = tf.memory().numBytes;
    const session = ModelSession.fromPackage(pkg, backend);
    return { session, bytes: tf.memory().numBytes - before };
  };

  const int8 = open(packages.int8);
  const facts = int8.session.facts();
  log(`int8 on webgpu: ${int8.bytes} bytes, ${JSON.stringify(facts.backendBytesByDtype)}`);
  const int8Generated = await int8.session.generate(prompt, { maxNewTokens: 56 });
  log(`int8: ${int8Generated.text}`);
  const ids = int8.session.promptIds('Once upon a time, there was a little');
  const cData = uniform(ids.length * packages.int8.config.vocabSize, rng(300));
  const onGpu = await probe(int8.session.model, ids, cData);
  int8.session.dispose();

  // The same package dequantized at load, through tfjs's own matmul, on the cpu backend.
  await tf.setBackend('cpu');
  const dense = ModelSession.fromPackage(packages.int8, backend);
  const onCpu = await probe(dense.model, ids, cData);
  dense.dispose();
  await tf.setBackend('webgpu');

  const float32 = open(packages.float32);
  log(`float32 on webgpu: ${float32.bytes} bytes`);
  const float32Generated = await float32.session.generate(prompt, { maxNewTokens: 56 });
  float32.session.dispose();
  return {
    suite: 'model',
    backend: tf.getBackend(),
    weightBytes: { int8: int8.bytes, float32: float32.bytes },
    backendBytesByDtype: facts.backendBytesByDtype,
    int8Text: int8Generated.text,
    float32Text: float32Generated.text,
    int8Ids: int8Generated.generatedIds,
    float32Ids: float32Generated.generatedIds,
    logits: compare('logits', onGpu.logits, onCpu.logits, KERNEL_TOLERANCE),
    inputGrad: compare('d(loss)/d(inputs)', onGpu.grad, onCpu.grad, KERNEL_TOLERANCE),
  };
}

self.onmessage = async (e: MessageEvent<KernelRequest>) => {
  try {
    const backend = await selectBackend('webgpu', { flags: { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 } });
    log(`backend ${tf.getBackend()} on ${backend.adapter?.description ?? 'an unknown adapter'}`);
    const result = e.data.suite === 'model' ? await modelSuite(backend) : await kernelSuite();
    post({ kind: 'done', result });
  } catch (err) {
    post({ kind: 'error', text: (err as Error).stack ?? String(err) });
  }
};
