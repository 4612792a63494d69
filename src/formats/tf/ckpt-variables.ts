/**
 * Binding the variables of a TensorFlow graph to checkpoint values.
 *
 * - TF1 graphs (`.meta`, TF1 SavedModels) hold `VariableV2` / `VarHandleOp` nodes and a saver
 *   whose `RestoreV2` node lists checkpoint keys (`tensor_names`) and whose `Assign` /
 *   `AssignVariableOp` nodes write output k of it into a variable: that gives node -> key. Without a
 *   saver, the key is the node's name (or its `shared_name`), as TF's default saver names them.
 * - TF2 SavedModels capture variables into the functions they call: a `StatefulPartitionedCall` in
 *   the main graph passes the function's captured inputs after its arguments, and the
 *   SavedObjectGraph's `bound_inputs` of that concrete function give the object node of each; that
 *   object's `VARIABLE_VALUE` attribute in the checkpoint's object graph is the key. Variables no
 *   signature captures (optimizer state, metrics) are found through the restore function the main
 *   graph calls with every variable handle.
 */
import type { Tensor } from '../../ir/tensor.js';
import type { TfGraph, TfNode } from './tf-graph.js';
import type { TfObjectGraph } from './proto.js';
import { objectPaths, VARIABLE_VALUE_SUFFIX, type TfCheckpoint } from './checkpoint.js';

/** Ops that create a variable (whose value comes from a checkpoint). */
export const VARIABLE_OPS = new Set(['VariableV2', 'Variable', 'VarHandleOp']);
const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);
const RESTORE_OPS = new Set(['RestoreV2', 'Restore', 'RestoreSlice']);
const ASSIGN_OPS = new Set(['Assign', 'AssignVariableOp']);

export interface VariableBinding {
  /** Variable node name -> checkpoint key. */
  keys: Map<string, string>;
  /** Values keyed by variable node name (and by `shared_name` where that differs and is free). */
  values: Map<string, Tensor>;
  /** Variable nodes whose value the checkpoint does not hold (or that there is no checkpoint for). */
  unresolved: string[];
  /** How the keys were found, for metadata: 'object-graph', 'restore-function', 'saver', 'name'. */
  methods: Set<string>;
}

const dec = new TextDecoder();

function sharedName(n: TfNode): string | undefined {
  const s = n.attr.shared_name?.s;
  return s && s.length ? dec.decode(s) : undefined;
}

/** `node:port` / `node` / `^node` -> [node, port]. */
export function splitInput(input: string): [string, number] {
  const s = input.startsWith('^') ? input.slice(1) : input;
  const m = /^(.*):(\d+)$/.exec(s);
  return m ? [m[1]!, Number(m[2])] : [s, 0];
}

/** TF1: variable node -> key, from the saver's RestoreV2 and Assign nodes. */
function keysFromSaver(graph: TfGraph): Map<string, string> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const out = new Map<string, string>();
  // The checkpoint key list of each restore node (a Const of strings as its second input).
  const restoreNames = new Map<string, string[]>();
  for (const n of graph.nodes) {
    if (!RESTORE_OPS.has(n.op) || n.inputs.length < 2) continue;
    const names = byName.get(splitInput(n.inputs[1]!)[0]);
    const t = names?.op === 'Const' ? names.attr.value?.tensor : undefined;
    if (t?.dtype === 'string') restoreNames.set(n.name, t.stringValues());
  }
  if (!restoreNames.size) return out;
  for (const n of graph.nodes) {
    if (!ASSIGN_OPS.has(n.op) || n.inputs.length < 2) continue;
    // Follow Identity nodes from the assigned value back to a restore output.
    let [src, port] = splitInput(n.inputs[1]!);
    for (let hops = 0; hops < 8; hops++) {
      const p = byName.get(src);
      if (p?.op !== 'Identity' || !p.inputs.length) break;
      [src, port] = splitInput(p.inputs[0]!);
    }
    const names = restoreNames.get(src);
    const key = names?.[port];
    if (key === undefined) continue;
    const [target] = splitInput(n.inputs[0]!);
    if (VARIABLE_OPS.has(byName.get(target)?.op ?? '')) out.set(target, key);
  }
  return out;
}

/**
 * TF2: variable node -> key through the SavedModel's restore function (`__inference__traced_restore`):
 * the main graph calls it with the variable handles; inside, `AssignVariableOp(arg, Identity(RestoreV2:tensors:j))`
 * writes `tensor_names[j]` into the variable passed as `arg`.
 */
function keysFromRestoreFunctions(graph: TfGraph): Map<string, string> {
  const out = new Map<string, string>();
  const fns = new Map(graph.functions.map((f) => [f.name, f]));
  for (const call of graph.nodes) {
    if (!CALL_OPS.has(call.op)) continue;
    const fn = fns.get(call.attr.f?.func?.name ?? '');
    if (!fn || !fn.nodes.some((n) => RESTORE_OPS.has(n.op))) continue;
    const data = call.inputs.filter((i) => !i.startsWith('^'));
    const argIndex = new Map(fn.inputs.map((a, i) => [a.name, i]));
    const byName = new Map(fn.nodes.map((n) => [n.name, n]));
    // `node:out_arg:idx` (or `node`) inside a function body.
    const ref = (s: string): [string, number] => {
      const parts = s.replace(/^\^/, '').split(':');
      return [parts[0]!, parts.length >= 3 ? Number(parts[2]) : 0];
    };
    for (const n of fn.nodes) {
      if (!ASSIGN_OPS.has(n.op) || n.inputs.length < 2) continue;
      const arg = argIndex.get(ref(n.inputs[0]!)[0]);
      const target = arg !== undefined ? data[arg] : undefined;
      if (target === undefined) continue;
      let [src, port] = ref(n.inputs[1]!);
      for (let hops = 0; hops < 8; hops++) {
        const p = byName.get(src);
        if (p?.op !== 'Identity' || !p.inputs.length) break;
        [src, port] = ref(p.inputs[0]!);
      }
      const restore = byName.get(src);
      if (!restore || !RESTORE_OPS.has(restore.op) || restore.inputs.length < 2) continue;
      const names = byName.get(ref(restore.inputs[1]!)[0]);
      const t = names?.op === 'Const' ? names.attr.value?.tensor : undefined;
      const key = t?.dtype === 'string' ? t.stringValues()[port] : undefined;
      if (key !== undefined) out.set(splitInput(target)[0], key);
    }
  }
  return out;
}

/** TF2: variable handle node in the main graph -> object graph node id, from call nodes and bound_inputs. */
function objectIdsFromCalls(graph: TfGraph, objectGraph: TfObjectGraph): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of graph.nodes) {
    if (!CALL_OPS.has(n.op)) continue;
    const fname = n.attr.f?.func?.name;
    const bound = fname ? objectGraph.boundInputs[fname] : undefined;
    if (!bound?.length) continue;
    const data = n.inputs.filter((i) => !i.startsWith('^'));
    const captured = data.slice(data.length - bound.length);
    captured.forEach((inp, i) => {
      const [name] = splitInput(inp);
      if (!out.has(name)) out.set(name, bound[i]!);
    });
  }
  return out;
}

/**
 * Finds the checkpoint key of every variable node of the main graph and, when a checkpoint is
 * given, its (lazy) value.
 */
export function bindVariables(graph: TfGraph, checkpoint: TfCheckpoint | undefined, objectGraph?: TfObjectGraph): VariableBinding {
  const keys = new Map<string, string>();
  const methods = new Set<string>();
  const varNodes = graph.nodes.filter((n) => VARIABLE_OPS.has(n.op));
  const has = (k: string): boolean => !checkpoint || checkpoint.byKey.has(k);

  if (objectGraph && objectGraph.nodes.length) {
    const ids = objectIdsFromCalls(graph, objectGraph);
    const savedPaths = objectPaths(objectGraph.nodes);
    for (const n of varNodes) {
      const id = ids.get(n.name);
      if (id === undefined) continue;
      const attr = checkpoint?.objectGraph?.[id]?.attributes.find((a) => a.name === 'VARIABLE_VALUE');
      const path = savedPaths.get(id);
      const key = attr?.checkpointKey ?? (path !== undefined ? `${path}${VARIABLE_VALUE_SUFFIX}` : undefined);
      if (key !== undefined && has(key)) {
        keys.set(n.name, key);
        methods.add('object-graph');
      }
    }
  }
  const fromRestoreFn = keysFromRestoreFunctions(graph);
  const fromSaver = keysFromSaver(graph);
  for (const n of varNodes) {
    if (keys.has(n.name)) continue;
    const rk = fromRestoreFn.get(n.name);
    if (rk !== undefined && has(rk)) {
      keys.set(n.name, rk);
      methods.add('restore-function');
      continue;
    }
    const k = fromSaver.get(n.name);
    if (k !== undefined && has(k)) {
      keys.set(n.name, k);
      methods.add('saver');
      continue;
    }
    const shared = sharedName(n);
    for (const cand of [n.name, shared]) {
      if (cand !== undefined && checkpoint?.byKey.has(cand)) {
        keys.set(n.name, cand);
        methods.add('name');
        break;
      }
    }
  }

  const values = new Map<string, Tensor>();
  const unresolved: string[] = [];
  for (const n of varNodes) {
    const key = keys.get(n.name);
    const entry = key !== undefined ? checkpoint?.byKey.get(key) : undefined;
    if (!checkpoint || !entry || entry.note || !entry.dtype) {
      unresolved.push(n.name);
      continue;
    }
    values.set(n.name, checkpoint.tensor(key!));
  }
  // The importer may look a variable up by its shared_name too.
  for (const n of varNodes) {
    const v = values.get(n.name);
    const shared = sharedName(n);
    if (v && shared && !values.has(shared) && !graph.nodes.some((m) => m.name === shared && m !== n)) values.set(shared, v);
  }
  return { keys, values, unresolved, methods };
}
