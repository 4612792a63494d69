/**
 * A SavedModel's own TF graph made runnable by the tfjs-converter oracle (a test helper, not
 * mconv's conversion): tfjs-converter has no PartitionedCall and no variables, so
 *
 * - every `PartitionedCall` / `StatefulPartitionedCall` is inlined (recursively): the body's nodes
 *   are copied under `<call>/`, argument names become the caller's inputs, `node:out_arg:idx` refs
 *   become `node:port`, and readers of the call's outputs read the function's results;
 * - variable nodes (`VarHandleOp`, `VariableV2`, `Variable`) become Consts holding the checkpoint
 *   value, and `ReadVariableOp` an Identity;
 * - the graph is pruned to what the outputs need; functions that While/If nodes name stay in the
 *   library (tfjs-converter runs those itself).
 */
import type { Tensor } from '../../src/ir/tensor.js';
import { OUTPUT_ARGS } from '../../src/formats/tf/import-graph.js';
import type { TfFunction, TfGraph, TfNode } from '../../src/formats/tf/tf-graph.js';

const CALLS = new Set(['PartitionedCall', 'StatefulPartitionedCall']);
const VARIABLES = new Set(['VarHandleOp', 'VariableV2', 'Variable']);
const dec = new TextDecoder();

function split(ref: string): { node: string; port: number } {
  const m = /^(.*?):(\d+)$/.exec(ref);
  return m ? { node: m[1]!, port: Number(m[2]) } : { node: ref, port: 0 };
}

const key = (node: string, port: number) => (port === 0 ? node : `${node}:${port}`);

/** The flat graph and the refs that compute `outputs` in it. */
export function freezeSavedModelGraph(graph: TfGraph, variables: Map<string, Tensor>, outputs: string[]): { graph: TfGraph; outputs: string[] } {
  const fns = new Map(graph.functions.map((f) => [f.name, f]));
  const nodes: TfNode[] = [];
  /** Call outputs (`call`, `call:k`) -> the ref that computes them. */
  const alias = new Map<string, string>();

  /** Adds `list` (already in top-level naming) to the output, inlining calls. */
  const emit = (list: TfNode[]) => {
    for (const n of list) {
      if (CALLS.has(n.op)) {
        const fn = fns.get(n.attr.f?.func?.name ?? '');
        if (!fn) throw new Error(`freeze: ${n.name} calls a missing function`);
        inline(fn, n.name, n.inputs.filter((i) => !i.startsWith('^')));
        continue;
      }
      if (VARIABLES.has(n.op)) {
        const shared = n.attr.shared_name?.s ? dec.decode(n.attr.shared_name.s) : undefined;
        const t = variables.get(n.name) ?? (shared ? variables.get(shared) : undefined);
        // Variables without a value (savers' bookkeeping) stay: pruning drops them when unused.
        if (!t) {
          nodes.push(n);
          continue;
        }
        nodes.push({ name: n.name, op: 'Const', inputs: [], attr: { dtype: n.attr.dtype ?? {}, value: { tensor: t } } });
        continue;
      }
      if (n.op === 'ReadVariableOp') {
        nodes.push({ name: n.name, op: 'Identity', inputs: n.inputs.filter((i) => !i.startsWith('^')), attr: { T: n.attr.dtype ?? {} } });
        continue;
      }
      nodes.push({ ...n, inputs: n.inputs.filter((i) => !i.startsWith('^')) });
    }
  };

  const inline = (fn: TfFunction, call: string, args: string[]) => {
    const prefix = `${call}/`;
    const byName = new Map(fn.nodes.map((n) => [n.name, n]));
    const argRef = new Map(fn.inputs.map((a, i) => [a.name, args[i] ?? '']));
    const mapRef = (ref: string): string => {
      if (argRef.has(ref)) return argRef.get(ref)!;
      const parts = ref.split(':');
      if (parts.length === 3) {
        const [node, arg, idx] = parts as [string, string, string];
        const op = byName.get(node)?.op;
        const list = op ? OUTPUT_ARGS[op] : undefined;
        const k = list ? list.indexOf(arg) : -1;
        return key(`${prefix}${node}`, k > 0 ? k + Number(idx) : Number(idx));
      }
      const r = split(ref);
      return key(`${prefix}${r.node}`, r.port);
    };
    const body = fn.nodes.map((n) => ({ ...n, name: `${prefix}${n.name}`, inputs: n.inputs.filter((i) => !i.startsWith('^')).map(mapRef) }));
    fn.outputs.forEach((o, k) => alias.set(key(call, k), mapRef(fn.ret[o.name] ?? '')));
    emit(body);
  };

  emit(graph.nodes);
  const resolve = (ref: string): string => {
    for (let i = 0; i < 64; i++) {
      const r = split(ref);
      const a = alias.get(key(r.node, r.port));
      if (a === undefined) return ref;
      ref = a;
    }
    throw new Error(`freeze: alias cycle at ${ref}`);
  };
  for (const n of nodes) n.inputs = n.inputs.map(resolve);

  // Prune to what the outputs need.
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const keep = new Set<string>();
  const stack = outputs.map((o) => split(resolve(o)).node);
  while (stack.length) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    const n = byName.get(name);
    if (!n) throw new Error(`freeze: ${name} is not in the graph`);
    keep.add(name);
    for (const i of n.inputs) stack.push(split(i).node);
  }
  const kept = nodes.filter((n) => keep.has(n.name));
  const usedFns = new Set<string>();
  const visitFn = (name: string) => {
    const f = fns.get(name);
    if (!f || usedFns.has(name)) return;
    usedFns.add(name);
    for (const n of f.nodes) for (const a of Object.values(n.attr)) if (a.func) visitFn(a.func.name);
  };
  for (const n of kept) for (const a of Object.values(n.attr)) if (a.func && !CALLS.has(n.op)) visitFn(a.func.name);
  return { graph: { ...graph, nodes: kept, functions: graph.functions.filter((f) => usedFns.has(f.name)) }, outputs: outputs.map(resolve) };
}
