/** Text rendering of a ModelSummary (the logic lives in src/inspect). */
import Table from 'cli-table3';
import type { ModelSummary, ValueInfo } from '../inspect/summary.js';
import type { SourceLayer } from '../ir/graph.js';
import { groupDigits, humanBytes } from './common.js';
import { coloursFor, paintHeadings, type Colours } from './colour.js';

/** The summary's heading labels (coloured on a terminal). */
const SUMMARY_HEADINGS = /^(Model|Format|Producer|Opset|Inputs|Outputs|Metadata|Total params|Trainable params|Non-trainable params|Nodes):/gm;

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
  /** Show the IR node table even when the source has its own layer rows. */
  nodes?: boolean;
  maxRows?: number;
  /** Terminal width to fit. */
  width?: number;
  /** Colours for headings; default: decided by stdout (TTY, NO_COLOR, FORCE_COLOR). */
  colour?: Colours;
}

export function renderSummary(s: ModelSummary, opts: RenderOptions = {}): string {
  const out: string[] = [];
  const opsets = Object.entries(s.sourceOpset).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ');
  out.push(`Model: ${s.file ?? s.graphName}`);
  out.push(`Format: ${s.format}${s.fileSize !== undefined ? `, ${humanBytes(s.fileSize)}` : ''}`);
  if (s.producer) out.push(`Producer: ${s.producer.name}${s.producer.version ? ' ' + s.producer.version : ''}`);
  if (opsets) out.push(`Opset: ${opsets}${s.irVersion !== undefined ? ` (IR version ${s.irVersion})` : ''}`);
  out.push('Inputs:', ...(s.inputs.length ? s.inputs.map(valueLine) : ['  (none: the file holds weights only)']));
  out.push('Outputs:', ...(s.outputs.length ? s.outputs.map(valueLine) : ['  (none)']));
  const maxRows = opts.all ? Infinity : opts.maxRows ?? 100;
  const width = Math.max(60, opts.width ?? 100);
  const meta = Object.entries(s.metadata).filter(([, v]) => v.length <= 80).slice(0, 10);
  if (meta.length) out.push('Metadata:', ...meta.map(([k, v]) => `  ${k}: ${v}`));
  if (s.layers) out.push(renderLayers(s, maxRows, width));
  if (!s.layers || opts.nodes) out.push(renderNodes(s, maxRows, width));
  if (s.sourceParameters !== null && (s.sourceBuffers || s.trainableParameters !== null)) {
    out.push(`Total params: ${groupDigits(s.sourceParameters)}${s.sourceBuffers ? `; buffers: ${groupDigits(s.sourceBuffers)} elements` : ''}; weights: ${humanBytes(s.weightBytes)}`);
  } else {
    out.push(`Total params: ${groupDigits(s.parameters)} (${humanBytes(s.weightBytes)})`);
  }
  if (s.trainableParameters !== null) out.push(`Trainable params: ${groupDigits(s.trainableParameters)}`);
  if (s.nonTrainableParameters !== null) out.push(`Non-trainable params: ${groupDigits(s.nonTrainableParameters)}`);
  if (s.nodes.length) out.push(`Nodes: ${s.nodes.length}${s.beforePasses ? ' (before optimisation)' : ''}; ops: ${Object.entries(s.opCounts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`).join(', ')}`);
  return paintHeadings(out.join('\n'), opts.colour ?? coloursFor(process.stdout), SUMMARY_HEADINGS);
}

function layerShape(shape: ValueInfo['shape'], keras: boolean): string {
  if (!shape) return '?';
  // Keras shows the batch dimension as None.
  return shapeText(keras ? shape.map((d, i) => (i === 0 && typeof d === 'string' ? 'None' : d)) : shape);
}

function renderLayers(s: ModelSummary, maxRows: number, width: number): string {
  // tfjs layers-models hold a Keras topology: show them as Keras does.
  const keras = s.format === 'keras' || s.format === 'tfjs-layers';
  const rows: string[][] = [];
  const walk = (ls: SourceLayer[], depth: number) => {
    for (const l of ls) {
      // A zero-width space first: the table trims leading whitespace, and nesting must show.
      const name = `${depth ? '\u200b' + '  '.repeat(depth) : ''}${l.name}${l.className ? ` (${l.className})` : ''}${l.unsupported ? ' [not convertible]' : ''}`;
      const shapes = l.outputShapes.length ? l.outputShapes.map((sh) => layerShape(sh, keras)).join(', ') : '';
      rows.push([name, shapes, groupDigits(l.parameters)]);
      if (l.children?.length) walk(l.children, depth + 1);
    }
  };
  walk(s.layers ?? [], 0);
  const shown = rows.slice(0, maxRows);
  const longest = (i: number, head: string) => Math.max(head.length, ...shown.map((r) => r[i]!.length)) + 2;
  const paramW = Math.max(longest(2, 'Param #'), 9);
  const shapeW = Math.min(longest(1, 'Output shape'), Math.max(16, Math.floor(width * 0.35)));
  const nameW = Math.max(16, Math.min(longest(0, 'Layer (type)'), width - shapeW - paramW - 4));
  const table = new Table({
    head: ['Layer (type)', keras ? 'Output shape' : 'Shape', 'Param #'],
    colWidths: [nameW, shapeW, paramW],
    wordWrap: true,
    wrapOnWordBoundary: false,
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'right'],
  });
  for (const r of shown) table.push(r);
  let text = table.toString();
  if (rows.length > maxRows) text += `\n... ${rows.length - maxRows} more layers not shown (use --all)`;
  return text;
}

function renderNodes(s: ModelSummary, maxRows: number, width: number): string {
  const out: string[] = [];
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
  return out.join('\n');
}
