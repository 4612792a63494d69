/**
 * Reads an `--arch` document (JSON) into a checked description: inputs, the module tree, the
 * forward steps and the outputs. Everything wrong is reported with the JSON path of the culprit.
 * See README.md in this folder for the format.
 */
import { ALL_DTYPES, type DType, type Dim } from '../../../ir/tensor.js';
import { CONTAINER_TYPES, MODULE_DEFS, bindModuleArgs, describeModule, type Args, type ModuleDef } from './modules.js';
import { SyntaxProblem, parseCall, type ParsedCall } from './syntax.js';

export class ArchProblem extends Error {
  constructor(message: string, readonly where: string, readonly hint?: string) {
    super(message);
    this.name = 'ArchProblem';
  }
}

export interface ArchInput {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface ArchModule {
  /** Dotted path from the root ('' for the root). */
  path: string;
  /** The module type (`Linear`, `Sequential`), or the class name of a plain container. */
  type: string;
  /** Set for leaf modules. */
  def?: ModuleDef;
  args: Args;
  /** Children in order. */
  children: Map<string, ArchModule>;
  /** Sequential: callable, runs its children in order. Other containers are not callable. */
  sequential: boolean;
  /** `Linear(in_features=784, out_features=10)`, for messages. */
  display: string;
}

export interface ArchStep {
  /** Index in `forward` (0-based) and its text, for messages. */
  index: number;
  text: string;
  call: ParsedCall;
}

export interface ArchSpec {
  inputs: ArchInput[];
  root: ArchModule;
  forward: ArchStep[];
  /** Value names to return; undefined: the last step's value. */
  outputs?: string[];
  /** Prefix of every state_dict key (e.g. `module.` for DataParallel checkpoints). */
  prefix: string;
}

const TOP_KEYS = new Set(['format', 'version', 'description', 'comment', 'inputs', 'modules', 'forward', 'outputs', 'prefix']);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function childPath(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

/** A leaf module from its call text: `Conv2d(1, 10, kernel_size=3)`. */
function leafFromText(text: string, path: string, where: string): ArchModule {
  let call: ParsedCall;
  try {
    call = parseCall(text);
  } catch (e) {
    if (e instanceof SyntaxProblem) throw new ArchProblem(`cannot read module '${text}': ${e.message} at column ${e.pos + 1}`, where);
    throw e;
  }
  if (call.target) throw new ArchProblem(`a module spec cannot assign ('${text}')`, where);
  return leafFromCall(call.callee, call.args, call.kwargs, path, where);
}

function leafFromCall(type: string, args: ParsedCall['args'], kwargs: ParsedCall['kwargs'], path: string, where: string): ArchModule {
  const def = MODULE_DEFS.get(type);
  if (!def) {
    if (CONTAINER_TYPES.has(type)) {
      throw new ArchProblem(`${type} needs its children`, where, `write a Sequential as a JSON list of modules, or {"type": "${type}", "modules": [...]}`);
    }
    throw new ArchProblem(`unknown module type '${type}'`, where, `known types: ${[...MODULE_DEFS.keys()].join(', ')}, Sequential`);
  }
  let bound: Args;
  try {
    bound = bindModuleArgs(def, args, kwargs);
  } catch (e) {
    throw new ArchProblem((e as Error).message, where);
  }
  return { path, type, def, args: bound, children: new Map(), sequential: false, display: describeModule(def, bound) };
}

function container(type: string, path: string, sequential: boolean): ArchModule {
  return { path, type, args: {}, children: new Map(), sequential, display: type };
}

function checkChildName(name: string, where: string): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new ArchProblem(`module name '${name}' must be letters, digits and underscores`, where);
}

/** A module from its JSON form (string, list, object with or without `type`). */
function moduleFromJson(v: unknown, path: string, where: string): ArchModule {
  if (typeof v === 'string') return leafFromText(v, path, where);
  if (Array.isArray(v)) {
    const m = container('Sequential', path, true);
    v.forEach((c, i) => m.children.set(String(i), moduleFromJson(c, childPath(path, String(i)), `${where}[${i}]`)));
    return m;
  }
  if (!isRecord(v)) throw new ArchProblem('a module is a string like "Linear(784, 10)", a list (a Sequential) or an object', where);
  const type = v['type'];
  if (type === undefined) {
    // A plain container: named children, not callable itself.
    const m = container('Module', path, false);
    for (const [k, c] of Object.entries(v)) {
      checkChildName(k, `${where}.${k}`);
      m.children.set(k, moduleFromJson(c, childPath(path, k), `${where}.${k}`));
    }
    return m;
  }
  if (typeof type !== 'string') throw new ArchProblem('"type" must be a string', `${where}.type`);
  if (CONTAINER_TYPES.has(type)) {
    for (const k of Object.keys(v)) if (k !== 'type' && k !== 'modules') throw new ArchProblem(`unexpected key "${k}" in a ${type}`, `${where}.${k}`, 'a container has "type" and "modules"');
    const kids = v['modules'];
    const m = container(type, path, type === 'Sequential');
    if (Array.isArray(kids)) {
      kids.forEach((c, i) => m.children.set(String(i), moduleFromJson(c, childPath(path, String(i)), `${where}.modules[${i}]`)));
    } else if (isRecord(kids)) {
      for (const [k, c] of Object.entries(kids)) {
        checkChildName(k, `${where}.modules.${k}`);
        m.children.set(k, moduleFromJson(c, childPath(path, k), `${where}.modules.${k}`));
      }
    } else throw new ArchProblem(`a ${type} needs "modules": a list or an object of modules`, `${where}.modules`);
    return m;
  }
  const args = v['args'];
  if (args !== undefined && !Array.isArray(args)) throw new ArchProblem('"args" must be a list of positional arguments', `${where}.args`);
  const kwargs = new Map<string, ParsedCall['args'][number]>();
  for (const [k, a] of Object.entries(v)) if (k !== 'type' && k !== 'args') kwargs.set(k, jsonArg(a, `${where}.${k}`));
  return leafFromCall(type, (args ?? []).map((a, i) => jsonArg(a, `${where}.args[${i}]`)), kwargs, path, where);
}

function jsonArg(v: unknown, where: string): ParsedCall['args'][number] {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x, i) => jsonArg(x, `${where}[${i}]`));
  throw new ArchProblem('an argument is a number, string, boolean, null or a list of these', where);
}

/**
 * The module tree from `print(model)` text: `Name(` opens a module with children, `(child): Type(args)`
 * is a leaf, `(child): Type(` opens a child with children, `)` closes, `(0-2): 3 x Linear(...)` repeats.
 */
export function modulesFromRepr(text: string, where: string): ArchModule {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const stack: ArchModule[] = [];
  let root: ArchModule | undefined;
  const open = (type: string, path: string): ArchModule => {
    const def = MODULE_DEFS.get(type);
    if (def) throw new ArchProblem(`${type} has no children in PyTorch; its arguments belong on one line`, where);
    return container(type, path, type === 'Sequential');
  };
  lines.forEach((line, i) => {
    const at = `${where}, line ${i + 1} ('${line}')`;
    if (line === ')') {
      if (!stack.length) throw new ArchProblem('a ")" closes nothing', at);
      stack.pop();
      return;
    }
    const child = /^\(([A-Za-z0-9_-]+)\):\s*(.*)$/.exec(line);
    if (!child) {
      if (root) throw new ArchProblem('expected "(name): Module(...)" or ")"', at);
      const opening = /^([A-Za-z_][A-Za-z0-9_]*)\($/.exec(line);
      root = opening ? open(opening[1]!, '') : leafFromText(line, '', at);
      if (opening) stack.push(root);
      return;
    }
    const parent = stack[stack.length - 1];
    if (!parent) throw new ArchProblem('a child line outside any module', at);
    const [, name, rest] = child;
    const range = /^(\d+)-(\d+)$/.exec(name!);
    const rep = /^(\d+)\s*x\s*(.*)$/.exec(rest!);
    const names = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, k) => String(Number(range[1]) + k)) : [name!];
    const body = range && rep ? rep[2]! : rest!;
    if (range && (!rep || Number(rep[1]) !== names.length)) throw new ArchProblem(`the repeat count does not match the range ${name}`, at);
    if (/^[A-Za-z_][A-Za-z0-9_]*\($/.test(body)) {
      if (names.length > 1) throw new ArchProblem('repeated modules with children are not supported', at);
      const m = open(body.slice(0, -1), childPath(parent.path, names[0]!));
      parent.children.set(names[0]!, m);
      stack.push(m);
      return;
    }
    for (const n of names) parent.children.set(n, leafFromText(body, childPath(parent.path, n), at));
  });
  if (!root) throw new ArchProblem('the module text is empty', where);
  if (stack.length) throw new ArchProblem(`${stack.length} module(s) are not closed with ")"`, where);
  return root;
}

function parseInputs(v: unknown): ArchInput[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new ArchProblem('"inputs" must be a non-empty list', 'inputs', 'e.g. "inputs": [{"name": "x", "shape": ["batch", 1, 28, 28]}]');
  }
  const seen = new Set<string>();
  return v.map((inp, i) => {
    const where = `inputs[${i}]`;
    if (!isRecord(inp)) throw new ArchProblem('an input is an object with "name", "shape" and optional "dtype"', where);
    for (const k of Object.keys(inp)) if (!['name', 'shape', 'dtype'].includes(k)) throw new ArchProblem(`unexpected key "${k}"`, `${where}.${k}`, 'an input has "name", "shape" and "dtype"');
    const name = inp['name'];
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new ArchProblem('"name" must be an identifier', `${where}.name`);
    if (seen.has(name)) throw new ArchProblem(`input '${name}' is declared twice`, `${where}.name`);
    seen.add(name);
    const shape = inp['shape'];
    if (!Array.isArray(shape) || !shape.every((d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0) || (typeof d === 'string' && NAME_RE.test(d)))) {
      throw new ArchProblem('"shape" must be a list of sizes (ints) and symbolic names ("batch")', `${where}.shape`);
    }
    const dtype = inp['dtype'] ?? 'float32';
    if (typeof dtype !== 'string' || !ALL_DTYPES.includes(dtype as DType)) {
      throw new ArchProblem(`unknown dtype ${JSON.stringify(dtype)}`, `${where}.dtype`, `one of ${ALL_DTYPES.join(', ')}`);
    }
    return { name, dtype: dtype as DType, shape: shape as Dim[] };
  });
}

/** Checks and reads a parsed JSON `--arch` document. Throws ArchProblem. */
export function readArchSpec(doc: unknown): ArchSpec {
  if (!isRecord(doc)) throw new ArchProblem('the arch file must hold a JSON object', '(top)');
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.has(k)) throw new ArchProblem(`unexpected key "${k}"`, k, `the keys are ${[...TOP_KEYS].join(', ')}`);
  }
  if (doc['format'] !== undefined && doc['format'] !== 'mconv-torch-arch') {
    throw new ArchProblem(`"format" is ${JSON.stringify(doc['format'])}, expected "mconv-torch-arch"`, 'format');
  }
  if (doc['version'] !== undefined && doc['version'] !== 1) throw new ArchProblem(`version ${JSON.stringify(doc['version'])} is not supported (only 1)`, 'version');
  const inputs = parseInputs(doc['inputs']);
  const mods = doc['modules'];
  let root: ArchModule;
  if (typeof mods === 'string') root = modulesFromRepr(mods, 'modules');
  else if (Array.isArray(mods) && mods.length > 0 && mods.every((l) => typeof l === 'string') && mods.some((l) => /\($/.test((l as string).trim()))) {
    root = modulesFromRepr((mods as string[]).join('\n'), 'modules');
  } else if (mods === undefined) throw new ArchProblem('"modules" is missing', 'modules', 'declare the modules by name, e.g. "modules": {"fc1": "Linear(784, 64)"}');
  else root = moduleFromJson(mods, '', 'modules');

  const fwd = doc['forward'];
  if (!Array.isArray(fwd) || fwd.length === 0 || !fwd.every((s) => typeof s === 'string')) {
    throw new ArchProblem('"forward" must be a non-empty list of steps (strings)', 'forward', 'e.g. "forward": ["h = fc1(x)", "sigmoid", "fc2"]');
  }
  const forward = (fwd as string[]).map((text, index) => {
    try {
      return { index, text, call: parseCall(text) };
    } catch (e) {
      if (e instanceof SyntaxProblem) throw new ArchProblem(`cannot read step '${text}': ${e.message} at column ${e.pos + 1}`, `forward[${index}]`);
      throw e;
    }
  });
  let outputs: string[] | undefined;
  if (doc['outputs'] !== undefined) {
    const o = doc['outputs'];
    if (!Array.isArray(o) || o.length === 0 || !o.every((n) => typeof n === 'string' && NAME_RE.test(n))) {
      throw new ArchProblem('"outputs" must be a non-empty list of value names', 'outputs');
    }
    outputs = o as string[];
  }
  const prefix = doc['prefix'] ?? '';
  if (typeof prefix !== 'string') throw new ArchProblem('"prefix" must be a string', 'prefix');
  return { inputs, root, forward, outputs, prefix };
}

/** Every module of the tree, depth first, root included. */
export function allModules(root: ArchModule): ArchModule[] {
  const out: ArchModule[] = [root];
  for (const c of root.children.values()) out.push(...allModules(c));
  return out;
}

/** The module at a dotted path, or undefined. */
export function moduleAt(root: ArchModule, path: string): ArchModule | undefined {
  if (path === '' || path === 'self') return root;
  let m: ArchModule | undefined = root;
  for (const part of path.split('.')) {
    m = m?.children.get(part);
    if (!m) return undefined;
  }
  return m;
}
