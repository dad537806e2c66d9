/**
 * The studio's engine from a terminal. `runCli(argv, io)` runs one command and returns the
 * exit status (src/cli/main.ts is the process entry; tests call runCli in-process).
 * Results go to stdout, progress and warnings to stderr; an error is one line on stderr
 * ("error: message hint") and a non-zero status.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelSession } from '../engine/session';
import { StudioError, describeError } from '../errors';
import { loadModelPackage, quantizeOnLoad, saveStudioPackage } from '../model/package';
import { finiteNumber, nodeBackend, nonNegativeInt, parse, positiveInt, processIo, type CliIo } from './args';
import { writeFolder } from './files';
import { folderSource, repoModelDir } from './nodeSource';
import { evalCommand, exportCommand, importCommand, predictCommand, trainCommand } from './prompts';

export const USAGE = `usage: npm run cli -- <command> [options]
commands:
  generate --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--json]
  info     [--json]                             the model's facts: parameters, bytes by dtype, backend
  convert  --model DIR --out DIR [--json]       a float Hugging Face checkpoint → the studio's int8 package
  train    --data FILE.csv --out DIR [--zip FILE.zip] [data options] [training options] [--resume CHECKPOINT]
           trains a soft prompt; one JSON line per evaluation on stdout (zero-shot and text baselines,
           each soft-prompt evaluation, the discrete projection last), progress on stderr; writes the
           PEFT adapter folder (adapter_config.json, adapter_model.safetensors, studio.json, README.md,
           checkpoint.safetensors). Ctrl-C stops after the current step and still writes the prompt.
  eval     --adapter DIR|ZIP --data FILE.csv [data options] [--all] [--baselines] [--json]
           accuracy, macro-F1, loss and per-class metrics on the validation split (--all: every row)
  export   --adapter DIR|ZIP --out DIR|FILE.zip [--data FILE.csv …]
           re-exports an adapter (folder → zip, zip → folder); a studio adapter keeps its bytes
  import   --adapter DIR|ZIP [--data FILE.csv …] [--json]
           checks an adapter against the model and prints what it is (labels, method, metrics) as JSON
  predict  --adapters A[,B…] --data FILE.csv [--text-column C] [--prompt-column P] [--task-column T]
           [--batch-size N] [--out FILE.csv]
           each adapter joins the prompt library under its folder or zip name; every row is predicted
           with the prompt its --prompt-column names (one adapter: all rows); CSV to --out or stdout
data options (columns are guessed from the header when not given):
  --text-column C (repeat to join several)  --label-column L  --task-column T  --split-column S
  --validation-fraction F (0.2)  --split-seed N (42)       the page's defaults; give eval the same as train
training options (the studio's defaults otherwise):
  --method prompt|ptuning-mlp|ptuning-lstm|prefix|multitask (prompt)  --virtual-tokens N (20)
  --init random|vocab|text|labels (labels)  --init-text T  --steps N (300)  --lr X (0.1)
  --batch-size N (16)  --optimizer adamw|adafactor (adamw)  --max-length N (128)
  --template T ("{text}\\nLabel:")  --seed S (42)  --eval-every N (50)  --warmup-steps N (10)
  --verbalizer '{"label":" text",…}'
every command: --model DIR (default: the built stories260K package)  --backend cpu|wasm
  train, eval, export, import and predict default to wasm (over 10× faster at training than cpu);
  generate, info and convert to cpu. Both are deterministic: the same seed gives the same run.
  Evaluate an adapter on the backend it was trained on to get its numbers to the last digit.
generate and info quantize a float checkpoint to int8 as it loads, as the studio does; --float keeps it float.`;

async function openSession(values: { backend?: string; model?: string; float?: boolean }): Promise<ModelSession> {
  const backend = await nodeBackend(values);
  return ModelSession.open(folderSource(values.model ?? repoModelDir()), backend, undefined, { quantize: !values.float });
}

async function generateCommand(argv: string[], io: CliIo): Promise<void> {
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

async function infoCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {});
  const session = await openSession(values);
  const facts = session.facts();
  const memory = tf.memory();
  const report = { ...facts, tfMemory: { numTensors: memory.numTensors, numBytes: memory.numBytes } };
  if (values.json) {
    io.out(JSON.stringify(report) + '\n');
    return;
  }
  const lines = [
    `model         ${facts.name} (${facts.architecture})`,
    `parameters    ${facts.parameters}`,
    `shape         ${facts.layers} layers, d=${facts.hiddenSize}, ${facts.heads} heads, ${facts.kvHeads} kv heads, vocab ${facts.vocabSize}`,
    `quantization  ${facts.quantization}`,
    `file bytes    ${Object.entries(facts.fileBytesByDtype).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `device bytes  ${facts.backendBytes} (${Object.entries(facts.backendBytesByDtype).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `backend       ${facts.backend}: ${facts.backendReason}`,
  ];
  io.out(lines.join('\n') + '\n');
}

async function convertCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { out: { type: 'string' } });
  if (values.model === undefined || values.out === undefined) throw new StudioError('cli', 'convert needs --model DIR and --out DIR.');
  const from = path.resolve(values.model);
  const to = path.resolve(values.out);
  if (from === to) throw new StudioError('cli', '--out must be another folder than --model: convert does not overwrite the checkpoint it reads.');
  const original = await loadModelPackage(folderSource(from));
  const pkg = quantizeOnLoad(original);
  // Building the model once checks every shape against config.json before anything is written.
  ModelSession.fromPackage(pkg, await nodeBackend(values)).dispose();
  const files = saveStudioPackage(pkg);
  writeFolder(to, files);
  const sum = (byDtype: Record<string, number>) => Object.values(byDtype).reduce((a, b) => a + b, 0);
  const report = {
    out: to,
    files: [...files.keys()],
    already_quantized: original === pkg,
    weight_bytes_before: sum(original.weights.bytesByDtype()),
    weight_bytes_after: sum(pkg.weights.bytesByDtype()),
    bytes_by_dtype: pkg.weights.bytesByDtype(),
  };
  if (values.json) {
    io.out(JSON.stringify(report) + '\n');
    return;
  }
  io.out(`${report.already_quantized ? 'already int8; copied' : 'int8'}: ${report.weight_bytes_before} → ${report.weight_bytes_after} weight bytes `
    + `(${Object.entries(report.bytes_by_dtype).map(([k, v]) => `${k} ${v}`).join(', ')})\nwrote ${report.files.join(', ')} to ${to}\n`);
}

const commands: Record<string, (argv: string[], io: CliIo) => Promise<void>> = {
  generate: generateCommand,
  info: infoCommand,
  convert: convertCommand,
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
    await run(rest, io);
    return 0;
  } catch (e) {
    io.err(`error: ${describeError(e).replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}
