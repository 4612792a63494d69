/**
 * Where a Keras file keeps each layer's weights, and which config layer they belong to.
 *
 * - Legacy HDF5 (Keras 2 `save` / `save_weights`, and Keras 3 writing `.h5`): a group per layer
 *   (under `model_weights` in a full model file, at the root in a weights file), listed in order by
 *   the `layer_names` attribute; each group's `weight_names` attribute lists its datasets in the
 *   layer's weight order, by path relative to the group (`dense/kernel:0` in Keras 2, `kernel` in
 *   Keras 3). A nested model's group lists the weights of all its layers.
 * - Keras 3 state files (`model.weights.h5` in a `.keras` zip, `.weights.h5`): `layers/<key>/vars/<i>`
 *   where `<key>` is the snake-case class name made unique within its container (`dense`, `dense_1`,
 *   ...), sub-objects below (`cell/vars`, `forward_layer/cell/vars`), nested models under
 *   `layers/<key>/layers/...`.
 */
import type { Tensor } from '../../ir/tensor.js';
import type { Hdf5Group } from '../../io/hdf5.js';
import { WEIGHTLESS_CLASSES, type KerasLayer, type KerasModel } from './config.js';

export interface LayerWeights {
  tensors: Tensor[];
  /** Names as stored (`dense/kernel:0`, `kernel`, `dense/vars/0`). */
  names: string[];
}

/** One group of a legacy file: a top-level layer (or nested model) and its weights in order. */
export interface LegacyGroup {
  name: string;
  weights: LayerWeights;
}

/** The layout of a file's weights. */
export type WeightLayout = 'legacy' | 'keras3';

/** Reads the legacy per-layer groups in `layer_names` order. */
export function readLegacyGroups(root: Hdf5Group): LegacyGroup[] {
  const names = root.attrStrings('layer_names') ?? root.keys();
  return names.map((name) => {
    const g = root.group(name);
    if (!g) throw root.file.fail(`layer_names lists ${name}, but the file has no such group`, `${root.path}/${name}`);
    return { name, weights: legacyGroupWeights(g) };
  });
}

function legacyGroupWeights(g: Hdf5Group): LayerWeights {
  const listed = g.attrStrings('weight_names');
  if (listed === undefined) {
    // No list (hand-made files): every dataset below the group, in key order.
    const all = g.datasets();
    return { names: all.map((d) => d.rel), tensors: all.map((d) => d.dataset.tensor(d.rel)) };
  }
  const tensors = listed.map((wn) => {
    const ds = g.dataset(wn);
    if (!ds) throw g.file.fail(`layer ${g.name} lists weight ${wn}, but the file has no such dataset`, `${g.path}/${wn}`);
    return ds.tensor(wn);
  });
  return { names: listed, tensors };
}

/** Keras's snake case of a class name (`Conv2D` -> `conv2d`, `BatchNormalization` -> `batch_normalization`). */
export function snakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export interface Assignment {
  /** The weights of every layer that has some (leaf layers; nested models are walked into). */
  byLayer: Map<KerasLayer, LayerWeights>;
  /** How legacy groups were matched to config layers. */
  matched: 'by name' | 'by order' | 'by path';
  /** Weights the assignment could not place (with why), e.g. a nested group's weight no inner layer claims. */
  problems: string[];
}

/** Whether a config layer can own weights (for matching by order, as Keras's load_weights does). */
function mayHaveWeights(l: KerasLayer): boolean {
  return !WEIGHTLESS_CLASSES.has(l.className);
}

/**
 * Matches legacy groups to the model's top-level layers: by name when every group with weights
 * names a layer of the config, otherwise by order among the layers that can hold weights (what
 * Keras's `load_weights` does for a file saved from another instance of the same model).
 */
export function assignLegacy(model: KerasModel, groups: LegacyGroup[]): Assignment {
  const byLayer = new Map<KerasLayer, LayerWeights>();
  const problems: string[] = [];
  const withWeights = groups.filter((g) => g.weights.tensors.length > 0);
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  let matched: Assignment['matched'] = 'by name';
  let pairs: [KerasLayer, LegacyGroup][];
  if (withWeights.every((g) => byName.has(g.name))) {
    pairs = withWeights.map((g) => [byName.get(g.name)!, g]);
  } else {
    matched = 'by order';
    const candidates = model.layers.filter(mayHaveWeights);
    if (candidates.length !== withWeights.length) {
      problems.push(`the weights file has ${withWeights.length} layers with weights (${withWeights.map((g) => g.name).join(', ')}) and the config ${candidates.length} layers that can hold weights, with other names: they do not match`);
      return { byLayer, matched, problems };
    }
    pairs = candidates.map((l, i) => [l, withWeights[i]!]);
  }
  for (const [layer, group] of pairs) {
    if (layer.model) splitNested(layer.model, group, byLayer, problems);
    else byLayer.set(layer, group.weights);
  }
  return { byLayer, matched, problems };
}

/**
 * A nested model's legacy group lists all its layers' weights (`conv2d_1/kernel:0`, ...): each
 * weight goes to the inner layer named by the first component of its name that is a layer of
 * the nested model (at any depth).
 */
function splitNested(model: KerasModel, group: LegacyGroup, out: Map<KerasLayer, LayerWeights>, problems: string[]): void {
  const leaves = new Map<string, KerasLayer>();
  const walk = (m: KerasModel) => {
    for (const l of m.layers) {
      if (l.model) walk(l.model);
      else if (!leaves.has(l.name)) leaves.set(l.name, l);
    }
  };
  walk(model);
  group.weights.names.forEach((n, i) => {
    const owner = n.split('/').map((p) => leaves.get(p)).find((l) => l !== undefined);
    if (!owner) {
      problems.push(`weight ${n} of nested model ${group.name} names none of its layers`);
      return;
    }
    const w = out.get(owner) ?? { tensors: [], names: [] };
    w.tensors.push(group.weights.tensors[i]!);
    w.names.push(n);
    out.set(owner, w);
  });
}

/** The order sub-objects of a layer are read in a Keras 3 state file: the forward layer first. */
function childRank(name: string): [number, string] {
  const order = ['cell', 'cells', 'forward_layer', 'backward_layer', 'layer'];
  const i = order.indexOf(name);
  if (i >= 0) return [i, ''];
  return [order.length + (name.startsWith('_') ? 1 : 0), name];
}

/** Keras appends `_1`, `_2`, ... to repeated keys: sort `lstm_cell_10` after `lstm_cell_2`. */
function keyOrder(a: string, b: string): number {
  const ma = /^(.*?)(?:_(\d+))?$/.exec(a)!;
  const mb = /^(.*?)(?:_(\d+))?$/.exec(b)!;
  if (ma[1] !== mb[1]) return ma[1]! < mb[1]! ? -1 : 1;
  return Number(ma[2] ?? -1) - Number(mb[2] ?? -1);
}

/** Sub-objects that hold state but no weights of the layer (random seeds). */
const SKIPPED_CHILDREN = new Set(['seed_generator', '_seed_generator', 'optimizer']);

/** A Keras 3 object's variables: its own `vars/<i>`, then its sub-objects' (forward before backward). */
export function keras3ObjectWeights(g: Hdf5Group, prefix: string): LayerWeights {
  const out: LayerWeights = { tensors: [], names: [] };
  const walk = (grp: Hdf5Group, rel: string) => {
    const keys = grp.keys();
    const vars = keys.includes('vars') ? grp.group('vars') : undefined;
    if (vars) {
      const idx = vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
      for (const k of idx) {
        const ds = vars.dataset(k);
        if (!ds) continue;
        const name = `${rel}vars/${k}`;
        out.names.push(name);
        out.tensors.push(ds.tensor(name));
      }
    }
    const children = keys.filter((k) => k !== 'vars' && !SKIPPED_CHILDREN.has(k));
    children.sort((a, b) => {
      const [ra, na] = childRank(a);
      const [rb, nb] = childRank(b);
      return ra !== rb ? ra - rb : keyOrder(na, nb);
    });
    for (const c of children) {
      const sub = grp.group(c);
      if (sub) walk(sub, `${rel}${c}/`);
    }
  };
  walk(g, prefix);
  return out;
}

/**
 * Matches a Keras 3 state file to the config: each layer at `<container>/<snake class>[_n]`
 * (counted per container, in layer order), or under its own name when the class path is absent.
 */
export function assignKeras3(model: KerasModel, root: Hdf5Group): Assignment {
  const byLayer = new Map<KerasLayer, LayerWeights>();
  const problems: string[] = [];
  const containerName = root.has('layers') ? 'layers' : root.has('_layer_checkpoint_dependencies') ? '_layer_checkpoint_dependencies' : 'layers';
  const visit = (m: KerasModel, container: Hdf5Group | undefined, prefix: string) => {
    const used = new Map<string, number>();
    const keys = container ? container.keys() : [];
    for (const l of m.layers) {
      // Input layers hold no variables (and only take `input_layer` keys).
      if (l.className === 'InputLayer') continue;
      const base = snakeCase(l.className);
      const n = used.get(base);
      used.set(base, n === undefined ? 0 : n + 1);
      const key = n === undefined ? base : `${base}_${n + 1}`;
      const g = keys.includes(key) ? container!.group(key) : keys.includes(l.name) ? container!.group(l.name) : undefined;
      if (l.model) {
        const inner = g?.group(containerName) ?? g?.group('layers');
        visit(l.model, inner, `${prefix}${l.name}/`);
        continue;
      }
      if (!g) continue;
      const w = keras3ObjectWeights(g, `${prefix}${l.name}/`);
      if (w.tensors.length) byLayer.set(l, w);
    }
  };
  visit(model, root.group(containerName), '');
  return { byLayer, matched: 'by path', problems };
}

/** The weights a Keras 3 state file holds, by top-level key, for inspecting it without a config. */
export function keras3Groups(root: Hdf5Group): LegacyGroup[] {
  const container = root.group('layers') ?? root.group('_layer_checkpoint_dependencies');
  if (!container) return [];
  return container.keys().map((k) => ({ name: k, weights: keras3ObjectWeights(container.group(k)!, `${k}/`) }));
}

/** Whether a group looks like a Keras 3 state file (a `layers` container, no `layer_names`). */
export function isKeras3State(root: Hdf5Group): boolean {
  return !root.hasAttr('layer_names') && (root.has('layers') || root.has('_layer_checkpoint_dependencies'));
}

