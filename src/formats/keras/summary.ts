/**
 * The rows Keras's `model.summary()` prints, as `SourceLayer`s: name, class, output shape (the
 * batch as the symbolic `batch`, which the renderer shows as None), parameters and how many are
 * trainable. Parameters are the element counts of the weights the file holds for the layer;
 * BatchNormalization's moving statistics, Normalization's statistics and every weight of a layer
 * or model saved with `trainable: false` are non-trainable, as Keras counts them.
 */
import type { SourceLayer } from '../../ir/graph.js';
import type { LayerReport } from './assemble.js';
import type { KerasLayer, KerasModel } from './config.js';
import type { LayerWeights } from './weights.js';

/** The weight's short name: `batch_normalization/moving_mean:0` -> `moving_mean`, `bn/vars/2` -> `2`. */
function baseName(n: string): string {
  const s = n.replace(/:\d+$/, '');
  return s.slice(s.lastIndexOf('/') + 1);
}

/** The class whose weights a layer holds (a wrapper's inner layer for TimeDistributed). */
function weightClass(layer: KerasLayer): string {
  if (layer.className === 'TimeDistributed') {
    const inner = layer.entry.config.layer as { class_name?: string } | undefined;
    if (inner?.class_name) return inner.class_name;
  }
  return layer.className;
}

/** Whether weight `i` of a layer is non-trainable state (moving statistics, adapted statistics). */
export function isNonTrainableWeight(layer: KerasLayer, w: LayerWeights, i: number): boolean {
  const base = baseName(w.names[i] ?? '');
  if (/^moving_(mean|variance)$/.test(base)) return true;
  const cls = weightClass(layer);
  if (cls === 'Normalization') return true;
  if (/^\d+$/.test(base) && /BatchNormalization$/.test(cls)) {
    // Keras 3 state files number variables: trainable (gamma, beta) first, the two moving statistics last.
    return i >= w.tensors.length - 2;
  }
  return false;
}

export interface LayerCounts {
  parameters: number;
  trainable: number;
}

export function layerCounts(layer: KerasLayer, w: LayerWeights | undefined): LayerCounts {
  if (!w) return { parameters: 0, trainable: 0 };
  let parameters = 0;
  let trainable = 0;
  w.tensors.forEach((t, i) => {
    parameters += t.size;
    if (layer.trainable && !isNonTrainableWeight(layer, w, i)) trainable += t.size;
  });
  return { parameters, trainable };
}

/**
 * The summary rows of a model: one per layer (a Sequential's input layer is not shown, as in
 * Keras), nested models with their own rows as children.
 */
export function summaryRows(model: KerasModel, weights: Map<KerasLayer, LayerWeights>, reports: Map<KerasLayer, LayerReport>): SourceLayer[] {
  const rows: SourceLayer[] = [];
  for (const layer of model.layers) {
    if (model.sequential && layer.className === 'InputLayer') continue;
    const r = reports.get(layer);
    const row: SourceLayer = { name: layer.name, className: layer.className, outputShapes: r?.outputShapes ?? [], parameters: 0, trainableParameters: 0 };
    if (layer.model) {
      row.children = summaryRows(layer.model, weights, reports);
      for (const c of row.children) {
        row.parameters += c.parameters;
        row.trainableParameters! += c.trainableParameters ?? 0;
      }
      if (!layer.trainable) row.trainableParameters = 0;
    } else {
      const counts = layerCounts(layer, weights.get(layer));
      row.parameters = counts.parameters;
      row.trainableParameters = counts.trainable;
    }
    if (!model.sequential) {
      const inbound = [...new Set(layer.calls.flatMap((c) => c.inputs.map((i) => i.layer)))];
      if (inbound.length) row.inboundLayers = inbound;
    }
    if (r?.problem) row.unsupported = r.problem;
    rows.push(row);
  }
  return rows;
}

/** Rows for a weights file read without its architecture: one per stored layer, nested groups as children. */
export function weightRows(groups: { name: string; weights: LayerWeights }[]): SourceLayer[] {
  return groups.map((g) => {
    const params = g.weights.tensors.reduce((a, t) => a + t.size, 0);
    const row: SourceLayer = { name: g.name, className: '', outputShapes: [], parameters: params };
    // A nested model's group names its inner layers first (`conv2d_1/kernel:0`): show them as children.
    const inner = new Map<string, number>();
    g.weights.names.forEach((n, i) => {
      const parts = n.split('/');
      if (parts.length < 2) return;
      const owner = parts[0] === g.name && parts.length > 2 ? parts[1]! : parts[0]!;
      if (owner === g.name) return;
      inner.set(owner, (inner.get(owner) ?? 0) + g.weights.tensors[i]!.size);
    });
    if (inner.size > 1) row.children = [...inner].map(([name, parameters]) => ({ name, className: '', outputShapes: [], parameters }));
    return row;
  });
}
