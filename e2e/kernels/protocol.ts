/** What the int8 kernel harness page and its worker say to each other and to the test. */
import type { BackendCasesResult, Check } from '../../tests/kernels/cases';

export type Suite = 'kernels' | 'model';

export interface KernelRequest {
  suite: Suite;
}

/** The shared kernel cases (tests/kernels/cases.ts) run on webgpu. */
export interface KernelSuiteResult extends BackendCasesResult {
  suite: 'kernels';
}

export interface ModelSuiteResult {
  suite: 'model';
  backend: string;
  /** tf.memory().numBytes after building each package's model on webgpu, minus before. */
  weightBytes: { int8: number; float32: number };
  backendBytesByDtype: Record<string, number>;
  /** Greedy continuations of "Once upon a time", 56 new tokens. */
  int8Text: string;
  float32Text: string;
  int8Ids: number[];
  float32Ids: number[];
  /**
   * Logits and d(loss)/d(inputs) of the int8 model through our kernels on webgpu against the
   * same package dequantized on the cpu backend (DenseLinear).
   */
  logits: Check;
  inputGrad: Check;
}

export type KernelMessage =
  | { kind: 'log'; text: string }
  | { kind: 'done'; result: KernelSuiteResult | ModelSuiteResult }
  | { kind: 'error'; text: string };
