/**
 * Encoding an example's text (tuning/task.ts encodeInput): a text is cut only when its tokens
 * do not fit the max length, whatever its length in characters.
 */
import { describe, expect, it } from 'vitest';
import type { TextTokenizer } from '../../src/tokenizer/tokenizer';
import { encodeInput } from '../../src/tuning/task';

describe('a text longer in characters than four per token', () => {
  // One token a word: ten-letter words are 11 characters a token, as long English words can be in a large BPE vocabulary.
  const words = new Map<string, number>();
  const wordTokenizer = {
    encode: (text: string, options?: { addBos?: boolean }) => [...(options?.addBos ? [0] : []), ...text.split(/\s+/).filter(Boolean).map((w) => {
      if (!words.has(w)) words.set(w, words.size + 1);
      return words.get(w)!;
    })],
    decode: (ids: number[]) => ids.map((id) => [...words].find(([, v]) => v === id)![0]).join(' '),
  } as unknown as TextTokenizer;
  const text = Array.from({ length: 100 }, (_, i) => `word${String(i).padStart(6, '0')}`).join(' ');

  it('is kept whole when its tokens fit the max length, and cut to it when they do not', () => {
    expect(text.length).toBeGreaterThan(4 * 128);
    const whole = encodeInput(wordTokenizer, '{text}', text, 128, 'right');
    expect(whole.truncated).toBe(false);
    expect(whole.ids.length).toBe(101);
    const cut = encodeInput(wordTokenizer, '{text}', text, 50, 'right');
    expect(cut.truncated).toBe(true);
    expect(cut.ids.length).toBe(50);
  });
});
