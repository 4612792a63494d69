/**
 * Executes an IR graph with tfjs kernels: plans the order and each value's lifetime once,
 * checks that every node can run before any work starts, and disposes intermediates
 * right after their last use.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { Graph, Model, Node, Value, subgraphsOf } from '../ir/graph.js';
import { Tensor, formatShape, isFloatDType } from '../ir/tensor.js';
import { topologicalOrder } from '../ir/walk.js';
import { MconvError } from '../errors.js';
import { useBackend, tf, BackendName, DEFAULT_BACKEND } from './backends.js';
import { kernelFor } from './kernels/index.js';
import { disposeRT, type KernelContext, type RT } from './kernels/types.js';
import { fromRT, toRT } from './tensor-bridge.js';

export interface SessionOptions {
  backend?: BackendName | string;
  /** Called before each node runs (progress reporting). */
  onNode?: (node: Node, index: number, total: number) => void;
}

interface Plan {
  order: Node[];
  /** Index in `order` of the last node reading each value name (outer reads from subgraphs included). */
  lastUse: Map<string, number>;
}

/** Names read by a subgraph (at any depth) that it does not define itself. */
function outerReads(g: Graph, acc = new Set<string>()): Set<string> {
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) defined.add(o.name);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i && !defined.has(i.name)) acc.add(i.name);
    for (const sg of subgraphsOf(n)) for (const r of outerReads(sg)) if (!defined.has(r)) acc.add(r);
  }
  for (const o of g.outputs) if (!defined.has(o.name)) acc.add(o.name);
  return acc;
}

function plan(graph: Graph): Plan {
  const order = topologicalOrder(graph);
  const lastUse = new Map<string, number>();
  order.forEach((n, i) => {
    for (const v of n.inputs) if (v) lastUse.set(v.name, i);
    for (const sg of subgraphsOf(n)) for (const name of outerReads(sg)) lastUse.set(name, i);
  });
  return { order, lastUse };
}

/** Every node (subgraphs included) the kernels cannot run, with the reason. */
export function unsupportedNodes(graph: Graph): { node: Node; reason: string }[] {
  const out: { node: Node; reason: string }[] = [];
  for (const n of graph.nodes) {
    const k = kernelFor(n.op, n.domain);
    if (!k) out.push({ node: n, reason: `no kernel for op ${n.domain ? n.domain + '.' : ''}${n.op}` });
    else {
      let reason: string | undefined;
      try {
        reason = k.check?.(n);
      } catch (e) {
        reason = (e as Error).message;
      }
      if (reason) out.push({ node: n, reason });
    }
    for (const sg of subgraphsOf(n)) out.push(...unsupportedNodes(sg));
  }
  return out;
}

/** Throws one error listing every op the runtime cannot run (with counts and the first node names). */
export function assertRunnable(graph: Graph, file?: string, format?: string): void {
  const bad = unsupportedNodes(graph);
  if (!bad.length) return;
  const byReason = new Map<string, Node[]>();
  for (const b of bad) {
    const key = `${b.node.op}: ${b.reason}`;
    byReason.set(key, [...(byReason.get(key) ?? []), b.node]);
  }
  const parts = [...byReason.entries()].map(([k, nodes]) => `${k} (${nodes.length} node${nodes.length > 1 ? 's' : ''}: ${nodes.slice(0, 3).map((n) => n.name).join(', ')}${nodes.length > 3 ? ', ...' : ''})`);
  throw new MconvError({
    kind: 'unsupported',
    file,
    format,
    message: `the runtime cannot run ${bad.length} node${bad.length > 1 ? 's' : ''}: ${parts.join('; ')}`,
    hint: 'these ops have no kernel yet; see the README for the supported op list',
  });
}

export class Session {
  readonly graph: Graph;
  readonly backend: BackendName;
  private readonly plans = new Map<Graph, Plan>();
  private readonly constants = new Map<Value, RT>();
  private readonly opts: SessionOptions;
  private readonly file?: string;
  private readonly format?: string;

  private constructor(graph: Graph, backend: BackendName, opts: SessionOptions, file?: string, format?: string) {
    this.graph = graph;
    this.backend = backend;
    this.opts = opts;
    this.file = file;
    this.format = format;
  }

  /** Prepares a session: loads the backend, checks every node can run, plans the order. */
  static async create(model: Model | Graph, opts: SessionOptions = {}): Promise<Session> {
    const graph = model instanceof Model ? model.graph : model;
    const file = model instanceof Model ? model.source.path : undefined;
    const format = model instanceof Model ? model.source.format : undefined;
    assertRunnable(graph, file, format);
    const backend = await useBackend(opts.backend ?? DEFAULT_BACKEND);
    const s = new Session(graph, backend, opts, file, format);
    s.planFor(graph);
    return s;
  }

  get inputs(): Value[] {
    return this.graph.inputs;
  }
  get outputs(): Value[] {
    return this.graph.outputs;
  }

  private planFor(g: Graph): Plan {
    let p = this.plans.get(g);
    if (!p) {
      p = plan(g);
      this.plans.set(g, p);
    }
    return p;
  }

  private constant(v: Value): RT {
    let c = this.constants.get(v);
    if (!c) {
      try {
        c = toRT(tf, v.initializer!);
      } catch (e) {
        throw new MconvError({ kind: 'unsupported', file: this.file, format: this.format, message: `cannot load constant ${v.name}: ${(e as Error).message}` });
      }
      this.constants.set(v, c);
    }
    return c;
  }

  /** Runs the graph. Feeds are by input name; missing inputs that have no default are an error. */
  async run(feeds: Map<string, Tensor> | Record<string, Tensor>): Promise<Map<string, Tensor>> {
    const feedMap = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
    const env = new Map<string, RT>();
    const owned: RT[] = [];
    try {
      for (const inp of this.graph.inputs) {
        const t = feedMap.get(inp.name);
        if (!t) {
          throw new MconvError({ kind: 'usage', file: this.file, message: `no value given for input '${inp.name}' (${inp.dtype ?? '?'}${formatShape(inp.shape)})`, hint: `give it with --input ${inp.name}=FILE.npy` });
        }
        checkFeed(inp, t, this.file);
        const r = toRT(tf, t);
        owned.push(r);
        env.set(inp.name, r);
      }
      for (const name of feedMap.keys()) {
        if (!this.graph.inputs.some((i) => i.name === name)) {
          throw new MconvError({ kind: 'usage', file: this.file, message: `the model has no input named '${name}'`, hint: `its inputs are: ${this.graph.inputs.map((i) => i.name).join(', ')}` });
        }
      }
      const outs = await this.execute(this.graph, env, undefined, true);
      const result = new Map<string, Tensor>();
      try {
        for (let i = 0; i < outs.length; i++) {
          const name = this.graph.outputs[i]!.name;
          if (outs[i]!.seq) {
            throw new MconvError({ kind: 'unsupported', file: this.file, format: this.format, where: name, message: `graph output '${name}' is a sequence of ${outs[i]!.seq!.length} tensors; only tensor outputs can be returned`, hint: 'end the graph with SequenceAt or ConcatFromSequence to return a tensor' });
          }
          result.set(name, await fromRT(outs[i]!, name));
        }
      } finally {
        for (const o of outs) if (!owned.includes(o) && ![...this.constants.values()].includes(o)) disposeRT(o);
      }
      return result;
    } finally {
      for (const r of owned) r.t.dispose();
    }
  }

  /**
   * Runs graph `g` with `env` holding its inputs. `outer` resolves names of enclosing graphs.
   * Returns the graph's outputs (never disposed here).
   */
  private async execute(g: Graph, env: Map<string, RT>, outer: ((name: string) => RT | undefined) | undefined, top: boolean): Promise<RT[]> {
    const p = this.planFor(g);
    const outputNames = new Set(g.outputs.map((o) => o.name));
    const refs = new Map<tfc.Tensor, number>();
    const external = new Set<tfc.Tensor>([...env.values()].map((r) => r.t));
    const lookup = (v: Value): RT | undefined => {
      const r = env.get(v.name);
      if (r) return r;
      const gv = g.value(v.name);
      if (gv?.initializer) return this.constant(gv);
      if (v.initializer) return this.constant(v);
      return outer?.(v.name);
    };
    const resolveName = (name: string): RT | undefined => {
      const v = g.value(name);
      if (v) return lookup(v);
      return env.get(name) ?? outer?.(name);
    };
    const release = (name: string) => {
      if (outputNames.has(name)) return;
      const r = env.get(name);
      if (!r) return;
      env.delete(name);
      const n = (refs.get(r.t) ?? 1) - 1;
      refs.set(r.t, n);
      if (n <= 0 && !external.has(r.t) && ![...this.constants.values()].some((c) => c.t === r.t)) disposeRT(r);
    };
    const total = p.order.length;
    try {
    for (let i = 0; i < total; i++) {
      const node = p.order[i]!;
      if (top) this.opts.onNode?.(node, i, total);
      const inputs = node.inputs.map((v) => {
        if (!v) return undefined;
        const r = lookup(v);
        if (!r) {
          throw new MconvError({ kind: 'unreadable', file: this.file, format: this.format, message: `value '${v.name}' read by node ${node.name} (${node.op}) is never produced`, where: node.name });
        }
        return r;
      });
      const kernel = kernelFor(node.op, node.domain)!;
      const ctx: KernelContext = {
        tf,
        node,
        inputs,
        backend: this.backend,
        runSubgraph: async (sg, sgInputs) => {
          const subEnv = new Map(sgInputs);
          return this.execute(sg, subEnv, resolveName, false);
        },
      };
      let outs: RT[];
      try {
        outs = await kernel.run(ctx);
      } catch (e) {
        if (e instanceof MconvError) throw e;
        throw new MconvError({
          kind: 'unsupported',
          file: this.file,
          format: this.format,
          where: node.name,
          message: `node ${node.name} (${node.op}) failed: ${(e as Error).message}`,
          hint: `inputs were ${inputs.map((r) => (r ? `${r.dtype}${formatShape(r.t.shape)}` : 'none')).join(', ')}`,
          cause: e,
        });
      }
      node.outputs.forEach((o, k) => {
        const r = outs[k];
        if (!r) return;
        if (!o.name) {
          // An omitted optional output: nobody can read it.
          if (!inputs.some((x) => x?.t === r.t) && !outs.some((x, j) => j !== k && x.t === r.t)) disposeRT(r);
          return;
        }
        env.set(o.name, r);
        refs.set(r.t, (refs.get(r.t) ?? 0) + 1);
      });
      // Outputs a kernel produced that nobody names are garbage now.
      for (let k = node.outputs.length; k < outs.length; k++) {
        const r = outs[k]!;
        if (!inputs.some((x) => x?.t === r.t)) disposeRT(r);
      }
      for (const v of node.inputs) if (v && p.lastUse.get(v.name) === i) release(v.name);
      for (const sg of subgraphsOf(node)) for (const name of outerReads(sg)) if (p.lastUse.get(name) === i) release(name);
      for (const o of node.outputs) if (!p.lastUse.has(o.name)) release(o.name);
    }
    } catch (e) {
      // A failed run frees what it computed so far (inputs and constants stay with their owners).
      const constants = new Set([...this.constants.values()].map((c) => c.t));
      for (const r of new Set(env.values())) if (!external.has(r.t) && !constants.has(r.t)) disposeRT(r);
      env.clear();
      throw e;
    }
    return g.outputs.map((o) => {
      const r = resolveName(o.name);
      if (!r) throw new MconvError({ kind: 'unreadable', file: this.file, format: this.format, message: `graph output '${o.name}' is never produced` });
      return r;
    });
  }

  /** Frees the constants this session uploaded to the backend. */
  dispose(): void {
    for (const c of this.constants.values()) c.t.dispose();
    this.constants.clear();
  }
}

function checkFeed(inp: Value, t: Tensor, file?: string): void {
  if (inp.dtype && inp.dtype !== t.dtype) {
    const bothFloat = isFloatDType(inp.dtype) && isFloatDType(t.dtype);
    if (!bothFloat) {
      throw new MconvError({ kind: 'usage', file, message: `input '${inp.name}' is ${inp.dtype}, the value given is ${t.dtype}`, hint: `give a ${inp.dtype} array` });
    }
  }
  if (inp.shape) {
    const ok = inp.shape.length === t.shape.length && inp.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === t.shape[i]);
    if (!ok) {
      throw new MconvError({ kind: 'usage', file, message: `input '${inp.name}' has shape ${formatShape(inp.shape)}, the value given has ${formatShape(t.shape)}`, hint: 'give an array of the declared shape' });
    }
  }
}

/** One-shot helper: run a model on feeds with a fresh session. */
export async function runModel(model: Model | Graph, feeds: Map<string, Tensor> | Record<string, Tensor>, opts: SessionOptions = {}): Promise<Map<string, Tensor>> {
  const s = await Session.create(model, opts);
  try {
    return await s.run(feeds);
  } finally {
    s.dispose();
  }
}
