/**
 * If folding: an `If` whose condition is a constant (a training flag frozen to false, a TF1
 * `tf.cond` on a PlaceholderWithDefault) is replaced by the nodes of the branch it always takes,
 * moved into the enclosing graph; the If's outputs become Identities of the branch's results
 * (the identity pass removes them). Branches whose names would clash with the enclosing graph's
 * are left alone.
 */
import { Graph, Node, Value, subgraphsOf } from '../graph.js';
import { constantNodeTensor } from '../infer.js';
import type { Tensor } from '../tensor.js';

/** The constant a condition holds: an initializer here or in an enclosing graph, or a Constant node. */
function constantOf(graph: Graph, v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  if (v.initializer) return graph.inputs.includes(v) ? undefined : v.initializer;
  if (v.producer?.op === 'Constant' && v.producer.domain === '') return constantNodeTensor(v.producer);
  const outer = v.producer ? undefined : graph.parent?.resolve(v.name);
  return outer && outer !== v ? constantOf(outer.graph ?? graph, outer) : undefined;
}

function foldOne(graph: Graph, node: Node): boolean {
  const c = constantOf(graph, node.inputs[0]);
  if (!c || c.size !== 1) return false;
  const taken = Number(c.toFloat64()[0]) !== 0 ? node.attrGraph('then_branch') : node.attrGraph('else_branch');
  if (!taken || taken.outputs.length !== node.outputs.length || taken.inputs.length) return false;
  // The branch's own values must not clash with names the enclosing graph already uses.
  for (const name of taken.values.keys()) {
    const here = graph.values.get(name);
    if (here && !taken.outputs.some((o) => o === here)) return false;
  }
  const results = taken.outputs.slice();
  const outs = node.outputs.slice();
  graph.removeNode(node);
  for (const n of taken.nodes.slice()) {
    graph.insertNode(n);
    for (const o of n.outputs) o.graph = graph;
  }
  for (const [name, v] of taken.initializers) {
    v.graph = graph;
    graph.values.set(name, v);
    graph.initializers.set(name, v);
  }
  for (const [name, v] of taken.values) {
    if (!graph.values.has(name)) {
      v.graph = graph;
      graph.values.set(name, v);
    }
  }
  outs.forEach((o, i) => {
    graph.values.set(o.name, o);
    o.graph = graph;
    graph.addNode('Identity', [results[i]!], [o], {}, graph.uniqueNodeName(`${node.name}/taken`));
  });
  return true;
}

/** Folds every If with a constant condition, in this graph and its subgraphs. */
export function foldConstantIfs(graph: Graph): Graph {
  let changed = true;
  while (changed) {
    changed = false;
    for (const node of graph.nodes.slice()) {
      for (const s of subgraphsOf(node)) foldConstantIfs(s);
      if (node.op === 'If' && node.domain === '' && foldOne(graph, node)) changed = true;
    }
  }
  return graph;
}
