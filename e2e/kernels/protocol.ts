/** What the int8 kernel harness page and its worker say to each other and to the test. */

export type Suite = 'kernels' | 'model';

export interface KernelRequest {
  suite: Suite;
}

/** Largest |difference| against the reference, and the largest |reference| value it is relative to. */
export interface Diff {
  maxDiff: number;
  maxRef: number;
}

export interface MatMulCheck {
  /** [N, in, out] */
  shape: [number, number, number];
  bias: boolean;
  /** Backend dtypes of the layer's tensors (int32 words, float32 scales and bias). */
  dtypes: string[];
  /** Kernel y = x·Wᵀ + b against tf.matMul on the dequantized weights. */
  forward: Diff;
  /** Kernel dx = dy·W against tf.matMul(dy, W). */
  inputGrad: Diff;
  /** tf.grad through QuantLinear against tf.grad through DenseLinear. */
  grad: Diff;
  /** A second derivative through QuantLinear (the input-gradient kernel's own gradient) against DenseLinear's. */
  secondOrder: Diff;
  /** Kernel forward against the plain-JS reference of its arithmetic. */
  reference: Diff;
}

export interface EmbeddingCheck {
  /** [V, d, B, T] */
  shape: [number, number, number, number];
  /** lookup against tf.gather on the dequantized table. */
  lookup: Diff;
  /** table() against the dequantized table. */
  table: Diff;
  /** The tied head (asLinear) against tf.matMul(h, tableᵀ). */
  head: Diff;
}

export interface KernelSuiteResult {
  suite: 'kernels';
  backend: string;
  matmuls: MatMulCheck[];
  embeddings: EmbeddingCheck[];
  /** Tensors alive after everything was disposed, minus before. */
  leakedTensors: number;
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
  logits: Diff;
  inputGrad: Diff;
}

export type KernelMessage =
  | { kind: 'log'; text: string }
  | { kind: 'done'; result: KernelSuiteResult | ModelSuiteResult }
  | { kind: 'error'; text: string };
