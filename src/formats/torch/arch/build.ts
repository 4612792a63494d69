/**
 * Builds a runnable IR graph from an `--arch` description and a state_dict's tensors: checks every
 * module's weights (missing, unexpected, wrong shape or dtype) before anything is built, then runs
 * the forward steps symbolically, lowering each module call and functional step to IR nodes.
 * Weights become initializers under their state_dict names; nodes are named by module path.
 */
import * as path from 'node:path';
import { MconvError } from '../../../errors.js';
import { Graph, type Value } from '../../../ir/graph.js';
import { formatShape, isFloatDType, type Tensor } from '../../../ir/tensor.js';
import { renameValue } from '../../../ir/edit.js';
import { TorchOpError, TorchOps } from '../torchscript/torch-ops.js';
import { FUNCTIONS, bindFunction } from './functional.js';
import { ArchProblem, allModules, moduleAt, readArchSpec, type ArchModule, type ArchSpec, type ArchStep } from './spec.js';

export interface ArchBuildOptions {
  /** The arch file's path, for messages. */
  archFile?: string;
  /** The weights file's path, for messages. */
  weightsFile?: string;
}

const MAX_LISTED = 8;

function archError(o: ArchBuildOptions, message: string, where?: string, hint?: string, kind: MconvError['kind'] = 'usage'): MconvError {
  return new MconvError({ kind, file: o.archFile, format: 'torch --arch', message, where, hint });
}

/** Parses (if needed) and checks an arch document. */
export function loadArchSpec(arch: string | unknown, o: ArchBuildOptions = {}): ArchSpec {
  let doc = arch;
  if (typeof arch === 'string') {
    try {
      doc = JSON.parse(arch);
    } catch (e) {
      throw archError(o, `the arch file is not valid JSON: ${(e as Error).message}`, undefined, 'see the --arch format in the README');
    }
  }
  try {
    return readArchSpec(doc);
  } catch (e) {
    if (e instanceof ArchProblem) throw archError(o, e.message, e.where, e.hint);
    throw e;
  }
}

interface BoundParam {
  key: string;
  tensor: Tensor;
}

/** Checks the state_dict against the modules; returns each module's tensors by parameter name. */
function bindWeights(spec: ArchSpec, tensors: Map<string, Tensor>, o: ArchBuildOptions): Map<ArchModule, Map<string, BoundParam>> {
  const bound = new Map<ArchModule, Map<string, BoundParam>>();
  const claimed = new Set<string>();
  const missing: string[] = [];
  const wrong: string[] = [];
  const dtype = spec.inputs.find((i) => isFloatDType(i.dtype))?.dtype;
  for (const m of allModules(spec.root)) {
    if (!m.def) continue;
    const mine = new Map<string, BoundParam>();
    bound.set(m, mine);
    for (const p of m.def.params(m.args)) {
      const key = `${spec.prefix}${m.path ? `${m.path}.` : ''}${p.name}`;
      const t = tensors.get(key);
      if (!t) {
        if (!p.optional) missing.push(`${key} (${m.path}: ${m.display}, shape ${formatShape(p.shape)})`);
        continue;
      }
      claimed.add(key);
      const same = t.shape.length === p.shape.length && t.shape.every((d, i) => d === p.shape[i]);
      if (!same) {
        wrong.push(`${key}: ${m.path} (${m.display}) expects shape ${formatShape(p.shape)}, the weights have ${formatShape(t.shape)}`);
        continue;
      }
      if (!p.unused && !p.dtype && dtype && t.dtype !== dtype && isFloatDType(t.dtype)) {
        wrong.push(`${key}: ${m.path} (${m.display}) has ${t.dtype} weights but the input is ${dtype} (declare the input dtype ${t.dtype}, or convert the weights)`);
        continue;
      }
      mine.set(p.name, { key, tensor: t });
    }
  }
  const unexpected = [...tensors.keys()].filter((k) => !claimed.has(k));
  const list = (xs: string[]) => xs.slice(0, MAX_LISTED).join('; ') + (xs.length > MAX_LISTED ? `; and ${xs.length - MAX_LISTED} more` : '');
  const parts: string[] = [];
  const hints: string[] = [];
  const from = o.weightsFile ? path.basename(o.weightsFile) : 'the weights';
  if (wrong.length) {
    parts.push(`${wrong.length} weight${wrong.length > 1 ? 's do' : ' does'} not fit the arch file: ${list(wrong)}`);
    hints.push('check the module arguments against print(model)');
  }
  if (missing.length) {
    parts.push(`${missing.length} weight${missing.length > 1 ? 's are' : ' is'} missing from ${from}: ${list(missing)}`);
    const keys = [...tensors.keys()];
    const prefixHint = keys.length && keys.every((k) => k.startsWith('module.')) && !spec.prefix ? ' (every key starts with "module.": set "prefix": "module.")' : '';
    hints.push(`the state_dict has: ${keys.slice(0, MAX_LISTED).join(', ')}${keys.length > MAX_LISTED ? ', ...' : ''}${prefixHint}`);
  }
  if (unexpected.length) {
    parts.push(`${unexpected.length} weight${unexpected.length > 1 ? 's' : ''} in ${from} belong${unexpected.length > 1 ? '' : 's'} to no module of the arch file: ${list(unexpected)}`);
    hints.push('declare the modules that own them (a module path is the key up to its last dot)');
  }
  if (parts.length) {
    const where = wrong[0]?.split(':')[0] ?? missing[0]?.split(' ')[0] ?? unexpected[0];
    throw archError(o, parts.join('. '), where, hints.join('; '));
  }
  return bound;
}

class ArchBuilder {
  readonly graph = new Graph('main');
  readonly ops = new TorchOps(this.graph);
  private readonly env = new Map<string, Value>();
  private prev: Value | undefined;
  private step: ArchStep | undefined;

  constructor(private readonly spec: ArchSpec, private readonly weights: Map<ArchModule, Map<string, BoundParam>>, private readonly o: ArchBuildOptions) {}

  private where(): string {
    return this.step ? `forward[${this.step.index}] '${this.step.text}'` : 'forward';
  }

  private fail(message: string, hint?: string): MconvError {
    return archError(this.o, message, this.where(), hint);
  }

  private opError(e: unknown, what: string): unknown {
    if (e instanceof TorchOpError) {
      return archError(this.o, `${what}: ${e.message}`, this.where(), e.hint, e.kind === 'unsupported' ? 'unsupported' : 'usage');
    }
    return e;
  }

  private resolve = (name: string): Value => {
    const v = this.env.get(name);
    if (!v) throw this.fail(`unknown value '${name}'`, `values defined so far: ${[...this.env.keys()].join(', ')}`);
    return v;
  };

  build(): Graph {
    for (const i of this.spec.inputs) {
      const v = this.graph.addInput(i.name, i.dtype, i.shape);
      this.env.set(i.name, v);
    }
    if (this.spec.inputs.length === 1) this.prev = this.env.get(this.spec.inputs[0]!.name);
    for (const step of this.spec.forward) {
      this.step = step;
      const out = this.runStep(step);
      if (step.call.target) this.env.set(step.call.target, out);
      this.prev = out;
    }
    this.step = undefined;
    this.finishOutputs();
    return this.graph;
  }

  private runStep(step: ArchStep): Value {
    const { callee, args, kwargs, hasParens } = step.call;
    const mod = moduleAt(this.spec.root, callee);
    if (mod && (callee !== 'self' || !this.env.has('self'))) {
      if (kwargs.size) throw this.fail(`module calls take value names only, not keyword arguments`);
      let inputs: Value[];
      if (!hasParens || args.length === 0) {
        if (!this.prev) throw this.fail(`${callee} needs its input: write ${callee}(x); there is no previous step`);
        inputs = [this.prev];
      } else {
        inputs = args.map((a) => {
          if (a === null || typeof a !== 'object' || Array.isArray(a)) throw this.fail(`module calls take value names, found ${JSON.stringify(a)}`);
          return this.resolve(a.ref);
        });
      }
      if (inputs.length !== 1) throw this.fail(`${callee} takes one input, ${inputs.length} given`);
      return this.callModule(mod, inputs[0]!);
    }
    const fn = FUNCTIONS.get(callee);
    if (!fn) {
      const paths = allModules(this.spec.root).filter((m) => m.path && (m.def || m.sequential)).map((m) => m.path);
      throw this.fail(`'${callee}' is neither a module of the arch file nor a known function`,
        `modules: ${paths.slice(0, 12).join(', ')}${paths.length > 12 ? ', ...' : ''}; functions: ${[...FUNCTIONS.keys()].join(', ')}`);
    }
    let bound;
    try {
      bound = bindFunction(fn, args, kwargs, this.resolve, this.prev ? () => this.prev! : undefined);
    } catch (e) {
      if (e instanceof MconvError) throw e;
      throw this.fail((e as Error).message);
    }
    try {
      return fn.lower(this.ops, bound, step.call.target ?? callee);
    } catch (e) {
      throw this.opError(e, callee);
    }
  }

  private callModule(m: ArchModule, x: Value): Value {
    if (m.sequential) {
      let y = x;
      for (const c of m.children.values()) y = this.callModule(c, y);
      return y;
    }
    if (!m.def) {
      throw this.fail(`${m.path || 'the root'} is a ${m.type} container, which has no forward of its own`, 'call its children by path (e.g. block.conv), or declare it as a Sequential');
    }
    const mine = this.weights.get(m)!;
    const name = m.path || m.type;
    try {
      return m.def.lower({
        ops: this.ops,
        name,
        param: (p) => {
          const b = mine.get(p);
          return b ? this.ops.weight(b.key, b.tensor) : null;
        },
      }, x, m.args);
    } catch (e) {
      throw this.opError(e, `${name} (${m.display})`);
    }
  }

  private finishOutputs(): void {
    const names = this.spec.outputs ?? [this.spec.forward[this.spec.forward.length - 1]!.call.target ?? 'output'];
    const values = this.spec.outputs ? names.map((n) => this.resolve(n)) : [this.prev!];
    const used = new Set<Value>();
    values.forEach((v, i) => {
      const name = names[i]!;
      const taken = this.graph.values.get(name);
      if (taken && taken !== v) {
        if (taken.initializer || this.graph.inputs.includes(taken)) throw this.fail(`the output name '${name}' is already an input or weight name`);
        renameValue(this.graph, taken, this.graph.uniqueValueName(`${name}_value`));
      }
      // An output that is an input, a weight or already an output needs a value of its own.
      const out = used.has(v) || v.initializer || this.graph.inputs.includes(v) ? this.ops.unary('Identity', v, `${name}/identity`) : v;
      if (out.name !== name) renameValue(this.graph, out, name);
      used.add(out);
      this.graph.outputs.push(out);
    });
  }
}

/**
 * Builds the IR graph an `--arch` document describes, with the weights of a state_dict
 * (`tensors`, keyed by state_dict name). Throws MconvError for every problem.
 */
export function buildFromArch(arch: string | unknown, tensors: Map<string, Tensor>, options: ArchBuildOptions = {}): Graph {
  const spec = loadArchSpec(arch, options);
  const weights = bindWeights(spec, tensors, options);
  return new ArchBuilder(spec, weights, options).build();
}

