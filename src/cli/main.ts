/**
 * The studio's engine from a terminal:
 *   npm run cli -- generate --prompt "TEXT" --max-new-tokens N [--backend cpu|wasm] [--model DIR] [--json]
 *   npm run cli -- convert --model HF_DIR --out DIR     (float checkpoint → int8 studio package)
 * Errors are one line on stderr and a non-zero exit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../engine/backend';
import { ModelSession } from '../engine/session';
import { StudioError, describeError } from '../errors';
import { loadModelPackage, quantizeOnLoad, saveStudioPackage } from '../model/package';
import { folderSource, repoModelDir } from './nodeSource';

const USAGE = `usage: npm run cli -- <command> [options]
commands:
  generate --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--backend cpu|wasm] [--model DIR] [--json]
  info     [--backend cpu|wasm] [--model DIR] [--json]
  convert  --model DIR --out DIR [--json]     a float Hugging Face checkpoint → the studio's int8 package
generate and info quantize a float checkpoint to int8 as it loads, as the studio does; --float keeps it float.`;

const common = {
  backend: { type: 'string', default: 'cpu' },
  model: { type: 'string' },
  json: { type: 'boolean', default: false },
  float: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends ParseArgsConfig['options']>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...common, ...options }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new StudioError('cli', `${(e as Error).message.split('\n')[0]}`, `Run with --help for usage.`);
  }
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new StudioError('cli', `${flag} must be a positive integer, got "${value}".`);
  return n;
}

function nonNegativeInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new StudioError('cli', `${flag} must be a whole number ≥ 0, got "${value}".`);
  return n;
}

function finiteNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new StudioError('cli', `${flag} must be a number, got "${value}".`);
  return n;
}

async function nodeBackend(values: { backend?: string }) {
  const name = values.backend ?? 'cpu';
  if (!['cpu', 'wasm'].includes(name)) throw new StudioError('cli', `--backend must be cpu or wasm in Node, got "${name}".`);
  return selectBackend(name as BackendName);
}

async function openSession(values: { backend?: string; model?: string; float?: boolean }): Promise<ModelSession> {
  const backend = await nodeBackend(values);
  return ModelSession.open(folderSource(values.model ?? repoModelDir()), backend, undefined, { quantize: !values.float });
}

async function generateCommand(argv: string[]): Promise<void> {
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
    process.stdout.write(JSON.stringify({ prompt_ids: result.promptIds, generated_ids: result.generatedIds, text: result.text }) + '\n');
  } else {
    process.stdout.write(result.text + '\n');
  }
}

async function infoCommand(argv: string[]): Promise<void> {
  const values = parse(argv, {});
  const session = await openSession(values);
  const facts = session.facts();
  const memory = tf.memory();
  const report = { ...facts, tfMemory: { numTensors: memory.numTensors, numBytes: memory.numBytes } };
  if (values.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
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
  process.stdout.write(lines.join('\n') + '\n');
}

async function convertCommand(argv: string[]): Promise<void> {
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
  mkdirSync(to, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(path.join(to, name), bytes);
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
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  process.stdout.write(`${report.already_quantized ? 'already int8; copied' : 'int8'}: ${report.weight_bytes_before} → ${report.weight_bytes_after} weight bytes `
    + `(${Object.entries(report.bytes_by_dtype).map(([k, v]) => `${k} ${v}`).join(', ')})\nwrote ${report.files.join(', ')} to ${to}\n`);
}

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  generate: generateCommand,
  info: infoCommand,
  convert: convertCommand,
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help' || rest.includes('--help')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const run = commands[command];
  if (!run) throw new StudioError('cli', `unknown command "${command}".`, 'Commands: ' + Object.keys(commands).join(', ') + '.');
  await run(rest);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`error: ${describeError(e).replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  },
);
