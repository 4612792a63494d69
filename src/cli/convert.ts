/** `mconv convert MODEL --to onnx -o OUT [--opset N] [--external-data] [--verify]` */
import { existsSync, realpathSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { load, run, save } from '../api.js';
import { MconvError, usageError } from '../errors.js';
import { FORMATS } from '../formats/registry.js';
import { compareOutputs, formatReport, DEFAULT_ATOL, DEFAULT_RTOL } from '../runtime/compare.js';
import { DEFAULT_BACKEND } from '../runtime/backend-names.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../runtime/onnxruntime.js';
import { coloursFor, paintReport } from './colour.js';
import { withProgress } from './progress.js';
import { printJson, type GlobalArgs, withReadOptions, readOptionsFrom, type ReadArgs } from './common.js';

export interface ConvertArgs extends GlobalArgs, ReadArgs {
  model: string;
  to: string;
  output?: string;
  opset?: number;
  'external-data'?: boolean;
  quantize?: string;
  verify?: boolean;
  atol: number;
  rtol: number;
  backend: string;
}

function samePath(a: string, b: string): boolean {
  try {
    return existsSync(b) && realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

export function convertCommand(y: Argv) {
  const writable = FORMATS.filter((f) => f.write).map((f) => f.id);
  return y.command<ConvertArgs>(
    'convert <model>',
    'convert a model to another format (written atomically)',
    (c) =>
      withReadOptions(c)
        .positional('model', { type: 'string', demandOption: true })
        .option('to', { alias: 't', type: 'string', demandOption: true, choices: writable, describe: 'target format' })
        .option('output', { alias: 'o', type: 'string', describe: 'output file (default: the input name with the new extension, in the current folder)' })
        .option('opset', { type: 'number', describe: 'ONNX opset to write (default 17)' })
        .option('external-data', { type: 'boolean', default: false, describe: 'ONNX: put weights in a .data file beside the model (automatic over 2 GB)' })
        .option('quantize', { type: 'string', choices: ['float16', 'uint8'], describe: 'tfjs: store float weights as float16, or uint8 with a per-tensor min and scale' })
        .option('verify', { type: 'boolean', default: false, describe: 'run the source and the result on the same random inputs and compare' })
        .option('atol', { type: 'number', default: DEFAULT_ATOL })
        .option('rtol', { type: 'number', default: DEFAULT_RTOL })
        .option('backend', { alias: 'b', type: 'string', default: DEFAULT_BACKEND }),
    async (args) => {
      const handler = FORMATS.find((f) => f.id === args.to)!;
      const out = args.output ?? basename(args.model, extname(args.model)) + handler.extensions[0];
      if (samePath(args.model, out)) throw usageError(`the output ${out} is the input file`, 'choose another -o path; mconv never overwrites its input');
      const { model, written, report, checker } = await withProgress(args, async (onProgress) => {
        const model = await load(args.model, { ...readOptionsFrom(args), onProgress });
        const written = await save(model, out, { format: args.to, opset: args.opset, externalData: args['external-data'], quantize: args.quantize as 'float16' | 'uint8' | undefined, onProgress });
        let report;
        let checker: string | undefined;
        if (args.verify) {
          const source = await run(model, undefined, { backend: args.backend, onProgress });
          let result: Map<string, import('../ir/tensor.js').Tensor>;
          if (args.to === 'onnx' && (await loadOnnxRuntime())) {
            checker = 'onnxruntime-node';
            onProgress?.({ stage: 'run', detail: `${out} on onnxruntime-node` });
            result = await runWithOnnxRuntime(out, source.inputs);
          } else {
            checker = `mconv runtime (${args.backend}) on the written file`;
            result = (await run(await load(out, { onProgress }), source.inputs, { backend: args.backend, onProgress })).outputs;
          }
          onProgress?.({ stage: 'compare' });
          report = compareOutputs(result, source.outputs, { atol: args.atol, rtol: args.rtol, byPosition: ![...source.outputs.keys()].every((k) => result.has(k)) });
        }
        return { model, written, report, checker };
      });
      const weightsOnlyTarget = args.to === 'safetensors' || args.to === 'torch';
      const dropped = weightsOnlyTarget && model.graph.nodes.length > 0
        ? `${args.to} holds weights only: the ${model.graph.nodes.length}-node graph was not written (its ${model.graph.initializers.size} weights were)`
        : undefined;
      if (dropped && !args.json) process.stderr.write(`mconv: note: ${dropped}\n`);
      if (args.json) printJson({ input: args.model, format: model.source.format, to: args.to, written, note: dropped, verify: report ? { checker, ...report } : undefined });
      else {
        process.stdout.write(`wrote ${written.join(', ')}\n`);
        if (report) process.stdout.write(`verify against ${checker}:\n${paintReport(formatReport(report), coloursFor(process.stdout))}\n`);
      }
      if (report && !report.ok) {
        throw new MconvError({ kind: 'mismatch', file: out, message: 'the converted model disagrees with the source (see the report above)' });
      }
    },
  );
}
