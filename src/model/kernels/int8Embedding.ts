/**
 * Embedding lookup from an int8 table packed four to an i32 word (the same words the tied LM
 * head multiplies by): ids [R] int32, W [V, ⌈d/4⌉] i32, scales [V] → [R, d] float32.
 * One thread per word: it reads the word once and writes its (up to) four dequantized values.
 * An id outside [0, V) gives a zero row rather than a read past the table.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { UNPACK_INT8_WGSL } from './int8Matmul';

const WORKGROUP = 64;

export class Int8EmbeddingProgram implements WebGPUProgram {
  variableNames = ['ids', 'W', 'scales'];
  outputShape: number[];
  shaderKey = 'studioInt8Embedding';
  dispatchLayout = { x: [0, 1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(rows: number, dim: number) {
    this.outputShape = [rows, dim];
    this.dispatch = [Math.ceil((rows * Math.ceil(dim / 4)) / WORKGROUP), 1, 1];
  }

  getUserCode(): string {
    return `
  ${UNPACK_INT8_WGSL}

  fn main(index : i32) {
    let rows = uniforms.outShape.x;
    let dim = uniforms.outShape.y;
    let vocab = uniforms.wShape.x;
    let wordsPerRow = uniforms.wShape.y;
    let row = index / wordsPerRow;
    let w = index % wordsPerRow;
    if (row >= rows) {
      return;
    }
    let id = ids[row];
    var v = vec4<f32>(0.0);
    if (id >= 0 && id < vocab) {
      v = unpackInt8(W[id * wordsPerRow + w]) * scales[id];
    }
    for (var c = 0; c < 4; c = c + 1) {
      if (4 * w + c < dim) {
        result[row * dim + 4 * w + c] = v[c];
      }
    }
  }
`;
  }
}
