/** Text rendering of model costs, weight statistics and one tensor (the logic lives in src/inspect). */
import Table from 'cli-table3';
import type { ModelCosts } from '../inspect/costs.js';
import type { TensorStats, WeightStats } from '../inspect/weight-stats.js';
import { groupDigits, humanBytes } from './common.js';
import { shapeText } from './render-summary.js';
import { coloursFor, paintHeadings, type Colours } from './colour.js';

const COST_HEADINGS = /^(Costs[^:\n]*|Total MACs|Parameters|Activation memory|Not counted[^:\n]*|Not costed):/gm;

function fixedTable(head: string[], widths: number[], aligns: ('left' | 'right')[]): Table.Table {
  return new Table({
    head,
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: false,
    style: { head: [], border: [], compact: true },
    colAligns: aligns,
  });
}

/** MACs with a unit: 1.81 G, 300.77 M. */
export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} K`;
  return String(n);
}

export function renderCosts(c: ModelCosts, opts: { all?: boolean; maxRows?: number; width?: number; colour?: Colours } = {}): string {
  const out: string[] = [];
  const maxRows = opts.all ? Infinity : opts.maxRows ?? 100;
  const width = Math.max(70, opts.width ?? 100);
  const rows = c.nodes.slice(0, maxRows).map((n) => [
    n.name,
    n.domain ? `${n.domain}.${n.op}` : n.op,
    n.outputShapes.map((s) => shapeText(s)).join(', '),
    groupDigits(n.parameters + n.buffers),
    n.macs === null ? '?' : groupDigits(n.macs),
    n.activationBytes === null ? '?' : humanBytes(n.activationBytes),
  ]);
  const longest = (i: number, head: string) => Math.max(head.length, ...rows.map((r) => r[i]!.length)) + 2;
  const opW = Math.min(longest(1, 'Op'), 24);
  const shapeW = Math.min(longest(2, 'Output shape'), Math.max(16, Math.floor(width * 0.25)));
  const paramW = Math.max(longest(3, 'Param #'), 9);
  const macW = Math.max(longest(4, 'MACs'), 8);
  const actW = Math.max(longest(5, 'Activations'), 12);
  const nameW = Math.max(16, Math.min(longest(0, 'Name'), width - opW - shapeW - paramW - macW - actW - 7));
  const table = fixedTable(['Name', 'Op', 'Output shape', 'Param #', 'MACs', 'Activations'], [nameW, opW, shapeW, paramW, macW, actW], ['left', 'left', 'left', 'right', 'right', 'right']);
  for (const r of rows) table.push(r);
  const bound = Object.entries(c.dims).map(([k, v]) => `${k}=${v}`).join(', ');
  out.push(`Costs${bound ? ` (${bound})` : ` (batch ${c.batch})`}:`);
  out.push(table.toString());
  if (c.nodes.length > maxRows) out.push(`... ${c.nodes.length - maxRows} more nodes not shown (use --all)`);
  out.push(`Total MACs: ${groupDigits(c.macs)} (${(c.macs / 1e9).toFixed(3)} GMACs); other ops: ${humanCount(c.ops)}; FLOPs (2 x MACs + ops): ${humanCount(c.flops)}`);
  out.push(`Parameters: ${groupDigits(c.parameters)}${c.buffers ? `; buffers: ${groupDigits(c.buffers)}` : ''}; weights: ${humanBytes(c.weightBytes)}`);
  out.push(`Activation memory: ${(c.activationBytes / 1e6).toFixed(2)} MB (every node output); inputs: ${(c.inputBytes / 1e6).toFixed(2)} MB`);
  if (c.incomplete.length) {
    out.push(`Not counted (shapes unknown): ${c.incomplete.length} node${c.incomplete.length > 1 ? 's' : ''}${c.unboundDims.length ? `; bind ${c.unboundDims.slice(0, 5).map((d) => `--dim ${d}=N`).join(' ')}` : ''}`);
  }
  const notes = c.nodes.filter((n) => n.note && n.macs !== null).map((n) => n.note!);
  if (notes.length) out.push(`Not costed: ${[...new Set(notes)].slice(0, 5).join('; ')}`);
  return paintHeadings(out.join('\n'), opts.colour ?? coloursFor(process.stdout), COST_HEADINGS);
}

function num(x: number | null): string {
  if (x === null) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(3) : x.toPrecision(4).replace(/\.?0+$/, '');
}

export function renderWeightStats(w: WeightStats, opts: { all?: boolean; maxRows?: number; width?: number; colour?: Colours } = {}): string {
  const paint = opts.colour ?? coloursFor(process.stdout);
  const out: string[] = [];
  const maxRows = opts.all ? Infinity : opts.maxRows ?? 100;
  const rows = w.tensors.slice(0, maxRows).map((s: TensorStats) => [
    s.name,
    s.dtype,
    shapeText(s.shape),
    num(s.min),
    num(s.max),
    num(s.mean),
    num(s.std),
    `${(s.zeros * 100).toFixed(1)}%`,
    s.nan || s.inf ? `${s.nan}/${s.inf}` : '',
  ]);
  const heads = ['Weight', 'Dtype', 'Shape', 'Min', 'Max', 'Mean', 'Std', 'Zeros', 'NaN/Inf'];
  const longest = (i: number) => Math.max(heads[i]!.length, ...rows.map((r) => r[i]!.length)) + 2;
  const widths = heads.map((_, i) => longest(i));
  const width = Math.max(80, opts.width ?? 100);
  const rest = widths.slice(1).reduce((a, b) => a + b, 0);
  widths[0] = Math.max(24, Math.min(widths[0]!, width - rest - heads.length - 1));
  const table = fixedTable(heads, widths, ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
  for (const r of rows) table.push(r);
  out.push(paint.heading('Weights:'));
  out.push(table.toString());
  if (w.tensors.length > maxRows) out.push(`... ${w.tensors.length - maxRows} more weights not shown (use --all)`);
  if (w.skipped.length) out.push(`Skipped: ${w.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`);
  if (w.warnings.length) out.push(paint.heading('Warnings:'), ...w.warnings.map((x) => paint.warn(`  ${x.kind}: ${x.message}`)));
  else out.push(`${paint.heading('Warnings:')} none`);
  return out.join('\n');
}

/** One tensor: its header, statistics, histogram and the numpy-style values. */
export function renderTensor(s: TensorStats | null, name: string, text: string, saved?: string): string {
  const out: string[] = [];
  if (s) {
    out.push(`${name}  ${s.dtype} ${shapeText(s.shape)}  min ${num(s.min)}  max ${num(s.max)}  mean ${num(s.mean)}  std ${num(s.std)}  zeros ${(s.zeros * 100).toFixed(1)}%${s.nan || s.inf ? `  NaN ${s.nan}  Inf ${s.inf}` : ''}`);
    if (s.histogram) {
      const peak = Math.max(...s.histogram.counts, 1);
      out.push('Histogram:');
      s.histogram.counts.forEach((cnt, i) => {
        const lo = s.histogram!.edges[i]!;
        const hi = s.histogram!.edges[i + 1]!;
        out.push(`  [${num(lo).padStart(10)}, ${num(hi).padStart(10)}${i === s.histogram!.counts.length - 1 ? ']' : ')'} ${String(cnt).padStart(9)} ${'#'.repeat(Math.round((cnt / peak) * 30))}`);
      });
    }
  } else {
    out.push(name);
  }
  out.push(text);
  if (saved) out.push(`Saved to ${saved}`);
  return out.join('\n');
}
