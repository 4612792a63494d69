/**
 * From an unpickled torch file to named tensors (a state_dict).
 *
 * Where the tensors are taken from (the rule, in order):
 *  1. TorchScript archive: the module objects of data.pkl, walked depth-first in attribute order;
 *     a tensor attribute `w` of submodule `a.b` is `a.b.w`. Buffers are the names the module's class
 *     lists in `__buffers__` (from `code/`), parameters those in `__parameters__`.
 *  2. The root is a dict whose values include tensors and hold no nested containers of tensors:
 *     it is the state_dict (layout 'state_dict'); non-tensor values (e.g. `_extra_state` ints) are skipped.
 *  3. The root is a dict that holds, under one of the keys in CHECKPOINT_KEYS (first match in that
 *     order, checked recursively up to 4 levels: {'model': {'state_dict': ...}}), such a state_dict:
 *     that one (layout 'checkpoint'; `rootPath` says where, e.g. 'model.state_dict'). The checkpoint's
 *     other keys (optimizer, epoch...) are listed in `ignored`.
 *  4. Otherwise every tensor anywhere under the root, named by its dotted path of dict keys and list
 *     indices, in file order (layout 'nested'); a single tensor saved alone is named `tensor`.
 * Names are kept exactly (`module.` prefixes of DataParallel included; `__proto__` is just a name).
 * Buffers of non-TorchScript files are recognised by name: a last segment of `running_mean`,
 * `running_var` or `num_batches_tracked`.
 */
import { MconvError } from '../../errors.js';
import { Tensor } from '../../ir/tensor.js';
import { PyObject, isTuple } from '../../io/pickle/values.js';
import type { ModelSourceFiles } from '../types.js';
import { readTorchArchive, type TorchArchive } from './container.js';

export const CHECKPOINT_KEYS = [
  'state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'model_state', 'weights', 'params', 'params_ema', 'ema',
] as const;

export const BUFFER_NAMES = new Set(['running_mean', 'running_var', 'num_batches_tracked']);

/** Deepest nesting walked when collecting tensors. */
const MAX_WALK_DEPTH = 1000;

export type StateDictLayout = 'state_dict' | 'checkpoint' | 'nested' | 'torchscript';

export interface StateDict {
  /** Tensors by their dotted names, in file order. */
  tensors: Map<string, Tensor>;
  /** Names (keys of `tensors`) that are buffers, not trainable parameters. */
  buffers: Set<string>;
  /** How the tensors were found (see the rule above). */
  layout: StateDictLayout;
  /** Dotted key path of the state_dict inside a checkpoint ('' when the root is it). */
  rootPath: string;
  /** Checkpoint entries not read (top-level keys besides the state_dict; skipped non-tensor values). */
  ignored: string[];
  /** TorchScript: class name of each module path ('' = root), e.g. `__torch__.torch.nn.modules.linear.Linear`. */
  moduleClasses: Map<string, string>;
  archive: TorchArchive;
}

function tooDeep(file: string | undefined): MconvError {
  return new MconvError({ kind: 'unsupported', file, format: 'torch', message: `the object in the file is nested more than ${MAX_WALK_DEPTH} levels deep`, hint: 'mconv refuses such deep nesting; a model file does not need it' });
}

function isContainer(v: unknown): boolean {
  return v instanceof Map || Array.isArray(v) || v instanceof PyObject;
}

/** True when a container holds a tensor at any depth (cycle-safe, iterative). */
function holdsTensor(root: unknown, file?: string): boolean {
  const seen = new Set<unknown>();
  const stack: { v: unknown; d: number }[] = [{ v: root, d: 0 }];
  while (stack.length) {
    const { v, d } = stack.pop()!;
    if (v instanceof Tensor) return true;
    if (!isContainer(v) || seen.has(v)) continue;
    if (d > MAX_WALK_DEPTH) throw tooDeep(file);
    seen.add(v);
    const children = v instanceof Map ? v.values() : v instanceof PyObject ? [v.state, ...v.args] : (v as unknown[]);
    for (const c of children) stack.push({ v: c, d: d + 1 });
  }
  return false;
}

/** A dict that is a state_dict: holds tensors, and no container of tensors. */
function isFlatTensorDict(v: unknown, file?: string): v is Map<unknown, unknown> {
  if (!(v instanceof Map)) return false;
  let any = false;
  for (const x of v.values()) {
    if (x instanceof Tensor) any = true;
    else if (isContainer(x) && holdsTensor(x, file)) return false;
  }
  return any;
}

function keyText(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  if (k === null) return 'None';
  if (isTuple(k)) return `(${k.map(keyText).join(', ')})`;
  return String(k);
}

function isBufferName(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return BUFFER_NAMES.has(last);
}

function addTensor(out: Map<string, Tensor>, name: string, t: Tensor, file?: string): void {
  if (out.has(name)) {
    throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: `two tensors in the file are both named ${JSON.stringify(name)}`, hint: 'rename the keys so that each dotted name is unique' });
  }
  out.set(name, t);
}

/** Every tensor under `root`, named by dotted path, in order (iterative, cycle-safe). */
function collectNested(root: unknown, file?: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  if (root instanceof Tensor) {
    out.set('tensor', root);
    return out;
  }
  const seen = new Set<unknown>();
  // depth-first in file order: push children reversed
  const stack: { v: unknown; path: string; d: number }[] = [{ v: root, path: '', d: 0 }];
  while (stack.length) {
    const { v, path, d } = stack.pop()!;
    if (v instanceof Tensor) {
      addTensor(out, path, v, file);
      continue;
    }
    if (!isContainer(v) || seen.has(v)) continue;
    if (d > MAX_WALK_DEPTH) throw tooDeep(file);
    seen.add(v);
    const kids: { v: unknown; path: string; d: number }[] = [];
    const join = (k: string) => (path ? `${path}.${k}` : k);
    if (v instanceof Map) for (const [k, x] of v) kids.push({ v: x, path: join(keyText(k)), d: d + 1 });
    else if (Array.isArray(v)) v.forEach((x, i) => kids.push({ v: x, path: join(String(i)), d: d + 1 }));
    else if (v instanceof PyObject && v.state instanceof Map) for (const [k, x] of v.state) kids.push({ v: x, path: join(keyText(k)), d: d + 1 });
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out;
}

/** Finds a state_dict under a checkpoint's well-known keys (recursively). */
function findCheckpointStateDict(root: Map<unknown, unknown>, file?: string): { dict: Map<unknown, unknown>; path: string[] } | undefined {
  let node: Map<unknown, unknown> = root;
  const path: string[] = [];
  for (let level = 0; level < 4; level++) {
    let next: Map<unknown, unknown> | undefined;
    for (const k of CHECKPOINT_KEYS) {
      const v = node.get(k);
      if (isFlatTensorDict(v, file)) return { dict: v, path: [...path, k] };
      if (!next && v instanceof Map && holdsTensor(v, file)) {
        next = v;
        path.push(k);
      }
    }
    if (!next) return undefined;
    node = next;
  }
  return undefined;
}

/** TorchScript: `__parameters__` / `__buffers__` of each class, from the archive's code/ files. */
function scriptClassMembers(archive: TorchArchive, className: string, cache: Map<string, { params: Set<string>; buffers: Set<string> } | undefined>) {
  if (cache.has(className)) return cache.get(className);
  const dot = className.lastIndexOf('.');
  const mod = className.slice(0, dot);
  const cls = className.slice(dot + 1);
  const bytes = archive.entry(`code/${mod.split('.').join('/')}.py`);
  let result: { params: Set<string>; buffers: Set<string> } | undefined;
  if (bytes) {
    const text = new TextDecoder().decode(bytes);
    const start = text.search(new RegExp(`^class ${cls.replace(/[^\w]/g, '\\$&')}\\b`, 'm'));
    if (start >= 0) {
      const rest = text.slice(start);
      const nextClass = rest.slice(1).search(/^class /m);
      const body = nextClass >= 0 ? rest.slice(0, nextClass + 1) : rest;
      const list = (field: string): Set<string> => {
        const m = new RegExp(`^\\s+${field}\\s*=\\s*\\[([^\\]]*)\\]`, 'm').exec(body);
        return new Set(m ? [...m[1]!.matchAll(/"([^"]*)"|'([^']*)'/g)].map((x) => x[1] ?? x[2]!) : []);
      };
      result = { params: list('__parameters__'), buffers: list('__buffers__') };
    }
  }
  cache.set(className, result);
  return result;
}

function scriptWeights(archive: TorchArchive, file?: string): Pick<StateDict, 'tensors' | 'buffers' | 'moduleClasses'> {
  const tensors = new Map<string, Tensor>();
  const buffers = new Set<string>();
  const moduleClasses = new Map<string, string>();
  const cache = new Map<string, { params: Set<string>; buffers: Set<string> } | undefined>();
  const seen = new Set<unknown>();
  const stack: { obj: PyObject; path: string; d: number }[] = [];
  if (archive.root instanceof PyObject) stack.push({ obj: archive.root, path: '', d: 0 });
  while (stack.length) {
    const { obj, path, d } = stack.pop()!;
    if (seen.has(obj)) continue;
    if (d > MAX_WALK_DEPTH) throw tooDeep(file);
    seen.add(obj);
    moduleClasses.set(path, obj.className);
    const members = scriptClassMembers(archive, obj.className, cache);
    const kids: { obj: PyObject; path: string; d: number }[] = [];
    if (obj.state instanceof Map) {
      for (const [k, v] of obj.state) {
        const name = path ? `${path}.${keyText(k)}` : keyText(k);
        if (v instanceof Tensor) {
          addTensor(tensors, name, v, file);
          if (members ? members.buffers.has(keyText(k)) : isBufferName(name)) buffers.add(name);
        } else if (v instanceof PyObject) {
          kids.push({ obj: v, path: name, d: d + 1 });
        }
      }
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return { tensors, buffers, moduleClasses };
}

/** The state_dict of an archive already read (see the rule at the top of this file). */
export function stateDictFromArchive(archive: TorchArchive, file?: string): StateDict {
  const base = { archive, ignored: [] as string[], moduleClasses: new Map<string, string>() };
  if (archive.isTorchScript && archive.root instanceof PyObject) {
    return { ...base, ...scriptWeights(archive, file), layout: 'torchscript', rootPath: '' };
  }
  const root = archive.root;
  let tensors: Map<string, Tensor>;
  let layout: StateDictLayout;
  let rootPath = '';
  const ignored: string[] = [];
  const fromFlat = (d: Map<unknown, unknown>): Map<string, Tensor> => {
    const out = new Map<string, Tensor>();
    for (const [k, v] of d) {
      if (v instanceof Tensor) addTensor(out, keyText(k), v, file);
      else ignored.push(keyText(k));
    }
    return out;
  };
  if (isFlatTensorDict(root, file)) {
    tensors = fromFlat(root);
    layout = 'state_dict';
  } else {
    const found = root instanceof Map ? findCheckpointStateDict(root, file) : undefined;
    if (found) {
      tensors = fromFlat(found.dict);
      layout = 'checkpoint';
      rootPath = found.path.join('.');
      const others = [...(root as Map<unknown, unknown>).keys()].map(keyText).filter((k) => k !== found.path[0]);
      ignored.unshift(...others);
    } else {
      tensors = collectNested(root, file);
      layout = 'nested';
    }
  }
  if (tensors.size === 0) {
    throw new MconvError({
      kind: 'unsupported', file, format: 'torch',
      message: 'the file holds no tensors',
      hint: 'mconv reads state_dicts, checkpoints holding one, and TorchScript archives',
    });
  }
  const buffers = new Set<string>();
  for (const name of tensors.keys()) if (isBufferName(name)) buffers.add(name);
  return { ...base, tensors, buffers, layout, rootPath, ignored };
}

/** Reads a torch file and returns its tensors by dotted name. */
export function readStateDict(source: ModelSourceFiles): StateDict {
  return stateDictFromArchive(readTorchArchive(source), source.path);
}
