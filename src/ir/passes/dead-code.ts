/**
 * Dead-code removal: nodes none of whose outputs reach a graph output (directly or through
 * subgraphs that read them) are removed, then initializers nobody reads, then values nobody
 * references. Graph inputs stay (they are the model's interface), except initializers that
 * were only listed as inputs to give them a default and are now unused.
 */
import { Graph, Node, Value, subgraphsOf } from '../graph.js';
import { implicitInputs } from '../walk.js';

export function deadCodeElimination(graph: Graph): Graph {
  // Subgraphs first: their outputs are their roots.
  for (const n of graph.nodes) for (const sg of subgraphsOf(n)) deadCodeElimination(sg);
  const live = new Set<Value>(graph.outputs);
  const liveNodes = new Set<Node>();
  const stack = [...graph.outputs];
  while (stack.length) {
    const v = stack.pop()!;
    const p = v.producer;
    if (!p || p.graph !== graph || liveNodes.has(p)) continue;
    liveNodes.add(p);
    for (const i of [...p.inputs, ...implicitInputs(p, graph)]) {
      if (i && !live.has(i)) {
        live.add(i);
        stack.push(i);
      }
    }
  }
  for (const n of [...graph.nodes]) if (!liveNodes.has(n)) graph.removeNode(n);
  const read = new Set<Value>(graph.outputs);
  for (const n of graph.nodes) {
    for (const v of n.inputs) if (v) read.add(v);
    for (const v of implicitInputs(n, graph)) read.add(v);
  }
  for (const [name, v] of [...graph.initializers]) {
    if (read.has(v)) continue;
    // An initializer read by a subgraph through a same-named placeholder is still in use.
    graph.initializers.delete(name);
    v.initializer = undefined;
    const asInput = graph.inputs.indexOf(v);
    if (asInput >= 0) graph.inputs.splice(asInput, 1);
    if (graph.values.get(name) === v) graph.values.delete(name);
  }
  const keep = new Set<Value>([...graph.inputs, ...graph.outputs, ...graph.initializers.values()]);
  for (const n of graph.nodes) {
    for (const v of n.inputs) if (v) keep.add(v);
    for (const v of n.outputs) keep.add(v);
  }
  for (const [name, v] of [...graph.values]) if (!keep.has(v)) graph.values.delete(name);
  return graph;
}
