/**
 * The studio's engine from a terminal. `runCli(argv, io)` runs one command and returns the
 * exit status (src/cli/main.ts is the process entry; tests call runCli in-process).
 * Results go to stdout, progress and warnings to stderr; an error is one line on stderr
 * ("error: message hint") and a non-zero status.
 */
import { describeError, serializeError, StudioError } from '../errors';
import { processIo, type CliIo } from './args';
import { baseModelCommand } from './commands/baseModel';
import { convertCommand } from './commands/convert';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { generateCommand } from './commands/generate';
import { importCommand } from './commands/import';
import { infoCommand } from './commands/info';
import { predictCommand } from './commands/predict';
import { trainCommand } from './commands/train';
import { trainingUsage } from './settingsFlags';

export const USAGE = `usage: npm run cli -- <command> [options]
commands:
  generate --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--json]
  generate --adapter DIR|ZIP --prompt TEXT [--task NAME] [--max-new-tokens N] [--json]
           what the model writes after TEXT (through the adapter's template) with the adapter's prompt,
           greedy, 8 tokens unless told: the page's playground, and the adapter card's model.generate;
           zero-shot beside it on stderr (--json: both, with the labels' probabilities)
  info     [--json]                             the model's facts: parameters, bytes by dtype, backend
  convert  --model DIR --out DIR [--json]       a float Hugging Face checkpoint → the studio's int8 package
  base-model --out DIR [--json]                 the model as the studio trains against it (int8 dequantized), float32 in
           Hugging Face layout: the folder an adapter's card loads in Python (the page's "Download base model")
  train    --data FILE.csv --out DIR [--zip FILE.zip] [data options] [training options] [--resume CHECKPOINT]
           trains a soft prompt; one JSON line per evaluation on stdout (zero-shot and text baselines,
           each soft-prompt evaluation, the discrete projection last), progress on stderr; writes the
           PEFT adapter folder (adapter_config.json, adapter_model.safetensors, studio.json, README.md,
           checkpoint.safetensors). While it trains, --out holds the latest checkpoint (every
           --checkpoint-every steps), so a crash loses only the steps since: --resume DIR continues.
           Ctrl-C or SIGTERM stops after the current step, writes the prompt so far and exits 130 / 143.
  train    --data FILE.csv --dry-run [data options] [training options]
           checks and plans the run without training: the texts' token lengths and what the max length
           cuts, the memory plan (or the refusal), the time estimate; one JSON object on stdout
  eval     --adapter DIR|ZIP --data FILE.csv [data options] [--all] [--baselines] [--json]
           accuracy, macro-F1, loss and per-class metrics on the validation split (--all: every row)
  export   --adapter DIR|ZIP --out DIR|FILE.zip [--data FILE.csv …]
           re-exports an adapter (folder → zip, zip → folder); a studio adapter keeps its bytes
  import   --adapter DIR|ZIP [--data FILE.csv …] [--json]
           checks an adapter against the model and prints what it is (labels, method, metrics) as JSON
  predict  --adapters A [--adapters B …] --data FILE.csv [--text-column C] [--prompt-column P] [--task-column T]
           [--batch-size N] [--out FILE.csv]
           each adapter joins the prompt library under its folder or zip name; every row is predicted
           with the prompt its --prompt-column names (one adapter: all rows); CSV to --out or stdout.
           --adapters A,B also works; give the flag once per adapter when a path holds a comma
data options (columns are guessed from the header when not given):
  --text-column C (repeat to join several)  --label-column L  --task-column T  --split-column S
  --validation-fraction F (0.2)  --split-seed N (42)       the page's defaults; give eval the same as train
  --header | --no-header   whether the first line names the columns (guessed otherwise)
training options (the studio's defaults otherwise; the Method step's settings, by the same names):
${trainingUsage()}
  --verbalizer '{"label":" text",…}'
every command: --model DIR (default: the built stories260K package)  --backend cpu|wasm
  train, eval, export, import, predict and generate --adapter default to wasm (over 10× faster at training than cpu);
  generate (without --adapter), info and convert to cpu. Both are deterministic: the same seed gives the same run.
  Evaluate an adapter on the backend it was trained on to get its numbers to the last digit.
generate and info quantize a float checkpoint to int8 as it loads, as the studio does; --float keeps it float.`;

/** Each command resolves to nothing (exit 0) or to its exit status (train stopped by a signal). */
const commands: Record<string, (argv: string[], io: CliIo) => Promise<void | number>> = {
  generate: generateCommand,
  info: infoCommand,
  convert: convertCommand,
  'base-model': baseModelCommand,
  train: trainCommand,
  eval: evalCommand,
  export: exportCommand,
  import: importCommand,
  predict: predictCommand,
};

/** Runs one command; resolves to the exit status (errors are reported on io.err, never thrown). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (!command || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
      io.out(USAGE + '\n');
      return 0;
    }
    const run = commands[command];
    if (!run) throw new StudioError('cli', `unknown command "${command}".`, 'Commands: ' + Object.keys(commands).join(', ') + '.');
    return (await run(rest, io)) ?? 0;
  } catch (e) {
    io.onError?.(serializeError(e));
    io.err(`error: ${describeError(e).replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}
