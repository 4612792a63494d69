/** Test helpers for the graph pictures: a small reader of the DOT we write, the graph's own edges, resnet18. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model, Node, Value } from '../../src/ir/graph.js';
import { PY, ROOT, hasPython } from '../helpers/cli.js';

export interface ParsedDot {
  /** Box statements by DOT id: label text (one entry per line), tooltip, enclosing cluster id, raw attributes. */
  nodes: Map<string, { lines: string[]; tooltip: string; cluster?: string; raw: string }>;
  edges: [string, string][];
  clusters: Map<string, { label: string; parent?: string }>;
}

function unescapeHtml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

/** Reads the DOT statements modelToDot writes (one statement a line). */
export function parseDot(dot: string): ParsedDot {
  const nodes: ParsedDot['nodes'] = new Map();
  const edges: [string, string][] = [];
  const clusters: ParsedDot['clusters'] = new Map();
  const stack: string[] = [];
  for (const line of dot.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^\s*subgraph (cluster_\d+) \{$/.exec(line))) {
      clusters.set(m[1]!, { label: '', parent: stack[stack.length - 1] });
      stack.push(m[1]!);
    } else if (/^\s*\}$/.test(line)) {
      stack.pop();
    } else if ((m = /^\s*graph \[label="((?:[^"\\]|\\.)*)"/.exec(line)) && stack.length) {
      clusters.get(stack[stack.length - 1]!)!.label = m[1]!.replace(/\\(.)/g, '$1');
    } else if ((m = /^\s*(\w+) -> (\w+);$/.exec(line))) {
      edges.push([m[1]!, m[2]!]);
    } else if ((m = /^\s*(\w+) \[label=<(.*)> (?:shape|fillcolor)=.*tooltip="((?:[^"\\]|\\.)*)"/.exec(line))) {
      const lines = m[2]!
        .split(/<\/TD><\/TR>|<BR\/>/)
        .map((l) => unescapeHtml(l.replace(/<[^>]+>/g, '')).trim())
        .filter(Boolean);
      nodes.set(m[1]!, { lines, tooltip: m[3]!.replace(/\\(.)/g, '$1'), cluster: stack[stack.length - 1], raw: line });
    }
  }
  return { nodes, edges, clusters };
}

/** Nodes that only hand a weight on (Constant; Identity of an initializer): not drawn as boxes. */
export function weightHandlers(model: Model): Set<Node> {
  const g = model.graph;
  const out = new Set<Node>();
  const isWeight = (v: Value | null | undefined): boolean =>
    !!v && (g.initializers.has(v.name) || (!!v.producer && out.has(v.producer)));
  // Repeat until stable: an Identity of an Identity of a weight is one too.
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of g.nodes) {
      if (out.has(n) || g.outputs.includes(n.outputs[0]!)) continue;
      if ((n.op === 'Constant' && n.inputs.length === 0) || (n.op === 'Identity' && isWeight(n.inputs[0]))) {
        out.add(n);
        changed = true;
      }
    }
  }
  return out;
}

/**
 * The edges the picture must have, from the IR alone: producer -> reader for each activation a
 * node reads, graph input -> reader, producer -> graph output; named by node name ('input:x',
 * 'output:y' for the graph's ends).
 */
export function graphEdges(model: Model): Set<string> {
  const g = model.graph;
  const hidden = weightHandlers(model);
  const out = new Set<string>();
  const inputs = new Set(g.inputs.filter((v) => !g.initializers.has(v.name)).map((v) => v.name));
  for (const n of g.nodes) {
    if (hidden.has(n)) continue;
    for (const v of n.inputs) {
      if (!v || g.initializers.has(v.name)) continue;
      if (v.producer && !hidden.has(v.producer)) out.add(`${v.producer.name} -> ${n.name}`);
      else if (!v.producer && inputs.has(v.name)) out.add(`input:${v.name} -> ${n.name}`);
    }
  }
  for (const v of g.outputs) if (v.producer) out.add(`${v.producer.name} -> output:${v.name}`);
  return out;
}

/** The DOT's edges named the same way (boxes by tooltip, inputs and outputs by value name). */
export function dotEdges(parsed: ParsedDot): Set<string> {
  const name = (id: string): string => {
    const n = parsed.nodes.get(id);
    if (!n) return `?${id}`;
    if (/^in\d+$/.test(id)) return `input:${n.tooltip.replace(/^input /, '')}`;
    if (/^out\d+$/.test(id)) return `output:${n.tooltip.replace(/^output /, '')}`;
    return n.tooltip.replace(/ \([^)]*\)$/, '');
  };
  return new Set(parsed.edges.map(([a, b]) => `${name(a)} -> ${name(b)}`));
}

export const haveTorchvision = hasPython('torch', 'torchvision', 'onnx');

const scratchDirs: string[] = [];

/** A new temporary folder, removed by `removeScratch` (call it from afterAll). */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

export function removeScratch(): void {
  for (const d of scratchDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Exports torchvision models (random weights) with test/inspect/make_torchvision.py; returns the folder. */
export function makeTorchvision(names: string[], prefix: string): string {
  const dir = scratch(prefix);
  execFileSync(PY, [join(ROOT, 'test', 'inspect', 'make_torchvision.py'), dir, ...names], { encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'ignore'] });
  return dir;
}
