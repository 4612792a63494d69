/** `mconv verify A B [--input ...] [--atol] [--rtol] [--backend]`: exit 0 when the outputs agree, 1 when not. */
import type { Argv } from 'yargs';
import { load, verify } from '../api.js';
import { formatReport, DEFAULT_ATOL, DEFAULT_RTOL } from '../runtime/compare.js';
import { DEFAULT_BACKEND } from '../runtime/backend-names.js';
import { coloursFor, paintReport } from './colour.js';
import { withProgress } from './progress.js';
import { parseDims, printJson, readInputArgs, type GlobalArgs, withReadOptions, readOptionsFrom, type ReadArgs } from './common.js';

export interface VerifyArgs extends GlobalArgs, ReadArgs {
  a: string;
  b: string;
  input?: string[];
  atol: number;
  rtol: number;
  backend: string;
  seed: number;
  dim?: string[];
}

export function verifyCommand(y: Argv) {
  return y.command<VerifyArgs>(
    'verify <a> <b>',
    'run two models on the same inputs and compare their outputs (isclose report)',
    (c) =>
      withReadOptions(c)
        .positional('a', { type: 'string', demandOption: true, describe: 'reference model' })
        .positional('b', { type: 'string', demandOption: true, describe: 'model to check' })
        .option('input', { alias: 'i', type: 'string', array: true, describe: '[NAME=]FILE.npy or FILE.npz; default: seeded random inputs' })
        .option('atol', { type: 'number', default: DEFAULT_ATOL })
        .option('rtol', { type: 'number', default: DEFAULT_RTOL })
        .option('backend', { type: 'string', default: DEFAULT_BACKEND, describe: 'wasm, cpu, webgpu or tensorflow' })
        .option('seed', { type: 'number', default: 0 })
        .option('dim', { type: 'string', array: true, describe: 'bind a symbolic dimension: NAME=VALUE' }),
    async (args) => {
      const { report } = await withProgress(args, async (onProgress) => {
        const a = await load(args.a, { ...readOptionsFrom(args), onProgress });
        const b = await load(args.b, { ...readOptionsFrom(args), onProgress });
        const feeds = args.input?.length ? readInputArgs(args.input, a.graph.inputs) : undefined;
        return verify(a, b, feeds, { atol: args.atol, rtol: args.rtol, backend: args.backend, seed: args.seed, dims: parseDims(args.dim), onProgress });
      });
      if (args.json) printJson({ a: args.a, b: args.b, backend: args.backend, ...report });
      else process.stdout.write(paintReport(formatReport(report), coloursFor(process.stdout)) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    },
  );
}
