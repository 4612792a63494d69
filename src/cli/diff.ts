/**
 * `mconv diff A B [--atol 1e-6] [--as-read] [--all]`: what differs between two models of any
 * formats: inputs/outputs, nodes, weights (with their largest absolute difference).
 * Exit 0 when equivalent, 1 when not.
 */
import Table from 'cli-table3';
import type { Argv } from 'yargs';
import { load } from '../api.js';
import { usageError } from '../errors.js';
import { inferShapes } from '../ir/infer.js';
import { prepareModel } from '../ir/passes/index.js';
import type { Model } from '../ir/graph.js';
import { DEFAULT_DIFF_ATOL, diffModels, type IoDiff, type ModelDiff, type NodeDiff, type SideValue, type WeightDiff } from '../inspect/diff.js';
import { coloursFor, type Colours } from './colour.js';
import { printJson, type GlobalArgs, withReadOptions, readOptionsFrom, type ReadArgs } from './common.js';
import { withProgress } from './progress.js';
import { shapeText } from './render-summary.js';

export interface DiffArgs extends GlobalArgs, ReadArgs {
  a: string;
  b: string;
  atol: number;
  'as-read'?: boolean;
  all?: boolean;
  'weights-only'?: boolean;
}

function table(head: string[], widths: number[]): Table.Table {
  return new Table({ head, colWidths: widths, wordWrap: true, wrapOnWordBoundary: false, style: { head: [], border: [], compact: true } });
}

/**
 * Column widths fitted to content; on a narrow terminal the widest of the columns in `shrinkOrder`
 * gives way first (each down to 14); the status column keeps its width.
 */
function fit(rows: string[][], head: string[], width: number, caps: number[], shrinkOrder: number[]): number[] {
  const w = head.map((h, i) => Math.min(caps[i]!, Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2));
  let over = w.reduce((a, b) => a + b, 0) + head.length + 1 - width;
  while (over > 0) {
    // The widest of the columns allowed to shrink gives way, one character at a time.
    let i = -1;
    for (const k of shrinkOrder) if (w[k]! > 14 && (i < 0 || w[k]! > w[i]!)) i = k;
    if (i < 0) break;
    w[i]!--;
    over--;
  }
  return w;
}

function valueText(v: SideValue | undefined): string {
  return v ? `${v.name} ${v.dtype ?? '?'} ${shapeText(v.shape)}` : '-';
}

function num(x: number | null): string {
  if (x === null) return '-';
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  return x.toExponential(2);
}

function statusLabel(s: string): string {
  return s === 'only-a' ? 'only in A' : s === 'only-b' ? 'only in B' : s;
}

function statusText(s: string, c: Colours): string {
  switch (s) {
    case 'same': case 'matched': return c.ok(s);
    case 'changed': case 'differs': return c.error(s);
    case 'only-a': return c.warn('only in A');
    case 'only-b': return c.warn('only in B');
    default: return s;
  }
}

function weightHow(w: WeightDiff): string {
  const parts: string[] = [];
  if (w.layout === 'transposed') parts.push(`transposed (${w.perm!.join(',')})`);
  if (w.layout === 'rows-permuted') parts.push(w.perm ? `transposed (${w.perm.join(',')}), rows permuted` : 'rows permuted');
  if (w.matchedBy && w.matchedBy !== 'name') parts.push(`by ${w.matchedBy}`);
  if (w.note) parts.push(w.note);
  return parts.join('; ');
}

export function renderDiff(d: ModelDiff, opts: { all?: boolean; width?: number; asRead?: boolean; colour: Colours }): string {
  const c = opts.colour;
  const width = Math.max(80, opts.width ?? 100);
  const maxRows = opts.all ? Infinity : 100;
  const out: string[] = [];
  out.push(`${c.heading('A:')} ${d.a.file ?? '?'} (${d.a.format})`);
  out.push(`${c.heading('B:')} ${d.b.file ?? '?'} (${d.b.format})`);
  out.push(c.dim(opts.asRead ? 'Graphs compared as read (no layout passes).' : 'Graphs compared as converted (layout Transposes cancelled, as `convert` writes them).'));

  if (d.weightsOnly) out.push(c.dim('Weights only: inputs, outputs and nodes are not compared.'));
  const io: IoDiff[] = d.weightsOnly ? [] : [...d.io.inputs, ...d.io.outputs];
  const ioRows = io.map((x) => {
    const a = valueText(x.a);
    const b = valueText(x.b);
    return [x.kind, a, a === b ? '=' : b, x.status === 'changed' ? x.changes.join('; ') : x.status];
  });
  if (!d.weightsOnly) out.push(`${c.heading('Inputs and outputs:')} ${d.io.equivalent ? c.ok('same') : c.error('differ')}`);
  if (ioRows.length) {
    const head = ['', 'A', 'B', 'Status'];
    const t = table(head, fit(ioRows, head, width, [8, 60, 60, 50], [3, 2, 1]));
    io.forEach((x, i) => t.push([ioRows[i]![0]!, ioRows[i]![1]!, ioRows[i]![2]!, x.status === 'changed' ? c.error(ioRows[i]![3]!) : statusText(x.status, c)]));
    out.push(t.toString());
  }

  const nc = d.nodes.counts;
  if (!d.weightsOnly) out.push(`${c.heading('Nodes:')} ${nc.same} same, ${nc.changed} changed, ${nc['only-a']} only in A, ${nc['only-b']} only in B`);
  const shownNodes: NodeDiff[] = d.weightsOnly ? [] : d.nodes.list.filter((n) => opts.all || n.status !== 'same');
  if (shownNodes.length) {
    const rows = shownNodes.slice(0, maxRows).map((n) => [
      statusLabel(n.status),
      n.a ? `${n.a.name} (${n.a.op})` : '-',
      n.b ? `${n.b.name} (${n.b.op})` : '-',
      n.changes.join('; '),
    ]);
    const head = ['Status', 'A', 'B', 'Changes'];
    const t = table(head, fit(rows, head, width, [12, 50, 50, 60], [3, 2, 1]));
    rows.forEach((r, i) => t.push([statusText(shownNodes[i]!.status, c), r[1]!, r[2]!, r[3]!]));
    out.push(t.toString());
    if (shownNodes.length > maxRows) out.push(`... ${shownNodes.length - maxRows} more nodes not shown (use --all)`);
  }

  const wc = d.weights.counts;
  const layouts = [wc.transposed ? `${wc.transposed} transposed` : '', wc.rowsPermuted ? `${wc.rowsPermuted} with rows permuted` : ''].filter(Boolean).join(', ');
  out.push(`${c.heading('Weights:')} ${wc.matched} matched${layouts ? ` (${layouts})` : ''}, ${wc.differs} differ, ${wc['only-a']} only in A, ${wc['only-b']} only in B; max abs difference ${num(d.weights.maxAbsDiff)} (atol ${d.atol.toExponential()})`);
  // Problems first when the list is cut.
  const weights = d.weights.list.length > maxRows ? [...d.weights.list].sort((x, y) => Number(x.status === 'matched') - Number(y.status === 'matched')) : d.weights.list;
  if (weights.length) {
    const shown = weights.slice(0, maxRows);
    const typeText = (x: { dtype: string; shape: number[] }) => `${x.dtype} ${shapeText(x.shape)}`;
    const rows = shown.map((w) => {
      const ta = w.a ? typeText(w.a) : '';
      const tb = w.b ? typeText(w.b) : '';
      return [
        statusLabel(w.status),
        w.a?.name ?? '-',
        w.b ? (w.a && w.a.name === w.b.name ? '=' : w.b.name) : '-',
        ta && tb && ta !== tb ? `${ta} -> ${tb}` : ta || tb,
        num(w.maxAbsDiff),
        weightHow(w),
      ];
    });
    const head = ['Status', 'Weight (A)', 'B', 'Type', 'Max |a-b|', 'Layout / note'];
    const t = table(head, fit(rows, head, width, [12, 50, 50, 40, 14, 40], [5, 3, 2, 1]));
    rows.forEach((r, i) => t.push([statusText(shown[i]!.status, c), r[1]!, r[2]!, r[3]!, r[4]!, r[5]!]));
    out.push(t.toString());
    if (weights.length > maxRows) out.push(`... ${weights.length - maxRows} more weights not shown (use --all)`);
  }

  if (d.equivalent) out.push(c.ok(d.weightsOnly ? 'Equivalent weights: every weight matched within atol.' : 'Equivalent: same inputs and outputs, same nodes, every weight matched within atol.'));
  else {
    const why: string[] = [];
    if (!d.io.equivalent && !d.weightsOnly) why.push('inputs/outputs differ');
    if (!d.nodes.equivalent && !d.weightsOnly) why.push(`${nc.changed + nc['only-a'] + nc['only-b']} node difference${nc.changed + nc['only-a'] + nc['only-b'] === 1 ? '' : 's'}`);
    if (!d.weights.equivalent) why.push(`${wc.differs + wc['only-a'] + wc['only-b']} weight difference${wc.differs + wc['only-a'] + wc['only-b'] === 1 ? '' : 's'}`);
    out.push(c.error(`Not equivalent: ${why.join(', ')}.`));
  }
  return out.join('\n');
}

function prepared(m: Model, asRead: boolean): Model {
  if (!asRead) prepareModel(m);
  try {
    inferShapes(m.graph);
  } catch {
    // Shapes stay as recorded when inference cannot complete.
  }
  return m;
}

export function diffCommand(y: Argv) {
  return y.command<DiffArgs>(
    'diff <a> <b>',
    'compare two models of any formats: inputs/outputs, nodes, weights (max abs difference); exit 0 when equivalent, 1 when not',
    (c) =>
      withReadOptions(c)
        .positional('a', { type: 'string', demandOption: true, describe: 'first model' })
        .positional('b', { type: 'string', demandOption: true, describe: 'second model' })
        .option('atol', { type: 'number', default: DEFAULT_DIFF_ATOL, describe: 'largest absolute difference for weights to count as equal' })
        .option('as-read', { type: 'boolean', default: false, describe: 'compare the graphs as the readers build them (layout Transposes kept)' })
        .option('all', { type: 'boolean', default: false, describe: 'list every node (same ones too) and every weight' })
        .option('weights-only', { type: 'boolean', default: false, describe: 'compare the weights alone (e.g. a state_dict against an ONNX export)' }),
    async (args) => {
      if (!Number.isFinite(args.atol) || args.atol < 0) throw usageError(`--atol must be a number >= 0, got ${args.atol}`);
      const asRead = !!args['as-read'];
      const d = await withProgress(args, async (onProgress) => {
        const read = readOptionsFrom(args);
        const a = prepared(await load(args.a, { ...read, onProgress }), asRead);
        const b = prepared(await load(args.b, { ...read, onProgress }), asRead);
        return diffModels(a, b, {
          atol: args.atol,
          weightsOnly: !!args['weights-only'],
          onWeight: onProgress ? (done, total, name) => onProgress({ stage: 'compare', done, total, detail: name }) : undefined,
        });
      });
      if (args.json) printJson({ asRead, ...d });
      else process.stdout.write(renderDiff(d, { all: args.all, width: process.stdout.columns || Number(process.env.COLUMNS) || 100, asRead, colour: coloursFor(process.stdout) }) + '\n');
      process.exitCode = d.equivalent ? 0 : 1;
    },
  );
}
