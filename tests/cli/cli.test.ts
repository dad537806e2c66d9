/**
 * The CLI's soft-prompt commands (train, eval, export, import, predict), convert and base-model, run in-process
 * through runCli on their default backend (wasm; one run on cpu), checked against the engine
 * called directly: the same files, the same numbers, the same CSV. One spawned run checks
 * the process entry.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { folderSource } from '../../src/cli/nodeSource';
import { StudioEngine } from '../../src/engine/studio';
import { readPeftAdapter } from '../../src/formats/peft';
import { parseSafetensors } from '../../src/formats/safetensors';
import { loadModelPackage, quantizeOnLoad, saveStudioPackage } from '../../src/model/package';
import { hasSharedModel, packageDir, repoRoot } from '../helpers';
import { checkpointDir } from '../model/checkpoints';
import { smsSample } from '../tuning/fixtures';

const ready = hasSharedModel && existsSync(path.join(packageDir('stories260K'), 'model.safetensors'));

interface Result {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function folderFiles(dir: string): Map<string, Uint8Array> {
  return new Map(readdirSync(dir).sort().map((name) => [name, new Uint8Array(readFileSync(path.join(dir, name)))]));
}

async function freshEngine(): Promise<StudioEngine> {
  const engine = new StudioEngine(() => {});
  await engine.init('wasm');
  await engine.loadModel(folderSource(packageDir('stories260K')));
  return engine;
}

const small = ['--steps', '6', '--batch-size', '4', '--max-length', '32', '--virtual-tokens', '4'];

describe.skipIf(!ready)('the CLI: train, eval, export, import, predict', () => {
  let dir: string;
  let csv: string;
  let adapter: string;
  let trained: Result;
  let lines: Record<string, unknown>[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'studio-cli-'));
    csv = path.join(dir, 'sms.csv');
    const sample = smsSample(20);
    writeFileSync(csv, Papa.unparse([sample.columns, ...sample.rows]));
    adapter = path.join(dir, 'spam-prompt');
    trained = await cli('train', '--data', csv, ...small, '--out', adapter, '--zip', path.join(dir, 'spam-prompt-train.zip'));
    lines = trained.out.trim().split('\n').map((l) => JSON.parse(l));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('train prints one JSON line per evaluation and writes a PEFT adapter folder that parses back', () => {
    expect(trained.err).not.toMatch(/^error:/m);
    expect(trained.code).toBe(0);
    // The baselines come right after the first evaluation (training does not wait for them).
    expect(lines.map((l) => [l.variant, l.step])).toEqual([['soft', 6], ['zero-shot', 0], ['text', 0], ['discrete', 6]]);
    for (const l of lines) {
      expect(l.examples).toBe(8);
      expect(typeof l.accuracy).toBe('number');
      expect(typeof l.macro_f1).toBe('number');
      expect(l.generation_accuracy).toBeGreaterThanOrEqual(0);
      expect(l.generation_accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(l.loss)).toBe(true);
    }
    expect(trained.err).toMatch(/^step 6\/6  loss \d+\.\d{4}  lr \S+  \d+\.\d\d s\/step  \d+ tok\/s  eta 0 s$/m);
    expect(trained.err).toContain('backend wasm');
    expect(trained.err).toMatch(/^Memory: about \d+ MB at peak, of the \d+\.\d GB the wasm backend may hold here\. The backward keeps every activation it needs\.$/m);

    const files = folderFiles(adapter);
    expect([...files.keys()]).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'checkpoint.safetensors', 'studio.json']);
    const peft = readPeftAdapter(files);
    expect(peft.peftType).toBe('PROMPT_TUNING');
    expect(peft.config).toMatchObject({ num_virtual_tokens: 4, token_dim: 64, task_type: 'CAUSAL_LM', base_model_name_or_path: 'stories260K' });
    expect(Object.fromEntries(Object.entries(peft.tensors).map(([k, t]) => [k, t.shape]))).toEqual({ prompt_embeddings: [4, 64] });
    const safetensors = parseSafetensors(files.get('adapter_model.safetensors')!);
    expect(safetensors.metadata).toEqual({ format: 'pt' });

    const studio = JSON.parse(new TextDecoder().decode(files.get('studio.json')));
    const soft = lines.find((l) => l.variant === 'soft')!;
    expect(studio.labels).toEqual(['ham', 'spam']);
    expect(studio.trainingConfig).toMatchObject({ method: 'prompt', steps: 6, batchSize: 4, maxLength: 32, numVirtualTokens: 4 });
    expect(studio.metrics).toMatchObject({
      step: 6,
      validation_accuracy: soft.accuracy,
      validation_macro_f1: soft.macro_f1,
      validation_generation_accuracy: soft.generation_accuracy,
      validation_loss: soft.loss,
      'zero-shot_accuracy': lines[1].accuracy,
      discrete_accuracy: lines[3].accuracy,
    });
    expect(parseSafetensors(files.get('checkpoint.safetensors')!).metadata.step).toBe('6');
  });

  it('train writes prefix tuning in its PEFT shape [P, layers·2·kv_dim] (on the cpu backend)', async () => {
    const out = path.join(dir, 'prefix');
    const r = await cli('train', '--data', csv, '--method', 'prefix', '--steps', '2', '--batch-size', '4', '--max-length', '32', '--virtual-tokens', '3', '--backend', 'cpu', '--out', out);
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    expect(r.err).toContain('backend cpu');
    const peft = readPeftAdapter(folderFiles(out));
    expect(peft.peftType).toBe('PREFIX_TUNING');
    expect(peft.tensors.prompt_embeddings.shape).toEqual([3, 5 * 2 * 32]);
  });

  it('eval on the folder reproduces the validation metrics train printed last for the soft prompt', async () => {
    const soft = lines.find((l) => l.variant === 'soft')!;
    const r = await cli('eval', '--adapter', adapter, '--data', csv, '--baselines', '--json');
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ scope: 'validation', method: 'prompt', labels: ['ham', 'spam'], examples: 8, trained_steps: 6 });
    expect(report.accuracy).toBe(soft.accuracy);
    expect(report.macro_f1).toBe(soft.macro_f1);
    expect(report.generation_accuracy).toBe(soft.generation_accuracy);
    expect(report.loss).toBeCloseTo(soft.loss as number, 6);
    expect(report.per_class.map((c: { label: string; support: number }) => [c.label, c.support])).toEqual([['ham', 4], ['spam', 4]]);
    // train prints the baselines after its first evaluation (they no longer hold the first step back).
    const zeroShot = lines.find((l) => l.variant === 'zero-shot')!;
    expect(report.baselines['zero-shot'].accuracy).toBe(zeroShot.accuracy);
    expect(report.baselines['zero-shot'].loss).toBeCloseTo(zeroShot.loss as number, 6);

    // --all scores every row (training split included); the zip reads the same as the folder.
    const all = JSON.parse((await cli('eval', '--adapter', path.join(dir, 'spam-prompt-train.zip'), '--data', csv, '--all', '--json')).out);
    expect(all).toMatchObject({ scope: 'all', examples: 40 });
    expect(all.per_class.reduce((a: number, c: { support: number }) => a + c.support, 0)).toBe(40);
  });

  it('train --resume continues the run: 3 steps + 3 more is the 6-step run', async () => {
    const half = path.join(dir, 'half');
    const first = await cli('train', '--data', csv, ...small, '--steps', '3', '--out', half);
    expect(first.code).toBe(0);
    const rest = await cli('train', '--data', csv, '--steps', '6', '--resume', half, '--out', path.join(dir, 'resumed'));
    expect(rest.err).not.toMatch(/^error:/m);
    expect(rest.code).toBe(0);
    const restLines = rest.out.trim().split('\n').map((l) => JSON.parse(l));
    // No baselines again; the soft evaluation at step 6 is the uninterrupted run's.
    expect(restLines.map((l) => l.variant)).toEqual(['soft', 'discrete']);
    const soft = lines.find((l) => l.variant === 'soft')!;
    expect(restLines[0].step).toBe(6);
    expect(restLines[0].accuracy).toBe(soft.accuracy);
    expect(restLines[0].loss).toBeCloseTo(soft.loss as number, 5);
  });

  it('export: folder → zip is byte for byte the engine\'s exportAdapter, and zip → folder gives back the files', async () => {
    const zip = path.join(dir, 'out', 'spam.zip');
    const toZip = await cli('export', '--adapter', adapter, '--out', zip);
    expect(toZip.err).not.toMatch(/^error:/m);
    expect(toZip.code).toBe(0);
    const zipBytes = new Uint8Array(readFileSync(zip));

    const engine = await freshEngine();
    await engine.importAdapter({ fileName: 'spam-prompt', files: folderFiles(adapter) });
    const inProcess = await engine.exportAdapter();
    expect(Buffer.from(zipBytes).equals(Buffer.from(inProcess.bytes))).toBe(true);
    // train --zip wrote the same archive.
    expect(Buffer.from(readFileSync(path.join(dir, 'spam-prompt-train.zip'))).equals(Buffer.from(zipBytes))).toBe(true);

    const back = path.join(dir, 'back');
    const toFolder = await cli('export', '--adapter', zip, '--out', back);
    expect(toFolder.code).toBe(0);
    const original = folderFiles(adapter);
    const again = folderFiles(back);
    expect([...again.keys()]).toEqual([...original.keys()]);
    for (const [name, bytes] of original) expect([name, Buffer.from(again.get(name)!).equals(Buffer.from(bytes))]).toEqual([name, true]);
  });

  it('import checks the adapter against the model and prints its AdapterInfo', async () => {
    const r = await cli('import', '--adapter', adapter, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info).toMatchObject({
      fileName: 'spam-prompt', peftType: 'PROMPT_TUNING', method: 'prompt', numVirtualTokens: 4, labels: ['ham', 'spam'],
      fromStudio: true, fingerprintMatches: true, hasCheckpoint: true,
    });
    expect(info.metrics.step).toBe(6);
    expect(info.runId).toBeUndefined();
  });

  it('predict writes the CSV engine.batchPredict writes for the same adapters and rows', async () => {
    const prefix = path.join(dir, 'prefix');
    const rows = [
      ['message', 'prompt'],
      ['WINNER!! You have won a free prize, call now', 'spam-prompt'],
      ['see you at lunch tomorrow', 'prefix'],
      ['URGENT claim your reward', 'prefix'],
      ['=cmd|calc', 'spam-prompt'],
      ['ok thanks', 'missing'],
    ];
    const input = path.join(dir, 'rows.csv');
    writeFileSync(input, Papa.unparse(rows));
    const out = path.join(dir, 'predictions.csv');
    const r = await cli('predict', '--adapters', `${adapter},${prefix}`, '--data', input, '--prompt-column', 'prompt', '--out', out);
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    expect(r.err).toContain('1 of 5 rows could not be predicted');

    const engine = await freshEngine();
    for (const [name, folder] of [['spam-prompt', adapter], ['prefix', prefix]]) {
      await engine.importAdapter({ fileName: name, files: folderFiles(folder) });
      await engine.addToLibrary(name);
    }
    const expected = await engine.batchPredict({ fileName: 'rows.csv', bytes: new Uint8Array(readFileSync(input)), textColumn: 'message', promptColumn: 'prompt' });
    expect(readFileSync(out, 'utf8')).toBe(expected.csv);
    const parsed = Papa.parse<string[]>(expected.csv.trim()).data;
    expect(parsed[0]).toEqual(['line', 'text', 'prompt', 'task', 'predicted', 'p(ham)', 'p(spam)', 'error']);
    expect(parsed[5].at(-1)).toBe('No prompt named "missing" in the library.');

    // One adapter, no prompt column: every row uses it; the CSV goes to stdout.
    const solo = await cli('predict', '--adapters', adapter, '--data', input, '--text-column', 'message');
    expect(solo.code).toBe(0);
    const soloRows = Papa.parse<string[]>(solo.out.trim()).data;
    expect(soloRows.slice(1).map((row) => [row[2], row.at(-1)])).toEqual(rows.slice(1).map(() => ['spam-prompt', '']));
    // Same prompt, same text: the same probabilities as in the mixed batch.
    expect(soloRows[1].slice(5, 7)).toEqual(parsed[1].slice(5, 7));
  });

  it('generate --adapter writes what engine.predict continues with the adapter, zero-shot beside it', async () => {
    const text = 'WINNER!! You have won a free prize, call now';
    const r = await cli('generate', '--adapter', adapter, '--prompt', text, '--max-new-tokens', '6', '--json');
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.out);
    const engine = await freshEngine();
    await engine.importAdapter({ fileName: 'spam-prompt', files: folderFiles(adapter) });
    const [expected] = await engine.predict([text], ['soft', 'zero-shot'], 6);
    expect(printed).toMatchObject({ text, template: '{text}\nLabel:' });
    expect(printed.soft.generated_ids).toEqual(expected.continuations!.soft!.ids);
    expect(printed.soft.continuation).toBe(expected.continuations!.soft!.text);
    expect(printed.zero_shot.generated_ids).toEqual(expected.continuations!['zero-shot']!.ids);
    expect([printed.soft.probabilities.ham, printed.soft.probabilities.spam]).toEqual(expected.probabilities.soft);
    // In words: the continuation on stdout, the zero-shot one on stderr.
    const plain = await cli('generate', '--adapter', adapter, '--prompt', text, '--max-new-tokens', '6');
    expect(plain.out).toBe(`${expected.continuations!.soft!.text}\n`);
    expect(plain.err).toContain(`without the prompt (zero-shot): ${JSON.stringify(expected.continuations!['zero-shot']!.text)}`);
    const sampled = await cli('generate', '--adapter', adapter, '--prompt', text, '--temperature', '0.7');
    expect(sampled.code).not.toBe(0);
    expect(sampled.err).toContain('generate --adapter decodes greedily');
    const taskless = await cli('generate', '--adapter', adapter, '--prompt', text, '--task', 'mood');
    expect(taskless.err).toContain('error: --task mood: the adapter is not a multitask prompt; it has one task.');
  });

  it('a multitask adapter: studio.json keeps each task\'s labels; generate --task and predict classify a task among its own', async () => {
    const rows = [
      ...smsSample(6).rows.map(([t, l]) => [t, l, 'spam']),
      ...['I love this sunny day', 'What a wonderful gift', 'This is great news', 'I feel awful today', 'The rain ruined it', 'Nothing went right']
        .map((t, i) => [t, i < 3 ? 'happy' : 'sad', 'mood']),
    ];
    const twoTasks = path.join(dir, 'two-tasks.csv');
    writeFileSync(twoTasks, Papa.unparse([['text', 'label', 'task'], ...rows, ...rows]));
    const multitask = path.join(dir, 'multitask');
    const trainedHere = await cli('train', '--data', twoTasks, '--task-column', 'task', '--method', 'multitask', ...small, '--out', multitask);
    expect(trainedHere.code).toBe(0);
    // studio.json and the card say each task's labels, so the adapter alone classifies a task among its own.
    const studio = JSON.parse(readFileSync(path.join(multitask, 'studio.json'), 'utf8'));
    expect(Object.fromEntries(studio.tasks.map((t: string, i: number) => [t, studio.taskLabels[i]]))).toEqual({ mood: ['happy', 'sad'], spam: ['ham', 'spam'] });
    expect(readFileSync(path.join(multitask, 'README.md'), 'utf8')).toContain('= `mood` (`happy`, `sad`)');
    const text = 'I got a free prize today';
    const r = await cli('generate', '--adapter', multitask, '--prompt', text, '--task', 'mood', '--max-new-tokens', '4', '--json');
    expect(r.err).not.toMatch(/^error:/m);
    const printed = JSON.parse(r.out);
    expect(printed.task).toBe('mood');
    expect(Object.keys(printed.soft.probabilities).sort()).toEqual(['happy', 'sad']);
    const engine = await freshEngine();
    const info = await engine.importAdapter({ fileName: 'multitask', files: folderFiles(multitask) });
    const [expected] = await engine.predict([text], ['soft'], 4, info.tasks.indexOf('mood'));
    expect(printed.soft.generated_ids).toEqual(expected.continuations!.soft!.ids);
    expect(printed.soft.probabilities.happy).toBe(expected.probabilities.soft![info.labels.indexOf('happy')]);
    const unknown = await cli('generate', '--adapter', multitask, '--prompt', text, '--task', 'weather');
    expect(unknown.err).toContain('error: --task weather: the adapter\'s tasks are ');
    // Batch prediction: each row among its task's labels only.
    const rowsCsv = path.join(dir, 'task-rows.csv');
    writeFileSync(rowsCsv, Papa.unparse([['text', 'task'], [text, 'mood'], [text, 'spam']]));
    const predicted = await cli('predict', '--adapters', multitask, '--data', rowsCsv, '--task-column', 'task');
    expect(predicted.code).toBe(0);
    const table = Papa.parse<Record<string, string>>(predicted.out.trim(), { header: true }).data;
    expect(table.map((r) => [r.task, ['happy', 'sad'].includes(r.predicted) ? 'mood' : 'spam'])).toEqual([['mood', 'mood'], ['spam', 'spam']]);
    expect([Number(table[0]['p(ham)']), Number(table[0]['p(spam)'])]).toEqual([0, 0]);
    expect([Number(table[1]['p(happy)']), Number(table[1]['p(sad)'])]).toEqual([0, 0]);
    expect(Number(table[0]['p(happy)']) + Number(table[0]['p(sad)'])).toBeCloseTo(1, 5);
  });

  it('train --dry-run plans the run as train starts it (the texts it cuts, its memory plan) and trains and writes nothing', async () => {
    const r = await cli('train', '--data', csv, '--dry-run', ...small);
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as { dryRun: boolean; config: { maxLength: number; steps: number }; memory: { note: string }; tokenLengths: { cut: number; of: number; sampled: boolean } };
    expect([plan.dryRun, plan.config.maxLength, plan.config.steps]).toEqual([true, 32, 6]);
    // What the trained run of the same settings reported as it started.
    const cutByRun = Number(/; (\d+) texts cut to 32 tokens/.exec(trained.err)?.[1]);
    expect(cutByRun).toBeGreaterThan(0);
    expect(plan.tokenLengths).toMatchObject({ cut: cutByRun, of: 40, sampled: false });
    // The same plan (the peak's figure moves with what else this test process holds on the backend).
    const planned = (note: string) => note.replace(/^Memory: about [\d.]+ [KMG]?B at peak/, 'Memory: about … at peak');
    const startedWith = trained.err.split('\n').find((l) => l.startsWith('Memory: '));
    expect(planned(plan.memory.note)).toBe(planned(startedWith!));
    expect(r.err).toContain(`max length 32 cuts ${cutByRun} of 40\n${plan.memory.note}\ndry run: nothing was trained\n`);
    expect(r.err).not.toMatch(/^step /m);
  });

  it('bad input exits non-zero with one plain line on stderr', async () => {
    const cases: [string[], string][] = [
      [['train', '--data', csv, '--dry-run', '--max-length', '4'], 'error: The max length (4 tokens) is below the template\'s own length'],
      [['train', '--data', csv, '--dry-run', '--out', path.join(dir, 'x')], 'error: --dry-run plans a new run and writes nothing: it takes no --out, --zip or --resume.'],
      [['train', '--out', path.join(dir, 'x')], 'error: train needs --data FILE.csv. Run with --help for usage.'],
      [['train', '--data', path.join(dir, 'nope.csv'), '--out', path.join(dir, 'x')], `error: The data file ${path.join(dir, 'nope.csv')} does not exist.`],
      [['train', '--data', csv, '--label-column', 'category', '--out', path.join(dir, 'x'), ...small],
        'error: The label column "category" does not exist in this file. Choose one of its columns. The file\'s columns are: text, label.'],
      [['eval', '--adapter', path.join(dir, 'no-such-adapter'), '--data', csv],
        `error: The adapter ${path.join(dir, 'no-such-adapter')} does not exist. Pass the folder holding adapter_config.json and adapter_model.safetensors (as train --out writes it), or the adapter zip.`],
      [['eval', '--adapter', dir, '--data', csv], `error: The folder ${dir} has no adapter_config.json, so it is not an adapter.`],
      [['train', '--data', csv, '--out', path.join(dir, 'x'), '--steps', 'many'], 'error: --steps must be a positive integer, got "many".'],
      [['train', '--data', csv, '--out', path.join(dir, 'x'), '--method', 'lora'], 'error: --method must be prompt, ptuning-mlp, ptuning-lstm, prefix, multitask, got "lora".'],
      [['train', '--data', csv, '--out', path.join(dir, 'x'), '--batch-size', '64'], 'error: The batch size (64) is larger than the training split (32 examples). Use a batch size of at most 32.'],
      [['predict', '--adapters', `${adapter},${adapter}`, '--data', csv], 'error: Two adapters are named "spam-prompt"'],
      [['train', '--data', csv, '--out', path.join(dir, 'x'), '--backend', 'webgpu'], 'error: --backend must be cpu or wasm in Node, got "webgpu".'],
      [['frobnicate'], 'error: unknown command "frobnicate".'],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 1]);
      const errors = r.err.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0].startsWith(message)).toBe(true);
      expect(r.err).not.toMatch(/^\s+at /m);
      expect(r.out).toBe('');
    }
    expect(existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('runs as a process: `tsx src/cli/main.ts eval` prints the JSON and exits 0; a bad flag exits 1', async () => {
    const run = promisify(execFile);
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const { stdout } = await run(tsx, ['src/cli/main.ts', 'eval', '--adapter', adapter, '--data', csv, '--json'], { cwd: repoRoot });
    const soft = lines.find((l) => l.variant === 'soft')!;
    expect(JSON.parse(stdout).accuracy).toBe(soft.accuracy);
    const failed = await run(tsx, ['src/cli/main.ts', 'eval', '--adapter', adapter], { cwd: repoRoot }).then(() => null, (e) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('error: eval needs --data FILE.csv, the labeled data to score the adapter on. Run with --help for usage.\n');
  });
});

describe('the CLI: convert', () => {
  it('quantizes a float checkpoint as it streams in, to the package quantizing it whole gives, and says what it read', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'studio-convert-'));
    try {
      const from = checkpointDir('llama');
      const converted = await cli('convert', '--model', from, '--out', path.join(out, 'int8'), '--backend', 'cpu', '--json');
      expect(converted.err).toBe('');
      expect(converted.code).toBe(0);
      const report = JSON.parse(converted.out) as Record<string, unknown>;
      const floatFile = parseSafetensors(new Uint8Array(readFileSync(path.join(from, 'model.safetensors'))));
      const floatBytes = [...floatFile.tensors.values()].reduce((n, t) => n + t.bytes.byteLength, 0);
      const whole = quantizeOnLoad(await loadModelPackage(folderSource(from)));
      expect(report.already_quantized).toBe(false);
      expect(report.weight_bytes_before).toBe(floatBytes);
      expect(report.weight_bytes_after).toBe(Object.values(whole.weights.bytesByDtype()).reduce((a, b) => a + b, 0));
      expect(folderFiles(path.join(out, 'int8'))).toEqual(saveStudioPackage(whole));

      // Converting the studio package again copies it.
      const again = await cli('convert', '--model', path.join(out, 'int8'), '--out', path.join(out, 'again'), '--backend', 'cpu', '--json');
      expect(again.code).toBe(0);
      const second = JSON.parse(again.out) as Record<string, unknown>;
      expect(second.already_quantized).toBe(true);
      expect(second.weight_bytes_before).toBe(second.weight_bytes_after);
      expect(folderFiles(path.join(out, 'again'))).toEqual(folderFiles(path.join(out, 'int8')));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('the CLI: base-model', () => {
  it('writes the folder the page\'s "Download base model" zips, file for file, from a float checkpoint and from the int8 package', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'studio-base-model-'));
    try {
      for (const from of [checkpointDir('llama'), ...(ready ? [packageDir('stories260K')] : [])]) {
        const to = path.join(out, path.basename(from));
        const written = await cli('base-model', '--model', from, '--out', to, '--json');
        expect(written.err).toBe('');
        expect(written.code).toBe(0);
        const report = JSON.parse(written.out) as { files: string[]; weight_bytes: number; adapter_folder_name: string };
        const engine = new StudioEngine(() => {});
        await engine.init('cpu');
        await engine.loadModel(folderSource(from));
        try {
          const base = await engine.exportBaseModel();
          expect(report.adapter_folder_name).toBe(base.folder);
          const zipped = unzipSync(new Uint8Array(await base.blob.arrayBuffer()));
          const expected = new Map(Object.entries(zipped).map(([name, bytes]) => [name.slice(base.folder.length + 1), bytes]));
          expect(folderFiles(to)).toEqual(new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
          expect(report.files.sort()).toEqual([...expected.keys()].sort());
          expect(report.weight_bytes).toBe(expected.get('model.safetensors')!.byteLength);
        } finally {
          engine.session?.dispose();
        }
      }
      const refused = await cli('base-model', '--model', checkpointDir('llama'));
      expect(refused.code).not.toBe(0);
      expect(refused.err).toContain('base-model needs --out DIR.');
      const over = await cli('base-model', '--model', checkpointDir('llama'), '--out', checkpointDir('llama'));
      expect(over.err).toContain('--out must be another folder than --model');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
