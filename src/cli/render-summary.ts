/** Text rendering of a ModelSummary (the logic lives in src/inspect). */
import Table from 'cli-table3';
import type { ModelSummary, ValueInfo } from '../inspect/summary.js';
import { groupDigits, humanBytes } from './common.js';

export function shapeText(shape: ValueInfo['shape']): string {
  if (!shape) return '?';
  return '(' + shape.map((d) => String(d)).join(', ') + (shape.length === 1 ? ',' : '') + ')';
}

function valueLine(v: ValueInfo): string {
  return `  ${v.name}  ${v.dtype ?? '?'} ${shapeText(v.shape)}`;
}

export interface RenderOptions {
  /** Show every node (default: at most `maxRows`). */
  all?: boolean;
  maxRows?: number;
  /** Terminal width to fit. */
  width?: number;
}

export function renderSummary(s: ModelSummary, opts: RenderOptions = {}): string {
  const out: string[] = [];
  const opsets = Object.entries(s.sourceOpset).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ');
  out.push(`Model: ${s.file ?? s.graphName}`);
  out.push(`Format: ${s.format}${s.fileSize !== undefined ? `, ${humanBytes(s.fileSize)}` : ''}`);
  if (s.producer) out.push(`Producer: ${s.producer.name}${s.producer.version ? ' ' + s.producer.version : ''}`);
  if (opsets) out.push(`Opset: ${opsets}${s.irVersion !== undefined ? ` (IR version ${s.irVersion})` : ''}`);
  out.push('Inputs:', ...s.inputs.map(valueLine));
  out.push('Outputs:', ...s.outputs.map(valueLine));
  const maxRows = opts.all ? Infinity : opts.maxRows ?? 100;
  const width = Math.max(60, opts.width ?? 100);
  const rows = s.nodes.slice(0, maxRows).map((n) => [
    n.name,
    n.domain ? `${n.domain}.${n.op}` : n.op,
    n.outputs.map((o) => shapeText(o.shape)).join(', '),
    groupDigits(n.parameters),
  ]);
  // Columns sized to their content, the name column giving way first when the terminal is narrow.
  const longest = (i: number, head: string) => Math.max(head.length, ...rows.map((r) => r[i]!.length)) + 2;
  const opW = Math.min(longest(1, 'Op'), 26);
  const paramW = Math.max(longest(3, 'Param #'), 9);
  const shapeW = Math.min(longest(2, 'Output shape'), Math.max(16, Math.floor(width * 0.35)));
  const nameW = Math.max(16, Math.min(longest(0, 'Name'), width - opW - shapeW - paramW - 5));
  const table = new Table({
    head: ['Name', 'Op', 'Output shape', 'Param #'],
    colWidths: [nameW, opW, shapeW, paramW],
    wordWrap: true,
    wrapOnWordBoundary: false,
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'left', 'right'],
  });
  for (const r of rows) table.push(r);
  out.push(table.toString());
  if (s.nodes.length > maxRows) out.push(`... ${s.nodes.length - maxRows} more nodes not shown (use --all)`);
  out.push(`Total params: ${groupDigits(s.parameters)} (${humanBytes(s.weightBytes)})`);
  out.push(`Nodes: ${s.nodes.length}; ops: ${Object.entries(s.opCounts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`).join(', ')}`);
  return out.join('\n');
}
