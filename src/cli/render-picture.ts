/**
 * Pictures of a model for `mconv inspect --format dot|svg|png|html`: the DOT text comes from
 * src/inspect/dot.ts; here it is laid out by Graphviz compiled to WebAssembly (no system Graphviz)
 * and rasterised by resvg (system fonts; DejaVu Sans is the one the layout is measured for).
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { requireGraph } from '../api.js';
import { MconvError, usageError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { writeFileAtomic } from '../io/atomic.js';
import { modelCosts, type CostOptions, type ModelCosts } from '../inspect/costs.js';
import { summarizeModel } from '../inspect/summary.js';
import { modelToDot, PICTURE_FONT, type DotOptions, type DotResult } from '../inspect/dot.js';
import { buildHtmlPage, type HtmlPageData } from '../inspect/html.js';

export const PICTURE_FORMATS = ['dot', 'svg', 'png', 'html'] as const;
export type PictureFormat = (typeof PICTURE_FORMATS)[number];

/** Most pixels a PNG may hold (RGBA in memory: 4 bytes each). */
const MAX_PNG_PIXELS = 60_000_000;
/** Longest side of a PNG in pixels. */
const MAX_PNG_SIDE = 30_000;

type GraphvizInstance = { dot(src: string, format?: 'svg'): string };
let graphvizLoading: Promise<GraphvizInstance> | undefined;

async function graphviz(): Promise<GraphvizInstance> {
  graphvizLoading ??= import('@hpcc-js/wasm-graphviz').then((m) => m.Graphviz.load());
  try {
    return await graphvizLoading;
  } catch (e) {
    graphvizLoading = undefined;
    throw new MconvError({ kind: 'internal', message: `cannot start Graphviz (WebAssembly): ${(e as Error).message}`, hint: 'use --format dot and render it with Graphviz yourself', cause: e });
  }
}

/** Lays DOT text out as SVG. Fonts fall back to look-alikes where DejaVu Sans is missing. */
export async function dotToSvg(dot: string): Promise<string> {
  const gv = await graphviz();
  let svg: string;
  try {
    svg = gv.dot(dot, 'svg');
  } catch (e) {
    throw new MconvError({ kind: 'internal', message: `Graphviz could not lay the graph out: ${(e as Error).message}`, hint: 'use --format dot to see the DOT text', cause: e });
  }
  // Verdana has nearly the metrics of DejaVu Sans, so boxes still fit their text in a browser without it.
  return svg.replace(new RegExp(`font-family="${PICTURE_FONT}"`, 'g'), `font-family="${PICTURE_FONT},Verdana,sans-serif"`);
}

/** The size an SVG declares, in CSS pixels (Graphviz writes points: 1pt = 4/3 px). */
export function svgSize(svg: string): { width: number; height: number } {
  const head = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const dim = (name: string): number => {
    const m = new RegExp(`\\b${name}="([\\d.]+)(pt|px)?"`).exec(head);
    if (!m) return 0;
    return Number(m[1]) * (m[2] === 'pt' ? 4 / 3 : 1);
  };
  return { width: dim('width'), height: dim('height') };
}

/** Rasterises an SVG: twice the size for small pictures, less for large ones, within pixel limits. */
export async function svgToPng(svg: string): Promise<{ png: Uint8Array; width: number; height: number; zoom: number }> {
  const { Resvg } = await import('@resvg/resvg-js');
  const { width, height } = svgSize(svg);
  let zoom = 2;
  if (width > 0 && height > 0) {
    zoom = Math.min(zoom, MAX_PNG_SIDE / Math.max(width, height), Math.sqrt(MAX_PNG_PIXELS / (width * height)));
  }
  zoom = Math.max(zoom, 0.05);
  try {
    const r = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: zoom },
      background: 'white',
      font: { loadSystemFonts: true, defaultFontFamily: PICTURE_FONT, sansSerifFamily: PICTURE_FONT },
      logLevel: 'off',
    });
    const img = r.render();
    const png = img.asPng();
    return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width: img.width, height: img.height, zoom };
  } catch (e) {
    throw new MconvError({ kind: 'internal', message: `cannot render the picture as PNG: ${(e as Error).message}`, hint: 'use --format svg', cause: e });
  }
}

export interface Picture {
  bytes: Uint8Array;
  /** What the user should know (collapsed modules, truncated graph). */
  notes: string[];
  dot: DotResult;
}

/** Builds the picture of a model in one of the formats. `page` is needed for html. */
export async function renderPicture(
  model: Model,
  format: PictureFormat,
  opts: DotOptions & { page?: Omit<HtmlPageData, 'svg' | 'notes'> } = {},
): Promise<Picture> {
  const dot = modelToDot(model, opts);
  const text = (s: string) => new TextEncoder().encode(s);
  if (format === 'dot') return { bytes: text(dot.dot), notes: dot.notes, dot };
  const svg = await dotToSvg(dot.dot);
  if (format === 'svg') return { bytes: text(svg), notes: dot.notes, dot };
  if (format === 'png') {
    const png = await svgToPng(svg);
    const notes = dot.notes.slice();
    if (png.zoom < 0.75) notes.push(`the picture is ${png.width}x${png.height} pixels (the SVG scaled to ${Math.round(png.zoom * 100)}% to stay within ${MAX_PNG_SIDE} pixels a side); --format svg or html keeps every label readable`);
    return { bytes: png.png, notes, dot };
  }
  if (!opts.page) throw new Error('renderPicture: html needs the page data');
  return { bytes: text(buildHtmlPage({ ...opts.page, svg, notes: dot.notes })), notes: dot.notes, dot };
}

const EXTENSION_FORMATS: Record<string, PictureFormat> = { '.dot': 'dot', '.gv': 'dot', '.svg': 'svg', '.png': 'png', '.html': 'html', '.htm': 'html' };

/**
 * The output `inspect` was asked for: `--format`, else the extension of `-o FILE`, else text.
 * Refuses combinations that cannot be honoured (a binary PNG on stdout, --json with a picture).
 */
export function pictureRequest(args: { format?: string; output?: string; json?: boolean; weights?: boolean; tensor?: string; model: string }): PictureFormat | undefined {
  let format = args.format && args.format !== 'text' ? (args.format as PictureFormat) : undefined;
  if (!format && args.output !== undefined) {
    format = EXTENSION_FORMATS[extname(args.output).toLowerCase()];
    if (!format) throw usageError(`-o ${args.output}: give --format dot|svg|png|html (the text summary goes to stdout)`, 'e.g. mconv inspect model.onnx --format svg -o model.svg');
  }
  if (!format) return undefined;
  if (args.json) throw usageError(`--json and --format ${format} are two different outputs; choose one`, '--json prints the summary as JSON; --format draws the graph');
  if (args.weights || args.tensor !== undefined) throw usageError(`--format ${format} draws the graph; --weights and --tensor print text`, 'run them as separate commands');
  if (format === 'png' && args.output === undefined) throw usageError('--format png needs -o FILE.png (a PNG is not written to the terminal)', 'e.g. mconv inspect model.onnx --format png -o model.png');
  if (args.output !== undefined && samePath(args.model, args.output)) throw usageError(`the output ${args.output} is the input file`, 'choose another -o path; mconv never overwrites its input');
  return format;
}

function samePath(a: string, b: string): boolean {
  try {
    return existsSync(b) && realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/** Draws the model and writes it to `output` (atomically) or stdout; notes go to stderr. */
export async function writeModelPicture(model: Model, format: PictureFormat, opts: { output?: string; costs?: CostOptions } = {}): Promise<Picture> {
  requireGraph(model, `draw it (--format ${format})`);
  let page: Omit<HtmlPageData, 'svg' | 'notes'> | undefined;
  if (format === 'html') {
    const summary = summarizeModel(model);
    let costs: ModelCosts | undefined;
    try {
      costs = modelCosts(model, opts.costs ?? {});
    } catch (e) {
      // Costs are a bonus on the page; a bad --dim is still the user's to fix.
      if (e instanceof MconvError && e.kind === 'usage') throw e;
    }
    page = { summary, costs, generator: 'mconv inspect --format html' };
  }
  const pic = await renderPicture(model, format, { page, title: basename(model.source.path ?? model.graph.name) });
  for (const n of pic.notes) process.stderr.write(`mconv: note: ${n}\n`);
  if (opts.output !== undefined) writeFileAtomic(opts.output, pic.bytes);
  else process.stdout.write(pic.bytes);
  return pic;
}
