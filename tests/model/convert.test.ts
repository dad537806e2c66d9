import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/model/config';
import { convertLlama2c, permuteForHalfRotation } from '../../scripts/convert/llama2c';
import { dequantizeRows, packInt8Rows, quantizeRows } from '../../src/model/quantize';
import { parseSafetensors, toFloat32 } from '../../src/formats/safetensors';
import { hasSharedModel, packageDir, stories260KDir } from '../helpers';
import { createRng } from '../../src/data/random';

/** llama2.c's RoPE: rotate adjacent pairs (2i, 2i+1) by angle pos·θ_i. */
function ropeAdjacent(x: number[], pos: number): number[] {
  const out = [...x];
  const d = x.length;
  for (let i = 0; i < d / 2; i++) {
    const a = pos / Math.pow(10000, (2 * i) / d);
    out[2 * i] = x[2 * i] * Math.cos(a) - x[2 * i + 1] * Math.sin(a);
    out[2 * i + 1] = x[2 * i] * Math.sin(a) + x[2 * i + 1] * Math.cos(a);
  }
  return out;
}

/** Hugging Face's RoPE: rotate halves (i, i + d/2). */
function ropeHalves(x: number[], pos: number): number[] {
  const out = [...x];
  const h = x.length / 2;
  for (let i = 0; i < h; i++) {
    const a = pos / Math.pow(10000, (2 * i) / x.length);
    out[i] = x[i] * Math.cos(a) - x[i + h] * Math.sin(a);
    out[i + h] = x[i + h] * Math.cos(a) + x[i] * Math.sin(a);
  }
  return out;
}

describe('llama2.c conversion', () => {
  it('the q/k row permutation makes half-rotation attention scores equal adjacent-pair ones', () => {
    const rng = createRng(3);
    const heads = 2, headDim = 8, cols = 5;
    const rows = heads * headDim;
    const w = Float32Array.from({ length: rows * cols }, () => rng.next() - 0.5);
    const wk = Float32Array.from({ length: rows * cols }, () => rng.next() - 0.5);
    const x = Array.from({ length: cols }, () => rng.next() - 0.5);
    const y = Array.from({ length: cols }, () => rng.next() - 0.5);
    const project = (m: Float32Array, v: number[]) => Array.from({ length: rows }, (_, r) => v.reduce((a, vi, c) => a + m[r * cols + c] * vi, 0));
    const wp = permuteForHalfRotation(w, heads, rows, cols);
    const wkp = permuteForHalfRotation(wk, heads, rows, cols);
    for (let h = 0; h < heads; h++) {
      const head = (v: number[]) => v.slice(h * headDim, (h + 1) * headDim);
      const dot = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + ai * b[i], 0);
      const original = dot(ropeAdjacent(head(project(w, x)), 3), ropeAdjacent(head(project(wk, y)), 1));
      const converted = dot(ropeHalves(head(project(wp, x)), 3), ropeHalves(head(project(wkp, y)), 1));
      expect(converted).toBeCloseTo(original, 10);
    }
  });

  it.skipIf(!hasSharedModel)('reads the stories260K checkpoint into HF names and shapes', () => {
    const ck = convertLlama2c(new Uint8Array(readFileSync(path.join(stories260KDir, 'stories260K.bin'))));
    expect(ck.header).toMatchObject({ dim: 64, hiddenDim: 172, numLayers: 5, numHeads: 8, numKvHeads: 4, vocabSize: 512, seqLen: 512, sharedClassifier: true });
    expect(ck.tensors.get('model.layers.4.self_attn.k_proj.weight')!.shape).toEqual([32, 64]);
    expect(ck.tensors.get('model.layers.0.mlp.down_proj.weight')!.shape).toEqual([64, 172]);
    expect(ck.tensors.has('lm_head.weight')).toBe(false);
    let params = 0;
    for (const t of ck.tensors.values()) params += t.data.length;
    expect(params).toBe(260032);
  });

  it('rejects a truncated checkpoint with a clear message', () => {
    const header = new Int32Array([64, 172, 5, 8, 4, 512, 512]);
    const bytes = new Uint8Array(28 + 100);
    bytes.set(new Uint8Array(header.buffer));
    expect(() => convertLlama2c(bytes)).toThrow(/truncated or not a v0 checkpoint/);
  });
});

describe('int8 quantization', () => {
  it('per-row absmax error is at most half a step of that row', () => {
    const rng = createRng(11);
    const rows = 7, cols = 13;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => (rng.next() - 0.5) * (1 + (i % cols === 0 ? 10 : 0)) * (Math.floor(i / cols) + 1));
    const q = quantizeRows(w, rows, cols);
    const back = dequantizeRows(q);
    for (let r = 0; r < rows; r++) {
      const absMax = Math.max(...Array.from(w.subarray(r * cols, (r + 1) * cols), Math.abs));
      expect(q.scales[r]).toBeCloseTo(absMax / 127, 6);
      for (let c = 0; c < cols; c++) expect(Math.abs(back[r * cols + c] - w[r * cols + c])).toBeLessThanOrEqual(q.scales[r] / 2 + 1e-7);
    }
  });

  it('packs four int8 values per word, rows padded to whole words', () => {
    const values = Int8Array.from([1, -1, 127, -127, 5, /* row 2 */ 0, 0, 9, -2, 3]);
    const { words, wordsPerRow } = packInt8Rows(values, 2, 5);
    expect(wordsPerRow).toBe(2);
    const bytes = new Int8Array(words.buffer);
    expect(Array.from(bytes)).toEqual([1, -1, 127, -127, 5, 0, 0, 0, 0, 0, 9, -2, 3, 0, 0, 0]);
  });

  it.skipIf(!hasSharedModel)('the setup wrote an int8 package under 30% of the float32 one, with scales that reproduce the weights', () => {
    const int8 = parseSafetensors(new Uint8Array(readFileSync(path.join(packageDir('stories260K'), 'model.safetensors'))));
    const f32 = parseSafetensors(new Uint8Array(readFileSync(path.join(packageDir('stories260K-f32'), 'model.safetensors'))));
    const bytes = (f: typeof int8) => [...f.tensors.values()].reduce((a, t) => a + t.bytes.byteLength, 0);
    expect(bytes(int8) / bytes(f32)).toBeLessThan(0.3);
    const config = parseModelConfig(JSON.parse(readFileSync(path.join(packageDir('stories260K'), 'config.json'), 'utf8')));
    expect(config.quantization?.quant_method).toBe('studio_int8');
    const name = 'model.layers.2.mlp.up_proj.weight';
    const q = int8.tensors.get(name)!;
    expect(q.dtype).toBe('I8');
    const scales = toFloat32(int8.tensors.get(name + '_scale')!);
    const original = toFloat32(f32.tensors.get(name)!);
    const [rows, cols] = q.shape;
    const values = new Int8Array(q.bytes.buffer, q.bytes.byteOffset, q.bytes.byteLength);
    for (let i = 0; i < rows * cols; i += 97) {
      expect(Math.abs(values[i] * scales[Math.floor(i / cols)] - original[i])).toBeLessThanOrEqual(scales[Math.floor(i / cols)] / 2 + 1e-7);
    }
  });
});
