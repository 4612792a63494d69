/** `mconv inspect MODEL`: format, producer, opset, inputs/outputs, a per-node table, totals. */
import type { Argv } from 'yargs';
import { load } from '../api.js';
import { usageError } from '../errors.js';
import { writeNpy } from '../formats/npy/npy.js';
import { inferShapes } from '../ir/infer.js';
import { prepareModel } from '../ir/passes/index.js';
import { withProgress } from './progress.js';
import { writeFileAtomic } from '../io/atomic.js';
import { modelCosts } from '../inspect/costs.js';
import { summarizeModel } from '../inspect/summary.js';
import { findWeight, formatTensor, tensorStats, weightStats } from '../inspect/weight-stats.js';
import { printJson, type GlobalArgs, withReadOptions, readOptionsFrom, type ReadArgs, parseDims } from './common.js';
import { renderCosts, renderTensor, renderWeightStats } from './render-costs.js';
import { renderSummary } from './render-summary.js';
import { PICTURE_FORMATS, pictureRequest, writeModelPicture } from './render-picture.js';

export interface InspectArgs extends GlobalArgs, ReadArgs {
  model: string;
  all?: boolean;
  nodes?: boolean;
  costs?: boolean;
  batch?: number;
  dim?: string[];
  weights?: boolean;
  tensor?: string;
  save?: string;
  format?: string;
  output?: string;
}

export function inspectCommand(y: Argv) {
  return y.command<InspectArgs>(
    'inspect <model>',
    'show a model: format, producer, opset, inputs, outputs, a per-node table and parameter totals',
    (c) =>
      withReadOptions(c)
        .positional('model', { type: 'string', demandOption: true, describe: 'model file or folder' })
        .option('all', { type: 'boolean', default: false, describe: 'show every node (long models are truncated)' })
        .option('nodes', { type: 'boolean', default: false, describe: 'also show the IR node table when the format has its own layer rows' })
        .option('costs', { type: 'boolean', default: false, describe: 'per-node MACs, parameters and activation memory, with totals' })
        .option('batch', { type: 'number', describe: 'with --costs: bind the first symbolic dim of each input (default 1)' })
        .option('dim', { type: 'string', array: true, describe: 'with --costs: bind a symbolic dim, NAME=VALUE' })
        .option('weights', { type: 'boolean', default: false, describe: 'statistics of every weight (min, max, mean, std, zeros, NaN/Inf, histogram) and warnings' })
        .option('tensor', { type: 'string', describe: "print one weight's values (numpy-style, elided)" })
        .option('save', { type: 'string', describe: 'with --tensor: also write it to FILE.npy' })
        .option('format', { type: 'string', choices: ['text', ...PICTURE_FORMATS], default: 'text', describe: 'text summary, or a picture of the graph: dot (Graphviz), svg, png (needs -o), html (one offline page: picture and tables); not with --json, which is a usage error' })
        .option('output', { alias: 'o', type: 'string', describe: 'with --format: write to FILE instead of stdout (the format may come from its extension)' }),
    async (args) => {
      if (args.save !== undefined && args.tensor === undefined) throw usageError('--save needs --tensor NAME', 'e.g. mconv inspect model.onnx --tensor fc.weight --save fc.npy');
      if (args.batch !== undefined && (!Number.isInteger(args.batch) || args.batch < 1)) throw usageError(`--batch must be a positive integer, got ${args.batch}`);
      const dims = parseDims(args.dim);
      const picture = pictureRequest(args);
      const model = await withProgress(args, (onProgress) => load(args.model, { ...readOptionsFrom(args), onProgress }));
      // Node-level views show the graph as it will be converted (layout Transposes cancelled);
      // the default summary reads no weights.
      if (args.nodes || args.costs || picture) prepareModel(model);
      try {
        inferShapes(model.graph);
      } catch {
        // Shapes stay as the file recorded them when inference cannot complete.
      }
      if (picture) {
        await writeModelPicture(model, picture, { output: args.output, costs: { batch: args.batch, dims } });
        return;
      }
      const summary = summarizeModel(model);
      const costs = args.costs ? modelCosts(model, { batch: args.batch, dims }) : undefined;
      const stats = args.weights ? weightStats(model) : undefined;
      let tensor: { name: string; dtype: string; shape: number[]; stats: ReturnType<typeof tensorStats> | null; text: string; values?: unknown[]; saved?: string } | undefined;
      if (args.tensor !== undefined) {
        const t = findWeight(model, args.tensor);
        const numeric = t.dtype !== 'string' && t.dtype !== 'complex64' && t.dtype !== 'complex128';
        const s = numeric ? tensorStats(t, args.tensor) : null;
        tensor = { name: args.tensor, dtype: t.dtype, shape: t.shape.slice(), stats: s, text: formatTensor(t) };
        if (args.json && t.size <= 10000 && t.dtype !== 'complex64' && t.dtype !== 'complex128') tensor.values = t.toArray();
        if (args.save !== undefined) {
          writeFileAtomic(args.save, writeNpy(t));
          tensor.saved = args.save;
        }
      }
      const width = process.stdout.columns || Number(process.env.COLUMNS) || 100;
      if (args.json) {
        printJson({ ...summary, ...(costs ? { costs } : {}), ...(stats ? { weightStats: stats } : {}), ...(tensor ? { tensor } : {}) });
        return;
      }
      const sections: string[] = [];
      if (costs || stats || tensor) {
        // A focused view: the model line, then the sections asked for.
        sections.push(`Model: ${summary.file ?? summary.graphName} (${summary.format})`);
        if (costs) sections.push(renderCosts(costs, { all: args.all, width }));
        if (stats) sections.push(renderWeightStats(stats, { all: args.all, width }));
        if (tensor) sections.push(renderTensor(tensor.stats, tensor.name, tensor.text, tensor.saved));
      } else {
        sections.push(renderSummary(summary, { all: args.all, nodes: args.nodes, width }));
      }
      process.stdout.write(sections.join('\n') + '\n');
    },
  );
}
