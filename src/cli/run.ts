/** `mconv run MODEL [--input [NAME=]FILE.npy ...] [--output-dir DIR] [--backend B]` */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Argv } from 'yargs';
import { load, run } from '../api.js';
import { writeNpy } from '../formats/npy/npy.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Tensor } from '../ir/tensor.js';
import { fileSafeNames, parseDims, printJson, readInputArgs, type GlobalArgs, withReadOptions, readOptionsFrom, type ReadArgs } from './common.js';
import { DEFAULT_BACKEND } from '../runtime/backend-names.js';
import { withProgress } from './progress.js';

export interface RunArgs extends GlobalArgs, ReadArgs {
  model: string;
  input?: string[];
  'output-dir'?: string;
  backend: string;
  seed: number;
  dim?: string[];
}

function stats(t: Tensor) {
  if (t.dtype === 'string' || t.size === 0) return {};
  const v = t.toFloat64();
  let min = Infinity, max = -Infinity, sum = 0;
  for (const x of v) { if (x < min) min = x; if (x > max) max = x; sum += x; }
  return { min, max, mean: sum / v.length };
}

export function runCommand(y: Argv) {
  return y.command<RunArgs>(
    'run <model>',
    'run a model on the reference runtime and write one .npy per output',
    (c) =>
      withReadOptions(c)
        .positional('model', { type: 'string', demandOption: true })
        .option('input', { alias: 'i', type: 'string', array: true, describe: '[NAME=]FILE.npy or FILE.npz (repeatable); default: seeded random inputs' })
        .option('output-dir', { alias: 'o', type: 'string', describe: 'folder for <output name>.npy files (and the random inputs used)' })
        .option('backend', { alias: 'b', type: 'string', default: DEFAULT_BACKEND, describe: 'wasm, cpu, webgpu or tensorflow' })
        .option('seed', { type: 'number', default: 0, describe: 'seed for random inputs' })
        .option('dim', { type: 'string', array: true, describe: 'bind a symbolic dimension for random inputs: NAME=VALUE' }),
    async (args) => {
      const { given, inputs, outputs } = await withProgress(args, async (onProgress) => {
        const model = await load(args.model, { ...readOptionsFrom(args), onProgress });
        const given = args.input?.length ? readInputArgs(args.input, model.graph.inputs) : undefined;
        return { given, ...(await run(model, given, { backend: args.backend, seed: args.seed, dims: parseDims(args.dim), onProgress })) };
      });
      const written: Record<string, string> = {};
      const savedInputs: Record<string, string> = {};
      if (args['output-dir']) {
        const dir = args['output-dir'];
        mkdirSync(dir, { recursive: true });
        const names = fileSafeNames([...outputs.keys()]);
        for (const [name, t] of outputs) {
          const p = join(dir, `${names.get(name)}.npy`);
          writeFileAtomic(p, writeNpy(t));
          written[name] = p;
        }
        if (!given) {
          const inNames = fileSafeNames([...inputs.keys()]);
          for (const [name, t] of inputs) {
            const p = join(dir, `${inNames.get(name)}.input.npy`);
            writeFileAtomic(p, writeNpy(t));
            savedInputs[name] = p;
          }
        }
      }
      const outList = [...outputs.entries()].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, file: written[name] ?? null, ...stats(t) }));
      if (args.json) {
        printJson({ backend: args.backend, randomInputs: !given, inputs: [...inputs.entries()].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, file: savedInputs[name] ?? null })), outputs: outList });
      } else {
        if (!given) process.stdout.write(`inputs: seeded random (seed ${args.seed})${args['output-dir'] ? ', saved beside the outputs' : ''}\n`);
        for (const o of outList) {
          const st = o.min !== undefined ? ` min ${o.min.toPrecision(5)} max ${o.max!.toPrecision(5)} mean ${o.mean!.toPrecision(5)}` : '';
          process.stdout.write(`${o.name}: ${o.dtype} (${o.shape.join(', ')})${st}${o.file ? ` -> ${o.file}` : ''}\n`);
        }
      }
    },
  );
}
