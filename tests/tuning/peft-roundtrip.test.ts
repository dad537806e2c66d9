import { describe, expect, it } from 'vitest';
import { methodFromPeft } from '../../src/tuning/methods';
import type { MethodKind } from '../../src/tuning/methods/types';
import { methodPrompt } from '../../src/tuning/objective';
import { RunControl } from '../../src/tuning/control';
import { Trainer } from '../../src/tuning/trainer';
import { hasSharedModel, openDefault } from '../helpers';
import { smsTask } from './fixtures';

describe.skipIf(!hasSharedModel)('every method, exported in PEFT form and imported back, predicts the same', () => {
  for (const method of ['prompt', 'ptuning-mlp', 'ptuning-lstm', 'prefix', 'multitask'] as MethodKind[]) {
    it(method, async () => {
      const session = await openDefault('stories260K', 'cpu');
      const { task, config } = smsTask(session, 12, { method, steps: 3, numVirtualTokens: 3, batchSize: 4, encoderNumLayers: 1, learningRate: 0.05 });
      const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
      await trainer.run(new RunControl());
      const own = await trainer.evaluate();
      const imported = methodFromPeft(await trainer.method.exportPeft(), session.pkg.config);
      const replay = await trainer.evaluate(methodPrompt(imported));
      expect(replay.predictions).toEqual(own.predictions);
      replay.probabilities.forEach((row, i) => row.forEach((p, j) => expect(p).toBeCloseTo(own.probabilities[i][j], 5)));
      imported.dispose();
      trainer.dispose();
    });
  }
});
