/**
 * Builds the IR graph of a parsed Keras model: every call of every layer goes through the
 * converter registered for its class (`kerasLayerConverter`) with a LayerContext over the graph.
 * Sequential and functional models, several inputs and outputs, shared layers (one set of weight
 * initializers for all calls), nested models (their layers inlined under `<model>/`).
 *
 * A layer that cannot be converted (no converter, a refused configuration) does not stop the
 * build: it is reported, layers that depend on it are skipped, and the graph gets no outputs, so
 * `inspect` still shows the model while `convert`/`run` refuse it with the reasons.
 */
import { MconvError } from '../../errors.js';
import { Graph, type Value } from '../../ir/graph.js';
import type { Shape } from '../../ir/tensor.js';
import { optimize } from '../../ir/passes/index.js';
import { inferShapes } from '../../ir/infer.js';
import { renameValue } from '../../ir/edit.js';
import { kerasLayerConverter, type LayerContext } from './layer-api.js';
import type { KerasLayer, KerasModel } from './config.js';
import type { LayerWeights } from './weights.js';

export interface LayerReport {
  /** Output shapes of the layer's first call (batch as the symbolic `batch`). */
  outputShapes?: Shape[];
  /** Why the layer could not be converted. */
  problem?: string;
  /** Set when the layer was skipped because a layer it depends on failed. */
  blocked?: boolean;
}

export interface AssembleOptions {
  kerasVersion?: string;
  /**
   * Run the optimisation passes (transpose cancelling, folding) on a complete graph now (default
   * false: the reader marks the Model `pendingPasses` and `prepareModel` runs them before a run or
   * a write, so inspecting a file reads no weights).
   */
  optimize?: boolean;
}

export interface LayerProblem {
  /** The layer's path (`encoder/conv2d_1` inside a nested model). */
  layer: string;
  className: string;
  message: string;
  /** The class has no converter (several such layers are reported together). */
  noConverter?: boolean;
}

export interface AssembleResult {
  graph: Graph;
  reports: Map<KerasLayer, LayerReport>;
  /** One entry per layer that could not be converted. */
  problems: LayerProblem[];
}

/** The symbolic name of the batch dimension of Keras inputs. */
export const BATCH_DIM = 'batch';

function symbolicShape(shape: (number | null)[], inputName: string): Shape {
  return shape.map((d, i) => (d === null || d < 0 ? (i === 0 ? BATCH_DIM : `${inputName}_d${i}`) : d));
}

/** The message for layers of one class that has no converter. */
export function noConverterMessage(names: string[], className: string): string {
  const which = names.length === 1 ? `layer '${names[0]}'` : `layers ${names.map((n) => `'${n}'`).join(', ')}`;
  const verb = names.length === 1 ? 'has' : 'have';
  if (className === 'Lambda') {
    return `${which} of class Lambda ${names.length === 1 ? 'holds' : 'hold'} Python code, which mconv cannot run; register a converter with registerKerasLayer('Lambda', ...) from the API`;
  }
  return `${which} of class ${className} ${verb} no converter; register one with registerKerasLayer('${className}', ...) from the API`;
}

/** Most problems named in one line. */
const MAX_LISTED = 6;

/** One line for all problems: layers without a converter grouped by class, then the others. */
export function describeProblems(problems: LayerProblem[]): string {
  const byClass = new Map<string, string[]>();
  const parts: string[] = [];
  for (const p of problems) {
    if (p.noConverter) {
      const list = byClass.get(p.className);
      if (list) list.push(p.layer);
      else byClass.set(p.className, [p.layer]);
    }
  }
  for (const [cls, names] of byClass) parts.push(noConverterMessage(names, cls));
  for (const p of problems) if (!p.noConverter) parts.push(p.message);
  if (problems.length === 1) return parts[0]!;
  const shown = parts.slice(0, MAX_LISTED).join('; ');
  const more = parts.length > MAX_LISTED ? `; and ${parts.length - MAX_LISTED} more` : '';
  return `${problems.length} layers cannot be converted: ${shown}${more}`;
}

function problemText(layer: KerasLayer, e: unknown): string {
  if (e instanceof MconvError) {
    // Converter errors already name the layer ("Keras layer 'x' (Class): ...").
    return e.message.includes(`'${layer.name}'`) ? e.message : `layer '${layer.name}' of class ${layer.className}: ${e.message}`;
  }
  return `layer '${layer.name}' of class ${layer.className}: the converter failed: ${(e as Error)?.message ?? String(e)}`;
}

export function assembleKerasGraph(model: KerasModel, weights: Map<KerasLayer, LayerWeights>, opts: AssembleOptions = {}): AssembleResult {
  const graph = new Graph(model.name);
  const reports = new Map<KerasLayer, LayerReport>();
  const problems: LayerProblem[] = [];
  const weightValues = new Map<KerasLayer, Map<number, Value>>();
  const report = (l: KerasLayer): LayerReport => {
    let r = reports.get(l);
    if (!r) reports.set(l, (r = {}));
    return r;
  };
  const fail = (l: KerasLayer, path: string, message: string, noConverter = false) => {
    const r = report(l);
    if (!r.problem) {
      r.problem = message;
      problems.push({ layer: path, className: l.className, message, ...(noConverter ? { noConverter } : {}) });
    }
  };
  // Every layer whose class has no converter is named, reachable or not.
  const markMissing = (m: KerasModel, prefix: string) => {
    for (const l of m.layers) {
      if (l.model) markMissing(l.model, `${prefix}${l.name}/`);
      else if (!kerasLayerConverter(l.className)) fail(l, `${prefix}${l.name}`, noConverterMessage([`${prefix}${l.name}`], l.className), true);
    }
  };
  markMissing(model, '');

  const contextFor = (layer: KerasLayer, name: string): LayerContext => {
    const w = weights.get(layer) ?? { tensors: [], names: [] };
    let cache = weightValues.get(layer);
    if (!cache) weightValues.set(layer, (cache = new Map()));
    const added = cache;
    return {
      graph, layer: layer.entry, name, weights: w.tensors, weightNames: w.names, kerasVersion: opts.kerasVersion,
      weight(i: number): Value {
        let v = added.get(i);
        if (!v) {
          const t = w.tensors[i];
          if (!t) throw new MconvError({ kind: 'unsupported', format: 'keras', where: name, message: `layer '${name}' has no weight ${i} (it has ${w.tensors.length})` });
          const stored = w.names[i] ?? `w${i}`;
          const base = stored.includes('/') ? stored : `${name}/${stored}`;
          v = graph.addInitializer(graph.uniqueValueName(base), t);
          added.set(i, v);
        }
        return v;
      },
      constant(n, t) {
        return graph.addInitializer(graph.uniqueValueName(`${name}/${n}`), t);
      },
      node(op, inputs, attrs = {}, outputs = 1, suffix) {
        const node = graph.addNode(op, inputs, outputs, attrs, `${name}/${suffix ?? op}`);
        node.meta.kerasLayer = name;
        node.meta.kerasClass = layer.className;
        return node.outputs;
      },
    };
  };

  /** Converts model `m` called on `given` (graph inputs for the top model). Undefined when it could not be built. */
  const build = (m: KerasModel, given: Value[] | undefined, prefix: string): Value[] | undefined => {
    const produced = new Map<string, Value[]>();
    const byName = new Map(m.layers.map((l) => [l.name, l]));
    if (given && given.length !== m.inputs.length) {
      const owner = prefix.replace(/\/$/, '');
      problems.push({ layer: owner, className: m.className, message: `nested model '${owner}' takes ${m.inputs.length} inputs but is called on ${given.length}` });
      return undefined;
    }
    m.inputs.forEach((ref, i) => {
      const l = byName.get(ref.layer)!;
      let v: Value;
      if (given) v = given[i]!;
      else {
        const spec = l.input ?? { shape: [null], dtype: 'float32' as const };
        v = graph.addInput(l.name, spec.dtype, symbolicShape(spec.shape, l.name));
      }
      produced.set(`${ref.layer}:${ref.node}`, [v]);
      report(l).outputShapes ??= [v.shape ?? []];
    });

    const pending: { layer: KerasLayer; k: number }[] = [];
    for (const l of m.layers) {
      if (l.className === 'InputLayer' && l.calls.length === 0) continue;
      l.calls.forEach((_, k) => pending.push({ layer: l, k }));
    }
    const ready = (p: { layer: KerasLayer; k: number }) => p.layer.calls[p.k]!.inputs.every((r) => produced.get(`${r.layer}:${r.node}`)?.[r.tensor] !== undefined);
    let progress = true;
    while (progress && pending.length) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!;
        if (!ready(p)) continue;
        pending.splice(i--, 1);
        progress = true;
        const { layer, k } = p;
        const call = layer.calls[k]!;
        const ins = call.inputs.map((r) => produced.get(`${r.layer}:${r.node}`)![r.tensor]!);
        const name = `${prefix}${layer.name}`;
        let outs: Value[] | undefined;
        if (report(layer).problem) {
          // Already known not to convert (no converter).
        } else if (call.problem) {
          fail(layer, name, `layer '${name}' of class ${layer.className} ${call.problem}`);
        } else if (layer.model) {
          outs = build(layer.model, ins, `${name}/`);
          if (!outs) report(layer).blocked = true;
        } else {
          const conv = kerasLayerConverter(layer.className)!;
          try {
            outs = conv(contextFor(layer, name), ins);
            if (!Array.isArray(outs) || outs.some((o) => !o || typeof o !== 'object' || !('name' in o))) {
              throw new Error('it did not return a list of values');
            }
          } catch (e) {
            outs = undefined;
            fail(layer, name, problemText(layer, e));
          }
        }
        if (!outs) continue;
        produced.set(`${layer.name}:${k + (layer.nodeOffset ?? 0)}`, outs);
        if (k === 0) report(layer).outputShapes = outs.map((o) => (o.shape ? o.shape.slice() : []));
      }
    }
    for (const p of pending) {
      const r = report(p.layer);
      if (!r.problem) r.blocked = true;
    }
    const outs = m.outputs.map((r) => produced.get(`${r.layer}:${r.node}`)?.[r.tensor]);
    if (outs.some((o) => o === undefined)) return undefined;
    return outs as Value[];
  };

  const outputs = build(model, undefined, '');
  if (!outputs && problems.length === 0) {
    const never = [...reports].filter(([, r]) => r.blocked).map(([l]) => l.name);
    problems.push({ layer: model.name, className: model.className, message: `the model's outputs depend on layers that are never called${never.length ? ` (${never.join(', ')})` : ''}` });
  }
  if (outputs && problems.length === 0) checkTypes(graph, problems);
  if (outputs && problems.length === 0) {
    // A value listed twice, or a graph input returned as is, gets an Identity of its own.
    const seen = new Set<Value>();
    graph.outputs = outputs.map((v, i) => {
      if (seen.has(v) || graph.inputs.includes(v)) {
        return graph.addNode('Identity', [v], [graph.newValue(`${model.outputs[i]!.layer}_output_${i}`, v.dtype, v.shape)], {}, `output_${i}`).outputs[0]!;
      }
      seen.add(v);
      return v;
    });
    if (opts.optimize === true) optimize(graph);
    nameOutputs(graph, model);
  } else {
    // The graph will not run; still list every weight of the file, so inspect counts them all.
    for (const [layer, w] of weights) {
      const added = weightValues.get(layer);
      w.tensors.forEach((t, i) => {
        if (added?.has(i)) return;
        const stored = w.names[i] ?? `w${i}`;
        graph.addInitializer(graph.uniqueValueName(stored.includes('/') ? stored : `${layer.name}/${stored}`), t);
      });
    }
  }
  return { graph, reports, problems };
}

/**
 * Runs shape inference over the built graph: a weight that does not fit its layer's input (a file
 * from another model) shows up as an inference error on that layer's nodes, as Keras refuses it
 * on load.
 */
function checkTypes(graph: Graph, problems: LayerProblem[]): void {
  let issues;
  try {
    issues = inferShapes(graph, { write: false }).issues;
  } catch {
    return;
  }
  const seen = new Set<string>();
  for (const i of issues) {
    if (i.kind === 'unknown-op' || !i.node) continue;
    const node = graph.findNode(i.node);
    const layer = node?.meta.kerasLayer as string | undefined;
    if (!layer || seen.has(layer)) continue;
    seen.add(layer);
    const cls = (node?.meta.kerasClass as string | undefined) ?? '?';
    problems.push({ layer, className: cls, message: `layer '${layer}' of class ${cls}: its weights or inputs do not fit (${i.op ?? node?.op}: ${i.message})` });
  }
}

/** Names graph outputs after the Keras layers that produce them (`dense_2`, or `lstm_1:1` for a second output). */
function nameOutputs(graph: Graph, model: KerasModel): void {
  const counts = new Map<string, number>();
  for (const r of model.outputs) counts.set(r.layer, (counts.get(r.layer) ?? 0) + 1);
  graph.outputs.forEach((v, i) => {
    const r = model.outputs[i]!;
    const want = counts.get(r.layer) === 1 ? r.layer : `${r.layer}:${r.tensor}`;
    if (v.name === want || graph.inputs.includes(v) || v.isConstant) return;
    if (graph.values.has(want) && graph.values.get(want) !== v) return;
    renameValue(graph, v, want);
  });
}
