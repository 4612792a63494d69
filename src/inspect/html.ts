/**
 * One self-contained HTML page for `mconv inspect --format html`: the model header, inputs and
 * outputs, the graph picture (inline SVG), the layer and node tables and, when computed, costs.
 * Inline CSS, no external URL, readable offline and without JavaScript; a few lines of inline
 * script add zoom buttons, ctrl+wheel zoom and drag-to-pan when scripts run.
 */
import type { SourceLayer } from '../ir/graph.js';
import type { Dim } from '../ir/tensor.js';
import type { ModelCosts } from './costs.js';
import type { ModelSummary } from './summary.js';

export interface HtmlPageData {
  summary: ModelSummary;
  /** The graph as laid out by Graphviz (an SVG document). */
  svg: string;
  costs?: ModelCosts;
  /** Shown above the picture (collapsed modules, truncation). */
  notes?: string[];
  /** The program line shown in the footer (e.g. `mconv 0.1.0`). */
  generator?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function shapeText(shape: Dim[] | null | undefined): string {
  if (!shape) return '?';
  return '(' + shape.map(String).join(', ') + (shape.length === 1 ? ',' : '') + ')';
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} K`;
  return String(n);
}

/** The SVG document as an element to put inline: no XML prolog, doctype, comments or namespace URLs. */
export function inlineSvg(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\s+xmlns(:\w+)?="[^"]*"/g, '')
    .trim();
}

function table(head: string[], rows: string[][], cls = '', numeric: number[] = []): string {
  const th = head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => '<tr>' + r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('') + '</tr>')
    .join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 14px; margin: 0; color: #222; background: #fff; }
header, main > section { padding: 0 24px; }
header { padding-top: 16px; border-bottom: 1px solid #ddd; background: #f7f8fa; }
h1 { font-size: 20px; margin: 0 0 8px; word-break: break-all; }
h2 { font-size: 16px; margin: 24px 0 8px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0 0 16px; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 4px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d5d9e0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
code, td.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.notes { background: #fff8e1; border: 1px solid #f0d98c; padding: 6px 10px; margin: 8px 0; }
#graph { border: 1px solid #d5d9e0; overflow: auto; max-height: 85vh; background: #fff; cursor: grab; }
#graph.dragging { cursor: grabbing; }
#graph svg { display: block; margin: 0 auto; }
.controls { margin: 4px 0; }
.controls button { font: inherit; padding: 1px 10px; margin-right: 4px; }
.indent1 { padding-left: 1.5em; } .indent2 { padding-left: 3em; } .indent3 { padding-left: 4.5em; } .indent4 { padding-left: 6em; }
footer { color: #777; font-size: 12px; padding: 16px 24px; }
`;

// Zoom (buttons, ctrl+wheel) and drag-to-pan. The page reads fine without it.
const SCRIPT = `
(function () {
  var box = document.getElementById('graph');
  var svg = box && box.querySelector('svg');
  if (!svg) return;
  var w = svg.width.baseVal.value, h = svg.height.baseVal.value, z = 1;
  var label = document.getElementById('zoom-level');
  function set(n) {
    z = Math.max(0.02, Math.min(8, n));
    svg.setAttribute('width', String(w * z));
    svg.setAttribute('height', String(h * z));
    label.textContent = Math.round(z * 100) + '%';
  }
  document.getElementById('graph-controls').hidden = false;
  document.getElementById('zoom-in').onclick = function () { set(z * 1.25); };
  document.getElementById('zoom-out').onclick = function () { set(z / 1.25); };
  document.getElementById('zoom-fit').onclick = function () { set(Math.min(box.clientWidth / w, box.clientHeight / h)); };
  document.getElementById('zoom-reset').onclick = function () { set(1); };
  box.addEventListener('wheel', function (e) {
    if (!e.ctrlKey) return;
    e.preventDefault();
    set(z * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  var drag = null;
  box.addEventListener('mousedown', function (e) {
    drag = { x: e.clientX, y: e.clientY, l: box.scrollLeft, t: box.scrollTop };
    box.classList.add('dragging');
  });
  window.addEventListener('mousemove', function (e) {
    if (!drag) return;
    box.scrollLeft = drag.l - (e.clientX - drag.x);
    box.scrollTop = drag.t - (e.clientY - drag.y);
  });
  window.addEventListener('mouseup', function () { drag = null; box.classList.remove('dragging'); });
  if (w > box.clientWidth) set(Math.max(box.clientWidth / w, 0.5));
})();
`;

function layerRows(layers: SourceLayer[], keras: boolean): string[][] {
  const rows: string[][] = [];
  const walk = (ls: SourceLayer[], depth: number) => {
    for (const l of ls) {
      const shapes = l.outputShapes.map((s) => shapeText(keras ? s.map((d, i) => (i === 0 && typeof d === 'string' ? 'None' : d)) : s)).join(', ');
      const cls = l.className ? ` <span class="cls">(${esc(l.className)})</span>` : '';
      const name = `<span class="indent${Math.min(depth, 4)}">${esc(l.name)}${cls}${l.unsupported ? ' [not convertible]' : ''}</span>`;
      rows.push([name, esc(shapes), num(l.parameters)]);
      if (l.children?.length) walk(l.children, depth + 1);
    }
  };
  walk(layers, 0);
  return rows;
}

export function buildHtmlPage(d: HtmlPageData): string {
  const s = d.summary;
  const title = s.file ?? s.graphName;
  const facts: [string, string][] = [['Format', `${s.format}${s.fileSize !== undefined ? `, ${bytesText(s.fileSize)}` : ''}`]];
  if (s.producer) facts.push(['Producer', `${s.producer.name}${s.producer.version ? ' ' + s.producer.version : ''}`]);
  const opsets = Object.entries(s.sourceOpset).map(([k, v]) => `${k || 'ai.onnx'} ${v}`).join(', ');
  if (opsets) facts.push(['Opset', `${opsets}${s.irVersion !== undefined ? ` (IR version ${s.irVersion})` : ''}`]);
  const params = s.sourceParameters ?? s.parameters;
  facts.push(['Parameters', `${num(params)} (${bytesText(s.weightBytes)})`]);
  if (s.trainableParameters !== null) facts.push(['Trainable', num(s.trainableParameters)]);
  if (s.nonTrainableParameters !== null) facts.push(['Non-trainable', num(s.nonTrainableParameters)]);
  facts.push(['Nodes', `${num(s.nodes.length)}; ${Object.entries(s.opCounts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(', ')}`]);
  if (d.costs) facts.push(['MACs', `${num(d.costs.macs)} (${(d.costs.macs / 1e9).toFixed(3)} G) at batch ${d.costs.batch}; FLOPs ${count(d.costs.flops)}`]);

  const io = (vs: typeof s.inputs) => vs.map((v) => [`<code>${esc(v.name)}</code>`, esc(v.dtype ?? '?'), esc(shapeText(v.shape))]);
  const costByName = new Map(d.costs?.nodes.map((c) => [c.name, c]) ?? []);
  const nodeHead = ['Name', 'Op', 'Output shape', 'Param #', ...(d.costs ? ['MACs', 'Activations'] : [])];
  const nodeRows = s.nodes.map((n) => {
    const c = costByName.get(n.name);
    const row = [
      `<code>${esc(n.name)}</code>`,
      esc(n.domain ? `${n.domain}.${n.op}` : n.op),
      esc(n.outputs.map((o) => shapeText(o.shape)).join(', ')),
      num(n.parameters),
    ];
    if (d.costs) row.push(c?.macs == null ? '?' : num(c.macs), c?.activationBytes == null ? '?' : bytesText(c.activationBytes));
    return row;
  });
  const meta = Object.entries(s.metadata).filter(([, v]) => v.length <= 400);

  const parts: string[] = [];
  parts.push('<!DOCTYPE html>');
  parts.push('<html lang="en"><head><meta charset="utf-8">');
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<title>${esc(title)} — mconv</title>`);
  parts.push(`<style>${CSS}</style></head><body>`);
  parts.push(`<header><h1>${esc(title)}</h1><dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></header>`);
  parts.push('<main>');
  parts.push('<section id="io"><h2>Inputs</h2>');
  parts.push(s.inputs.length ? table(['Name', 'Dtype', 'Shape'], io(s.inputs), 'io') : '<p>None: the file holds weights only.</p>');
  parts.push('<h2>Outputs</h2>');
  parts.push(s.outputs.length ? table(['Name', 'Dtype', 'Shape'], io(s.outputs), 'io') : '<p>None.</p>');
  parts.push('</section>');
  parts.push('<section id="picture"><h2>Graph</h2>');
  for (const n of d.notes ?? []) parts.push(`<p class="notes">${esc(n)}</p>`);
  parts.push('<div class="controls" id="graph-controls" hidden><button id="zoom-out" type="button">−</button><button id="zoom-in" type="button">+</button><button id="zoom-fit" type="button">fit</button><button id="zoom-reset" type="button">100%</button> <span id="zoom-level">100%</span> <small>ctrl+wheel zooms, drag pans</small></div>');
  parts.push(`<div id="graph">${inlineSvg(d.svg)}</div>`);
  parts.push('</section>');
  if (s.layers?.length) {
    parts.push(`<section id="layers"><h2>Layers (${esc(s.format)})</h2>`);
    parts.push(table(['Layer (type)', 'Output shape', 'Param #'], layerRows(s.layers, s.format === 'keras'), 'layers', [2]));
    parts.push('</section>');
  }
  parts.push('<section id="nodes"><h2>Nodes</h2>');
  parts.push(table(nodeHead, nodeRows, 'nodes', d.costs ? [3, 4, 5] : [3]));
  parts.push('</section>');
  if (d.costs) {
    const c = d.costs;
    parts.push('<section id="costs"><h2>Costs</h2><dl class="facts">');
    const rows: [string, string][] = [
      ['Bound dims', Object.entries(c.dims).map(([k, v]) => `${k}=${v}`).join(', ') || `batch ${c.batch}`],
      ['MACs', `${num(c.macs)} (${(c.macs / 1e9).toFixed(3)} GMACs)`],
      ['Other ops', count(c.ops)],
      ['FLOPs (2 × MACs + ops)', count(c.flops)],
      ['Parameters', `${num(c.parameters)}${c.buffers ? `; buffers ${num(c.buffers)}` : ''}; ${bytesText(c.weightBytes)}`],
      ['Activation memory', `${(c.activationBytes / 1e6).toFixed(2)} MB (every node output); inputs ${(c.inputBytes / 1e6).toFixed(2)} MB`],
    ];
    if (c.incomplete.length) rows.push(['Not counted', `${c.incomplete.length} node(s) with unknown shapes`]);
    parts.push(rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join(''));
    parts.push('</dl></section>');
  }
  if (meta.length) {
    parts.push('<section id="metadata"><h2>Metadata</h2>');
    parts.push(table(['Key', 'Value'], meta.map(([k, v]) => [`<code>${esc(k)}</code>`, esc(v)]), 'metadata'));
    parts.push('</section>');
  }
  parts.push('</main>');
  parts.push(`<footer>Written by ${esc(d.generator ?? 'mconv')}.</footer>`);
  parts.push(`<script>${SCRIPT}</script>`);
  parts.push('</body></html>');
  return parts.join('\n') + '\n';
}
