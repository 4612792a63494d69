/**
 * Identity removal: Identity nodes, and Dropout nodes in inference mode (no training_mode
 * input or a constant false one, mask output unused), are bypassed. Graph output names stay:
 * when the removed node produced a graph output, the value it read takes that name, and when
 * that is impossible (the input is a graph input, a weight or another output) the node stays.
 */
import { Graph, Node, subgraphsOf } from '../graph.js';
import { removeNodeAndBypass } from '../edit.js';

function isInferenceDropout(graph: Graph, n: Node): boolean {
  if (n.op !== 'Dropout' || n.domain !== '') return false;
  const mask = n.outputs[1];
  if (mask && mask.name && (mask.consumers.size > 0 || graph.outputs.includes(mask))) return false;
  const tm = n.inputs[2];
  if (tm && tm.name) {
    const t = tm.initializer;
    if (!t || graph.inputs.includes(tm)) return false;
    if (t.toFloat64()[0] !== 0) return false;
  }
  // Opset < 7 is_test=0 meant training; the reader upgrades, but be safe.
  const isTest = n.attrs['is_test'];
  if (isTest && isTest.kind === 'int' && isTest.value === 0) return false;
  return true;
}

export function removeIdentities(graph: Graph): Graph {
  for (const n of [...graph.nodes]) {
    for (const sg of subgraphsOf(n)) removeIdentities(sg);
    const identity = n.op === 'Identity' && n.domain === '';
    if (!identity && !isInferenceDropout(graph, n)) continue;
    const data = n.inputs[0];
    if (!data || !data.name) continue;
    if (n.op === 'Dropout') {
      // Drop the optional inputs (ratio, training_mode) and the unused mask first.
      for (let i = n.inputs.length - 1; i >= 1; i--) n.setInput(i, null);
      const mask = n.outputs[1];
      if (mask) {
        n.outputs.splice(1);
        mask.producer = undefined;
        if (graph.values.get(mask.name) === mask && mask.consumers.size === 0) graph.values.delete(mask.name);
      }
    }
    removeNodeAndBypass(graph, n);
  }
  return graph;
}
