/** `mconv inspect MODEL`: format, producer, opset, inputs/outputs, a per-node table, totals. */
import type { Argv } from 'yargs';
import { load } from '../api.js';
import { inferShapes } from '../ir/infer.js';
import { summarizeModel } from '../inspect/summary.js';
import { printJson, type GlobalArgs, withReadOptions, readOptionsFrom, type ReadArgs } from './common.js';
import { renderSummary } from './render-summary.js';

export interface InspectArgs extends GlobalArgs, ReadArgs {
  model: string;
  all?: boolean;
  nodes?: boolean;
}

export function inspectCommand(y: Argv) {
  return y.command<InspectArgs>(
    'inspect <model>',
    'show a model: format, producer, opset, inputs, outputs, a per-node table and parameter totals',
    (c) =>
      withReadOptions(c)
        .positional('model', { type: 'string', demandOption: true, describe: 'model file or folder' })
        .option('all', { type: 'boolean', default: false, describe: 'show every node (long models are truncated)' })
        .option('nodes', { type: 'boolean', default: false, describe: 'also show the IR node table when the format has its own layer rows' }),
    async (args) => {
      const model = await load(args.model, readOptionsFrom(args));
      try {
        inferShapes(model.graph);
      } catch {
        // Shapes stay as the file recorded them when inference cannot complete.
      }
      const summary = summarizeModel(model);
      if (args.json) printJson(summary);
      else process.stdout.write(renderSummary(summary, { all: args.all, nodes: args.nodes, width: process.stdout.columns || Number(process.env.COLUMNS) || 100 }) + '\n');
    },
  );
}
