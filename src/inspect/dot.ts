/**
 * A model as a Graphviz DOT picture (pure: IR in, text out; `src/cli/render-picture.ts` lays it out).
 *
 * - One box per node: op type in bold, the node's own short name, its weights with their shapes
 *   (weights are listed inside the node, not drawn as boxes) and its output shapes.
 * - Weights are initializers and what only hands them on: outputs of `Constant` nodes and of
 *   `Identity` nodes reading a weight (torch.onnx hands every parameter out through one).
 * - Inputs and outputs of the graph are ellipses (outputs with a double border), coloured apart.
 * - Clusters follow the source's layer paths: Keras nested models and layers
 *   (`node.meta.kerasLayer`, e.g. `inner/inner_dense`), PyTorch module paths in node names
 *   (`/layer1/layer1.0/conv1/Conv` from torch.onnx, `features.0` from TorchScript), TF scopes.
 *   A path level holding a single node is not a cluster: its name becomes the node's caption.
 * - Graphs of more than `maxNodes` nodes are drawn with modules collapsed to one box each (at the
 *   shallowest depth that fits), or, without modules, truncated; `notes` says which.
 */
import { Graph, Model, Node, SourceLayer, Value, subgraphsOf } from '../ir/graph.js';
import type { Dim, Tensor } from '../ir/tensor.js';
import { getSchema } from '../ir/ops/registry.js';
import { implicitInputs, topologicalOrder } from '../ir/walk.js';

/** Above this many drawn nodes, layout takes too long: modules are collapsed or the graph cut. */
export const MAX_PICTURE_NODES = 3000;

/** The font the picture is laid out for (Graphviz knows its metrics; resvg finds it on the system). */
export const PICTURE_FONT = 'DejaVu Sans';

export interface DotOptions {
  /** Layout direction (default TB: top to bottom). */
  rankdir?: 'TB' | 'LR';
  /** Group nodes by layer/module path (default true). */
  clusters?: boolean;
  /** Most boxes to draw before collapsing modules or truncating (default MAX_PICTURE_NODES). */
  maxNodes?: number;
  /** A title drawn above the graph. */
  title?: string;
}

export interface DotCluster {
  /** DOT id (`cluster_N`). */
  id: string;
  /** The path of the layer/module, segments joined by '/'. */
  path: string;
  label: string;
  /** DOT id of the enclosing cluster, if any. */
  parent?: string;
  /** DOT ids of the boxes directly inside it. */
  members: string[];
}

export interface DotResult {
  dot: string;
  /** DOT id of each IR node drawn as a box of its own. */
  nodeIds: Map<Node, string>;
  /** DOT ids of the graph inputs and outputs, by value name. */
  inputIds: Map<string, string>;
  outputIds: Map<string, string>;
  /** Edges between DOT ids (one per producer/consumer pair). */
  edges: [string, string][];
  clusters: DotCluster[];
  /** IR nodes folded into their readers' labels (Constant, Identity of a weight). */
  folded: Node[];
  /** Boxes drawn (nodes, collapsed modules, the truncation box; not inputs/outputs). */
  boxes: number;
  /** Nodes of the graph that are not weight handling (what would be drawn without a limit). */
  totalNodes: number;
  /** What the reader should know: collapsed modules, truncation. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Escapes text for a Graphviz HTML-like label. */
function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A DOT double-quoted string. */
function quoted(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** `1×32×26×26`; symbolic dims by name; a scalar as `scalar`. */
export function dimsText(shape: readonly Dim[] | undefined | null): string {
  if (!shape) return '?';
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => String(d)).join('×');
}

/** Lines of an HTML-like label as table rows (steadier line spacing than <BR/> with mixed font sizes). */
function rows(lines: string[]): string {
  return `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">${lines.map((l) => `<TR><TD>${l}</TD></TR>`).join('')}</TABLE>`;
}

/** Shorter names for long ONNX parameter names. */
const SLOT_ALIASES: Record<string, string> = { input_mean: 'mean', input_var: 'var' };

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

// ---------------------------------------------------------------------------------------------
// Weights: what is listed inside a node rather than drawn

function initializerOf(v: Value, g: Graph): Tensor | undefined {
  return v.initializer ?? g.resolve(v.name)?.initializer;
}

/** Values that are weights or constants, and the nodes that only hand them on (to fold away). */
function findConstants(g: Graph): { constants: Set<Value>; folded: Set<Node> } {
  const constants = new Set<Value>();
  const folded = new Set<Node>();
  const outputs = new Set(g.outputs);
  const isConst = (v: Value | null): boolean => !!v && (constants.has(v) || initializerOf(v, g) !== undefined);
  let order: Node[];
  try {
    order = topologicalOrder(g);
  } catch {
    order = g.nodes.slice();
  }
  for (const n of order) {
    const handsOn =
      (n.op === 'Constant' && n.domain === '' && n.inputs.every((v) => !v)) ||
      (n.op === 'Identity' && n.domain === '' && n.inputs.length === 1 && isConst(n.inputs[0] ?? null));
    // A constant that is itself a graph output stays a box, so the output has a producer to point from.
    if (!handsOn || n.outputs.length !== 1 || outputs.has(n.outputs[0]!)) continue;
    constants.add(n.outputs[0]!);
    folded.add(n);
  }
  for (const v of g.initializers.values()) constants.add(v);
  return { constants, folded };
}

/** The tensor behind a constant value: an initializer, a Constant's value, through Identities. */
function constantTensor(v: Value, g: Graph, depth = 0): Tensor | undefined {
  const init = initializerOf(v, g);
  if (init) return init;
  const p = v.producer;
  if (!p || depth > 8) return undefined;
  if (p.op === 'Constant') return p.attrs.value?.kind === 'tensor' ? p.attrs.value.value : undefined;
  if (p.op === 'Identity' && p.inputs[0]) return constantTensor(p.inputs[0], g, depth + 1);
  return undefined;
}

/** Shape of a constant value, or its values when it holds at most 4 numbers. */
function constantText(v: Value, g: Graph): string {
  const t = constantTensor(v, g);
  const shape = t?.shape ?? v.shape;
  // Values say more than a shape for scalars (Clip bounds, a Pow exponent) and short integer lists
  // (axes, target shapes); learned float vectors are shown by shape.
  const small = t && (t.size === 1 || (t.size <= 8 && /^u?int/.test(t.dtype)));
  if (t && small && t.dtype !== 'string' && t.dtype !== 'complex64' && t.dtype !== 'complex128') {
    try {
      const vals = t.toArray().map((x) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(4)) : x));
      const body = vals.map(String).join(', ');
      return t.shape.length === 0 ? `= ${body}` : `= [${body}]`;
    } catch {
      // bytes not readable (external data missing): the shape says enough
    }
  }
  return dimsText(shape);
}

/** The name to show for input slot i of a node: the op schema's parameter name, else the weight's. */
function slotName(n: Node, i: number, v: Value): string {
  const schema = getSchema(n.op, n.domain);
  if (schema) {
    const spec = schema.inputs[i] ?? schema.inputs[schema.inputs.length - 1];
    if (spec && (!spec.variadic || i < schema.inputs.length)) return spec.name;
    if (spec) return `${spec.name}${i - schema.inputs.length + 1}`;
  }
  const tail = v.name.split(/[/.:]/).filter(Boolean).pop();
  return tail ?? `in${i}`;
}

/** The attributes that change what a node computes at a glance: kernel, stride, group, axis, perm. */
function attrLine(n: Node): string {
  if (n.domain) return '';
  const parts: string[] = [];
  const ints = (name: string): number[] | undefined => {
    const a = n.attrs[name];
    return a && (a.kind === 'ints' || a.kind === 'int') ? (a.kind === 'int' ? [a.value] : a.value) : undefined;
  };
  const same = (xs: number[]) => (xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join('×'));
  try {
    if (/Pool$/.test(n.op) && !/^Global/.test(n.op)) {
      const k = ints('kernel_shape');
      if (k) parts.push(k.join('×'));
    }
    if (/^(Conv|ConvTranspose|ConvInteger|QLinearConv)$/.test(n.op) || (/Pool$/.test(n.op) && !/^Global/.test(n.op))) {
      const st = ints('strides');
      if (st && st.some((x) => x !== 1)) parts.push(`stride ${same(st)}`);
      const d = ints('dilations');
      if (d && d.some((x) => x !== 1)) parts.push(`dilation ${same(d)}`);
      const gr = n.attrs.group;
      if (gr?.kind === 'int' && gr.value > 1) parts.push(`group ${gr.value}`);
    }
    if (n.op === 'Transpose') {
      const perm = ints('perm');
      if (perm) parts.push(`perm ${perm.join(',')}`);
    }
    if (/^(Concat|Softmax|LogSoftmax|Gather|Split|Flatten)$/.test(n.op) && n.attrs.axis?.kind === 'int') parts.push(`axis ${n.attrs.axis.value}`);
  } catch {
    // a malformed attribute is shown nowhere rather than breaking the picture
  }
  return parts.join('  ');
}

// ---------------------------------------------------------------------------------------------
// Op colours (a hint of what a node does, as in most model viewers)

const COLOURS: [RegExp, string][] = [
  [/^(Conv|ConvTranspose|ConvInteger|QLinearConv|Gemm|MatMul|MatMulInteger|QLinearMatMul|Einsum|LSTM|GRU|RNN|Attention|MultiHeadAttention)$/, '#cfe2f3'],
  [/Normalization$|^(LRN|Dropout)$/, '#d9ead3'],
  [/^(Relu|LeakyRelu|PRelu|Elu|Selu|Celu|Gelu|Sigmoid|HardSigmoid|HardSwish|Tanh|Softmax|LogSoftmax|Softplus|Softsign|Mish|ThresholdedRelu|Clip)$/, '#f4cccc'],
  [/Pool$|^(GlobalLpPool|LpPool|Resize|Upsample)$/, '#d9d2e9'],
  [/^(Reshape|Flatten|Transpose|Squeeze|Unsqueeze|Concat|Split|Slice|Gather|GatherElements|GatherND|Expand|Tile|Pad|Shape|Size|Identity|Cast|CastLike|DepthToSpace|SpaceToDepth|Constant|ConstantOfShape|Range|Where)$/, '#eeeeee'],
  [/^(Add|Sub|Mul|Div|Pow|Sqrt|Exp|Log|Neg|Abs|Reciprocal|Min|Max|Sum|Mean|Erf|Floor|Ceil|Round|Equal|Less|Greater|Not|And|Or|Xor)$|^Reduce/, '#fff2cc'],
];

function fillFor(op: string): string {
  for (const [re, c] of COLOURS) if (re.test(op)) return c;
  return '#ffffff';
}

// ---------------------------------------------------------------------------------------------
// Paths: where a node sits in the source's layer/module tree

interface Placed {
  node: Node;
  /** Layer/module path of the node (enclosing levels only). */
  path: string[];
  /** The node's own last name segment. */
  own: string;
  /** '.' for dotted module paths (shown whole), '/' for scopes. */
  sep: '/' | '.';
}

/** Splits a node name into enclosing path segments and its own segment. */
export function nodePath(n: Node): { path: string[]; own: string; sep: '/' | '.' } {
  const layer = n.meta.kerasLayer;
  if (typeof layer === 'string' && layer.length) {
    const own = n.name.startsWith(layer + '/') ? n.name.slice(layer.length + 1) : n.name;
    return { path: layer.split('/').filter(Boolean), own, sep: '/' };
  }
  if (n.name.includes('/')) {
    const parts = n.name.split('/').filter(Boolean);
    const own = parts.pop() ?? n.name;
    return { path: parts, own, sep: '/' };
  }
  // TorchScript module paths (`features.0`, `encoder.layers.1.linear1`): dotted, with no spaces.
  if (/^[A-Za-z_][\w]*(\.[\w]+)+$/.test(n.name)) {
    const parts = n.name.split('.');
    const own = parts.pop()!;
    return { path: parts, own, sep: '.' };
  }
  return { path: [], own: n.name, sep: '/' };
}

/** Class names of the source's layers, by path ('inner/inner_dense') and by name. */
function layerClasses(layers: SourceLayer[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (ls: SourceLayer[], prefix: string) => {
    for (const l of ls) {
      // TorchScript class names are mangled (`__torch__.torch.nn.modules.conv.___torch_mangle_10.Conv2d`).
      const cls = l.className.split('.').pop() ?? l.className;
      if (cls && !l.className.startsWith('parameter') && !l.className.startsWith('buffer')) {
        out.set(prefix + l.name, cls);
        if (!out.has(l.name)) out.set(l.name, cls);
      }
      if (l.children?.length) walk(l.children, `${prefix}${l.name}/`);
    }
  };
  walk(layers ?? [], '');
  return out;
}

interface Group {
  key: string;
  segment: string;
  /** The separator of the names that made this level ('.' for dotted module paths). */
  sep: '/' | '.';
  parent?: Group;
  children: Map<string, Group>;
  direct: Placed[];
  /** Set when this level is drawn as a cluster. */
  clusterId?: string;
}

function newGroup(key: string, segment: string, sep: '/' | '.', parent?: Group): Group {
  return { key, segment, sep, parent, children: new Map(), direct: [] };
}

function buildTree(placed: Placed[]): Group {
  const root = newGroup('', '', '/');
  for (const p of placed) {
    let g = root;
    for (const seg of p.path) {
      const key = g.key ? `${g.key}/${seg}` : seg;
      let c = g.children.get(seg);
      if (!c) g.children.set(seg, (c = newGroup(key, seg, p.sep, g)));
      g = c;
    }
    g.direct.push(p);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// The picture

interface Box {
  id: string;
  label: string;
  tooltip: string;
  fill: string;
  /** Cluster group the box sits in (undefined: top level). */
  group?: Group;
  extra?: string;
}

export function modelToDot(model: Model, opts: DotOptions = {}): DotResult {
  const g = model.graph;
  const maxNodes = Math.max(1, opts.maxNodes ?? MAX_PICTURE_NODES);
  const useClusters = opts.clusters !== false;
  const { constants, folded } = findConstants(g);
  let order: Node[];
  try {
    order = topologicalOrder(g);
  } catch {
    order = g.nodes.slice();
  }
  const drawnNodes = order.filter((n) => !folded.has(n));
  const placed: Placed[] = drawnNodes.map((node) => {
    const { path, own, sep } = nodePath(node);
    return { node, path: useClusters ? path : [], own, sep };
  });
  const classes = layerClasses(model.layers);
  const root = buildTree(placed);
  const notes: string[] = [];

  // Which path levels collapse into one box each, when the graph is too big to draw whole.
  let collapseDepth = Infinity;
  let truncateAt = Infinity;
  if (drawnNodes.length > maxNodes) {
    const boxesAtDepth = (d: number): number => {
      let n = 0;
      const walk = (gr: Group, depth: number) => {
        n += gr.direct.length;
        for (const c of gr.children.values()) {
          if (depth + 1 >= d) n += 1;
          else walk(c, depth + 1);
        }
      };
      walk(root, 0);
      return n;
    };
    for (let d = 8; d >= 1; d--) {
      if (boxesAtDepth(d) <= maxNodes) {
        collapseDepth = d;
        break;
      }
    }
    if (collapseDepth !== Infinity && boxesAtDepth(collapseDepth) < drawnNodes.length) {
      notes.push(`the graph has ${drawnNodes.length} nodes, more than ${maxNodes} can be laid out in reasonable time: each module ${collapseDepth} level${collapseDepth > 1 ? 's' : ''} deep (such as ${exampleAtDepth(root, collapseDepth)}) is drawn as one box`);
    } else {
      collapseDepth = Infinity;
      truncateAt = maxNodes;
      notes.push(`the graph has ${drawnNodes.length} nodes, more than ${maxNodes} can be laid out in reasonable time, and no module paths to group them by: only the first ${maxNodes} (in execution order) are drawn`);
    }
  }

  const boxes: Box[] = [];
  const unitOf = new Map<Node, string>();
  const nodeIds = new Map<Node, string>();
  const depthOf = (gr: Group): number => {
    let d = 0;
    for (let p = gr.parent; p; p = p.parent) d++;
    return d;
  };
  const collapsedBoxes = new Map<Group, Box>();

  // Collapsed module boxes.
  if (collapseDepth !== Infinity) {
    const walk = (gr: Group, depth: number) => {
      for (const c of gr.children.values()) {
        if (depth + 1 >= collapseDepth) {
          const members: Placed[] = [];
          const collect = (x: Group) => {
            members.push(...x.direct);
            for (const y of x.children.values()) collect(y);
          };
          collect(c);
          const ops = new Map<string, number>();
          for (const m of members) ops.set(m.node.op, (ops.get(m.node.op) ?? 0) + 1);
          const topOps = [...ops.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ×${v}`).join(', ');
          const cls = classes.get(c.key) ?? classes.get(c.segment);
          const id = `m${collapsedBoxes.size}`;
          const label = rows([
            `<B>${html(clip(c.segment, 40))}</B>${cls ? ` <FONT POINT-SIZE="9">(${html(cls)})</FONT>` : ''}`,
            `<FONT POINT-SIZE="9">${members.length} nodes: ${html(topOps)}</FONT>`,
          ]);
          const box: Box = { id, label, tooltip: c.key, fill: '#f3f3f3', group: gr.key ? gr : undefined, extra: 'style="filled,bold"' };
          collapsedBoxes.set(c, box);
          boxes.push(box);
          for (const m of members) unitOf.set(m.node, id);
        } else {
          walk(c, depth + 1);
        }
      }
    };
    walk(root, 0);
  }

  // The nodes drawn as boxes of their own (all but those in collapsed modules and past the cut).
  const own = placed.filter((p) => !unitOf.has(p.node)).slice(0, truncateAt);
  const ownSet = new Set(own.map((p) => p.node));
  const boxesIn = (gr: Group): number => {
    let n = gr.direct.filter((p) => ownSet.has(p.node)).length;
    for (const c of gr.children.values()) n += collapsedBoxes.has(c) ? 1 : boxesIn(c);
    return n;
  };

  // Decide clusters: a level with at least two boxes inside; a level with one box names that box;
  // a level that only wraps one deeper level gives it its name (`features.1/conv`) instead of a frame.
  const clusterGroups: Group[] = [];
  const merged = new Set<Group>();
  const assignClusters = (gr: Group) => {
    for (const c of gr.children.values()) {
      if (collapsedBoxes.has(c)) continue;
      const only = c.children.size === 1 && !c.direct.some((p) => ownSet.has(p.node)) ? [...c.children.values()][0]! : undefined;
      if (only && !collapsedBoxes.has(only) && boxesIn(only) >= 2) merged.add(c);
      else if (boxesIn(c) >= 2) {
        c.clusterId = `cluster_${clusterGroups.length}`;
        clusterGroups.push(c);
      }
      assignClusters(c);
    }
  };
  if (useClusters) assignClusters(root);
  const enclosingCluster = (gr: Group | undefined): Group | undefined => {
    for (let x = gr; x; x = x.parent) if (x.clusterId) return x;
    return undefined;
  };

  // Node boxes.
  const cut = placed.length - unitOf.size - own.length;
  for (const p of own) {
    const n = p.node;
    const id = `n${nodeIds.size}`;
    nodeIds.set(n, id);
    unitOf.set(n, id);
    // The group the node sits in, and the path levels below its cluster that name it.
    let gr: Group = root;
    for (const seg of p.path) gr = gr.children.get(seg)!;
    const cluster = enclosingCluster(gr);
    const depthBelow = p.path.slice(cluster ? depthOf(cluster) : 0);
    const ownIsOp = p.own.replace(/_\d+$/, '').toLowerCase() === n.op.toLowerCase();
    // Dotted module paths read best whole (`features.0`); scopes by the levels below the cluster.
    const caption = p.sep === '.' ? n.name : [...depthBelow, ...(ownIsOp && depthBelow.length ? [] : [p.own])].join('/');
    const cls = n.meta.kerasClass;
    const lines: string[] = [];
    const opText = n.domain ? `${n.domain}.${n.op}` : n.op;
    lines.push(`<B>${html(opText)}</B>`);
    if (caption && caption !== n.op) lines.push(`<FONT POINT-SIZE="9" COLOR="#555555">${html(clip(caption, 36))}</FONT>`);
    // Weights and constants, a few per line.
    // Consecutive weights of the same shape share one entry: `scale, B, mean, var 64`.
    const groups: { names: string[]; text: string }[] = [];
    n.inputs.forEach((v, i) => {
      if (!v || !constants.has(v)) return;
      const name = SLOT_ALIASES[slotName(n, i, v)] ?? slotName(n, i, v);
      const text = constantText(v, g);
      const last = groups[groups.length - 1];
      if (last && last.text === text && !text.startsWith('=')) last.names.push(name);
      else groups.push({ names: [name], text });
    });
    const weights = groups.map((w) => `${w.names.join(', ')} ${w.text}`);
    const wLines: { text: string; count: number }[] = [];
    for (const w of weights) {
      const piece = clip(w, 40);
      const last = wLines[wLines.length - 1];
      if (last && last.text.length + piece.length + 2 <= 34) {
        last.text += `  ${piece}`;
        last.count++;
      } else wLines.push({ text: piece, count: 1 });
    }
    if (wLines.length > 4) {
      const shown = wLines.slice(0, 3);
      const rest = weights.length - shown.reduce((a, l) => a + l.count, 0);
      wLines.splice(0, wLines.length, ...shown, { text: `+ ${rest} more`, count: rest });
    }
    const attrs = attrLine(n);
    if (attrs) lines.push(`<FONT POINT-SIZE="10">${html(attrs)}</FONT>`);
    for (const w of wLines) lines.push(`<FONT POINT-SIZE="10">${html(w.text)}</FONT>`);
    const subs = subgraphsOf(n);
    if (subs.length) lines.push(`<FONT POINT-SIZE="9">${subs.length} subgraph${subs.length > 1 ? 's' : ''}: ${subs.map((s) => `${s.nodes.length} nodes`).join(', ')}</FONT>`);
    const outs = n.outputs.filter((o) => o.name);
    if (outs.length) {
      const shown = outs.slice(0, 4).map((o) => dimsText(o.shape) + (o.dtype && o.dtype !== 'float32' ? ` ${o.dtype}` : ''));
      lines.push(html(`→ ${shown.join(', ')}${outs.length > 4 ? ` (+${outs.length - 4})` : ''}`));
    }
    const tooltip = `${n.name}${typeof cls === 'string' ? ` (${cls})` : ''}`;
    boxes.push({ id, label: rows(lines), tooltip, fill: fillFor(n.op), group: cluster });
  }
  if (cut) {
    const id = 'truncated';
    boxes.push({ id, label: `<I>… ${cut} more nodes not drawn</I>`, tooltip: `${cut} nodes not drawn`, fill: '#ffffff', extra: 'style="dashed"' });
    for (const p of placed) if (!unitOf.has(p.node)) unitOf.set(p.node, id);
  }

  // Graph inputs and outputs.
  const inputIds = new Map<string, string>();
  const outputIds = new Map<string, string>();
  const ioLines: string[] = [];
  g.inputs.forEach((v) => {
    if (initializerOf(v, g) || inputIds.has(v.name)) return;
    const id = `in${inputIds.size}`;
    inputIds.set(v.name, id);
    const label = rows([`<B>${html(clip(v.name, 40))}</B>`, `<FONT POINT-SIZE="10">${html(`${dimsText(v.shape)}${v.dtype ? ` ${v.dtype}` : ''}`)}</FONT>`]);
    ioLines.push(`  ${id} [label=<${label}> shape=ellipse fillcolor="#b6d7a8" tooltip=${quoted(`input ${v.name}`)}];`);
  });
  g.outputs.forEach((v, i) => {
    const id = `out${i}`;
    outputIds.set(v.name, id);
    const label = rows([`<B>${html(clip(v.name, 40))}</B>`, `<FONT POINT-SIZE="10">${html(`${dimsText(v.shape)}${v.dtype ? ` ${v.dtype}` : ''}`)}</FONT>`]);
    ioLines.push(`  ${id} [label=<${label}> shape=ellipse peripheries=2 fillcolor="#f9cb9c" tooltip=${quoted(`output ${v.name}`)}];`);
  });

  // Edges: producer (or graph input) -> reader, once per pair of boxes.
  const edges: [string, string][] = [];
  const seen = new Set<string>();
  const addEdge = (a: string, b: string) => {
    if (a === b) return;
    const k = `${a}->${b}`;
    if (seen.has(k)) return;
    seen.add(k);
    edges.push([a, b]);
  };
  const sourceOf = (v: Value): string | undefined => {
    if (v.producer && unitOf.has(v.producer)) return unitOf.get(v.producer);
    if (!v.producer) return inputIds.get(v.name);
    return undefined;
  };
  for (const p of placed) {
    const to = unitOf.get(p.node);
    if (!to) continue;
    const reads = new Set<Value>();
    for (const v of p.node.inputs) if (v && !constants.has(v)) reads.add(v);
    // Subgraph bodies read outer values too: draw those as edges into the node.
    for (const v of implicitInputs(p.node, g)) if (!constants.has(v)) reads.add(v);
    for (const v of reads) {
      const from = sourceOf(v);
      if (from) addEdge(from, to);
    }
  }
  g.outputs.forEach((v, i) => {
    const from = sourceOf(v);
    if (from) addEdge(from, `out${i}`);
  });

  // Clusters and their members.
  const clusters: DotCluster[] = clusterGroups.map((c) => {
    const cls = classes.get(c.key) ?? classes.get(c.segment);
    const parent = enclosingCluster(c.parent);
    let name = c.segment;
    for (let x = c.parent; x && merged.has(x); x = x.parent) name = `${x.segment}/${name}`;
    if (c.sep === '.') name = c.key.replace(/\//g, '.');
    return { id: c.clusterId!, path: c.key, label: `${name}${cls ? ` (${cls})` : ''}`, parent: parent?.clusterId, members: [] };
  });
  const clusterById = new Map(clusters.map((c) => [c.id, c]));
  for (const b of boxes) if (b.group?.clusterId) clusterById.get(b.group.clusterId)!.members.push(b.id);

  // The DOT text.
  const out: string[] = [];
  out.push('digraph model {');
  out.push(`  graph [rankdir=${opts.rankdir ?? 'TB'} fontname=${quoted(PICTURE_FONT)} fontsize=12 nodesep=0.3 ranksep=0.35 bgcolor="white" pad=0.3${opts.title ? ` label=${quoted(opts.title)} labelloc=t fontsize=14` : ''}];`);
  out.push(`  node [shape=box style="rounded,filled" fontname=${quoted(PICTURE_FONT)} fontsize=11 color="#555555" penwidth=1 margin="0.12,0.05"];`);
  out.push(`  edge [color="#666666" arrowsize=0.6 penwidth=1];`);
  out.push(...ioLines);
  const boxLine = (b: Box, indent: string) =>
    `${indent}${b.id} [label=<${b.label}> fillcolor="${b.fill}" tooltip=${quoted(b.tooltip)}${b.extra ? ' ' + b.extra : ''}];`;
  const childrenOf = new Map<string | undefined, DotCluster[]>();
  for (const c of clusters) {
    const list = childrenOf.get(c.parent) ?? [];
    list.push(c);
    childrenOf.set(c.parent, list);
  }
  const boxById = new Map(boxes.map((b) => [b.id, b]));
  const writeCluster = (c: DotCluster, depth: number) => {
    const ind = '  '.repeat(depth + 1);
    out.push(`${ind}subgraph ${c.id} {`);
    out.push(`${ind}  graph [label=${quoted(clip(c.label, 60))} tooltip=${quoted(c.path)} labeljust=l fontsize=10 fontcolor="#444444" style="rounded,filled" color="#a4b0be" fillcolor="${depth % 2 ? '#f5f7fa' : '#ffffff'}" penwidth=1 margin=8];`);
    for (const id of c.members) out.push(boxLine(boxById.get(id)!, ind + '  '));
    for (const sub of childrenOf.get(c.id) ?? []) writeCluster(sub, depth + 1);
    out.push(`${ind}}`);
  };
  for (const b of boxes) if (!b.group?.clusterId) out.push(boxLine(b, '  '));
  for (const c of childrenOf.get(undefined) ?? []) writeCluster(c, 1);
  for (const [a, b] of edges) out.push(`  ${a} -> ${b};`);
  out.push('}');

  return {
    dot: out.join('\n') + '\n',
    nodeIds,
    inputIds,
    outputIds,
    edges,
    clusters,
    folded: [...folded],
    boxes: boxes.length,
    totalNodes: drawnNodes.length,
    notes,
  };
}

/** The path of the first module at this depth, for messages. */
function exampleAtDepth(root: Group, depth: number): string {
  let g = root;
  for (let d = 0; d < depth; d++) {
    const next = g.children.values().next().value as Group | undefined;
    if (!next) break;
    g = next;
  }
  return g.key || '(top level)';
}
