/**
 * `generate`: greedy or sampled text from the model (a check that the weights loaded right);
 * with `--adapter`, what the model writes after the text with the adapter's prompt and
 * without one — the playground's continuation, and what the adapter card's `model.generate`
 * prints in Python.
 */
import { StudioError } from '../../errors';
import { finiteNumber, nonNegativeInt, parse, positiveInt, type CliIo } from '../args';
import { locateAdapter } from '../files';
import { openSession } from './session';
import { importInto, openEngine } from './shared';

export async function generateCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    prompt: { type: 'string' },
    adapter: { type: 'string' },
    task: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.prompt === undefined) throw new StudioError('cli', 'generate needs --prompt "TEXT".');
  if (values.task !== undefined && values.adapter === undefined) throw new StudioError('cli', '--task names a multitask adapter\'s task: it goes with --adapter.');
  if (values.adapter !== undefined) {
    await continueWithAdapter(values as typeof values & { prompt: string }, io);
    return;
  }
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

/** The text through the adapter's template, greedy: with its prompt, and zero-shot beside it; the labels' probabilities too. */
async function continueWithAdapter(
  values: { prompt: string; adapter?: string; task?: string; backend?: string; model?: string; json?: boolean; float?: boolean; 'max-new-tokens'?: string; temperature?: string; 'top-p'?: string; seed?: string },
  io: CliIo,
): Promise<void> {
  if (values.temperature !== undefined || values['top-p'] !== undefined || values.seed !== undefined) {
    throw new StudioError('cli', 'generate --adapter decodes greedily, as the adapter card\'s model.generate does: it takes no --temperature, --top-p or --seed.');
  }
  if (values.float) throw new StudioError('cli', 'generate --adapter runs the model as the studio trains against it (int8): it takes no --float.');
  const located = locateAdapter(values.adapter, 'generate');
  const { engine } = await openEngine(values, io);
  const info = await importInto(engine, located, undefined, 'generate');
  const task = taskIndex(info.tasks, values.task);
  const [prediction] = await engine.predict([values.prompt], ['soft', 'zero-shot'], positiveInt(values['max-new-tokens'], '--max-new-tokens', 8), task);
  const soft = prediction.continuations!.soft!;
  const zeroShot = prediction.continuations!['zero-shot']!;
  if (values.json) {
    const shown = info.run.taskLabels?.[task] ?? info.labels.map((_, i) => i); // a multitask prompt's task: its labels only
    // Free-text targets (target scoring) are not ranked: no probabilities, only what is written.
    const probabilities = (p: number[] | undefined) => (p ? { probabilities: Object.fromEntries(shown.map((i) => [info.labels[i], p[i]])) } : {});
    io.out(JSON.stringify({
      text: values.prompt, template: info.template, ...(info.tasks.length > 1 ? { task: info.tasks[task] } : {}),
      soft: { generated_ids: soft.ids, continuation: soft.text, ended: soft.ended, ...probabilities(prediction.probabilities.soft) },
      zero_shot: { generated_ids: zeroShot.ids, continuation: zeroShot.text, ended: zeroShot.ended, ...probabilities(prediction.probabilities['zero-shot']) },
    }) + '\n');
    return;
  }
  io.out(`${soft.text}\n`);
  io.err(`without the prompt (zero-shot): ${JSON.stringify(zeroShot.text)}\n`);
}

/** A multitask adapter's task by name (its first when not named); a single-task adapter takes no --task. */
function taskIndex(tasks: string[], name: string | undefined): number {
  if (name === undefined) return 0;
  if (tasks.length <= 1) throw new StudioError('cli', `--task ${name}: the adapter is not a multitask prompt; it has one task.`);
  const index = tasks.indexOf(name);
  if (index < 0) throw new StudioError('cli', `--task ${name}: the adapter's tasks are ${tasks.join(', ')}.`);
  return index;
}
