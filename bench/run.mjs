#!/usr/bin/env node
/**
 * `npm run bench`: time and peak memory of `mconv inspect` and `mconv convert --to onnx` on a
 * ~100 MB ResNet-50, next to Python's `onnx.load` + `onnx.save` on the same file, measured in
 * the same run on the same machine, printed as ratios. Needs the built CLI (npm run build),
 * /usr/bin/time (Debian `time`), and Debian's python3-onnx; the model comes from
 * bench/make_models.py (python3-torch + python3-torchvision).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const model = process.argv[2] ?? join(here, 'models', 'resnet50.onnx');
const cli = join(root, 'dist', 'cli', 'main.js');
const PY = '/usr/bin/python3';
const TIME = '/usr/bin/time';

function need(ok, what) {
  if (!ok) {
    console.error(`bench: ${what}`);
    process.exit(2);
  }
}
need(existsSync(cli), 'dist/cli/main.js is missing: run `npm run build` first');
need(existsSync(TIME), '/usr/bin/time is missing: apt-get install time');
if (!existsSync(model)) {
  console.log(`bench: ${model} not found, making it with bench/make_models.py ...`);
  const r = spawnSync(PY, [join(here, 'make_models.py')], { stdio: 'inherit' });
  need(r.status === 0 && existsSync(model), 'could not make the model (needs python3-torch and python3-torchvision)');
}

/** Runs a command under GNU time; returns wall seconds and peak RSS in MB (best of `reps`). */
function measure(cmd, args, reps = 3) {
  let best;
  for (let i = 0; i < reps; i++) {
    const r = spawnSync(TIME, ['-f', 'MCONV_BENCH %e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const m = /MCONV_BENCH ([\d.]+) (\d+)/.exec(r.stderr);
    if (r.status !== 0 || !m) {
      console.error(`bench: ${cmd} ${args.join(' ')} failed:\n${r.stderr.slice(-2000)}`);
      process.exit(1);
    }
    const res = { seconds: Number(m[1]), peakMB: Number(m[2]) / 1024 };
    if (!best || res.seconds < best.seconds) best = { ...res, peakMB: Math.max(res.peakMB, best?.peakMB ?? 0) };
  }
  return best;
}

const work = mkdtempSync(join(tmpdir(), 'mconv-bench-'));
try {
  const sizeMB = statSync(model).size / 2 ** 20;
  console.log(`model: ${model} (${sizeMB.toFixed(1)} MB)`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  const pyOut = join(work, 'py.onnx');
  const peer = measure(PY, ['-c', `import onnx; onnx.save(onnx.load(${JSON.stringify(model)}), ${JSON.stringify(pyOut)})`]);
  const peerLoad = measure(PY, ['-c', `import onnx; m = onnx.load(${JSON.stringify(model)}); print(len(m.graph.node))`]);
  const inspect = measure(process.execPath, [cli, 'inspect', model, '--json']);
  const convert = measure(process.execPath, [cli, 'convert', model, '--to', 'onnx', '-o', join(work, 'mconv.onnx')]);
  const rows = [
    ['python onnx.load', peerLoad],
    ['python onnx.load + onnx.save', peer],
    ['mconv inspect --json', inspect],
    ['mconv convert --to onnx', convert],
  ];
  console.log('\n| command | seconds | peak RSS (MB) |\n|---|---:|---:|');
  for (const [name, r] of rows) console.log(`| ${name} | ${r.seconds.toFixed(2)} | ${r.peakMB.toFixed(0)} |`);
  console.log('\nratios (mconv / python, lower is better):');
  console.log(`  inspect vs onnx.load:            time ${(inspect.seconds / peerLoad.seconds).toFixed(2)}x, peak memory ${(inspect.peakMB / peerLoad.peakMB).toFixed(2)}x`);
  console.log(`  convert vs onnx.load+onnx.save:  time ${(convert.seconds / peer.seconds).toFixed(2)}x, peak memory ${(convert.peakMB / peer.peakMB).toFixed(2)}x`);
  console.log(`  inspect peak RSS ${inspect.peakMB.toFixed(0)} MB on a ${sizeMB.toFixed(0)} MB model (target: under 150 MB): ${inspect.peakMB < 150 ? 'OK' : 'OVER'}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
