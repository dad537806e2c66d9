/** `generate`: greedy or sampled text from the model (a check that the weights loaded right). */
import { StudioError } from '../../errors';
import { finiteNumber, nonNegativeInt, parse, positiveInt, type CliIo } from '../args';
import { openSession } from './session';

export async function generateCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    prompt: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.prompt === undefined) throw new StudioError('cli', 'generate needs --prompt "TEXT".');
  const session = await openSession(values);
  const result = await session.generate(values.prompt, {
    maxNewTokens: positiveInt(values['max-new-tokens'], '--max-new-tokens', 64),
    temperature: finiteNumber(values.temperature, '--temperature', 0),
    topP: finiteNumber(values['top-p'], '--top-p', 1),
    seed: nonNegativeInt(values.seed, '--seed', 0),
  });
  if (values.json) {
    io.out(JSON.stringify({ prompt_ids: result.promptIds, generated_ids: result.generatedIds, text: result.text }) + '\n');
  } else {
    io.out(result.text + '\n');
  }
}
