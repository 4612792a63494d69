/**
 * Runs a TorchScript module's `forward` symbolically: Python-level values (ints, lists, flags,
 * strings) are computed for real, so checks like `if torch.ne(torch.dim(input), 4)` resolve at
 * conversion time; tensors are graph values, and every aten call on them adds IR nodes. Module
 * attribute lookups resolve to the module objects of data.pkl (their tensors become initializers
 * named by module path, as in the state_dict), and calls into submodules' methods are inlined.
 *
 * The model is converted in eval mode (every module's `training` reads False), as
 * `torch.onnx.export` does by default.
 */
import type { Graph, Value } from '../../../ir/graph.js';
import { Tensor, type DType, type Dim } from '../../../ir/tensor.js';
import { PyObject, isTuple } from '../../../io/pickle/values.js';
import type { ClassDef, CodeModule, Expr, FunctionDef, Stmt } from './ast.js';
import { ScriptRaise, callAten, callPrim, type AtenContext } from './aten.js';
import { CodeSyntaxError } from './lexer.js';
import { parseCode } from './parser.js';
import { TorchOpError, type TorchOps } from './torch-ops.js';
import {
  ClassVal, ConstantsVal, FuncVal, MethodVal, ModuleVal, NamespaceVal, SymIntVal, TensorVal, describeVal, pyEquals, truthy, type PyVal,
} from './values.js';

/** Where the interpreter stopped, and why. */
export class ScriptError extends Error {
  constructor(
    message: string,
    readonly kind: 'unsupported' | 'unreadable' | 'mismatch',
    readonly file: string,
    readonly line: number,
    /** Module path of the method running (`features.3`), '' for the root. */
    readonly scope: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ScriptError';
  }
}

export interface ScriptSource {
  /** A code file's text by entry name (`code/__torch__/torch/nn/modules/linear.py`), or undefined. */
  code(entry: string): string | undefined;
  /** The tuple of constants.pkl (read on first use). */
  constants(): unknown[];
}

interface Frame {
  locals: Map<string, PyVal>;
  self?: ModuleVal;
  /** Module path used for node names. */
  scope: string;
  fn: FunctionDef;
  ctx: AtenContext;
}

type Completion = { k: 'return'; value: PyVal } | { k: 'break' } | { k: 'continue' } | undefined;

const MAX_DEPTH = 200;
const MAX_LOOP = 100_000;
const BUILTINS = new Set(['getattr', 'hasattr', 'range', 'len', 'int', 'float', 'bool', 'str', 'print', 'min', 'max', 'abs', 'list', 'round', 'sum']);

/** A Python value from data.pkl / constants.pkl as an interpreter value (tensors excluded). */
function fromPickled(v: unknown): PyVal {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(fromPickled);
  if (v instanceof Map) {
    const m = new Map<PyVal, PyVal>();
    for (const [k, x] of v) m.set(fromPickled(k), fromPickled(x));
    return m;
  }
  throw new TorchOpError(`cannot use a pickled ${typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v} value`, 'unsupported');
}

export class Interpreter {
  private readonly codeModules = new Map<string, CodeModule | null>();
  private readonly usedNames = new Set<string>();
  private readonly unrefined = new Set<Value>();
  private readonly unrefinedDtype = new Set<Value>();
  private constantsCache?: unknown[];
  private depth = 0;
  /** The innermost statement being run (file, line, scope), for errors raised outside calls. */
  private current = { file: 'code/__torch__.py', line: 0, scope: '' };

  constructor(private readonly src: ScriptSource, private readonly ops: TorchOps, private readonly graph: Graph) {}

  // --- code files -----------------------------------------------------------------------------

  /** The parsed code file of a Python module name (`__torch__.torch.nn.modules.conv`), if it exists. */
  codeModule(qual: string): CodeModule | undefined {
    if (this.codeModules.has(qual)) return this.codeModules.get(qual) ?? undefined;
    const entry = `code/${qual.split('.').join('/')}.py`;
    const text = this.src.code(entry);
    let mod: CodeModule | null = null;
    if (text !== undefined) {
      try {
        mod = parseCode(text, entry);
      } catch (e) {
        if (e instanceof CodeSyntaxError) throw new ScriptError(`cannot parse the TorchScript code: ${e.message}`, 'unreadable', entry, e.line, '', 'the archive may come from a TorchScript version mconv does not read yet');
        throw e;
      }
    }
    this.codeModules.set(qual, mod);
    return mod ?? undefined;
  }

  private classOf(obj: PyObject): ClassDef {
    const mod = this.codeModule(obj.module);
    const cls = mod?.classes.get(obj.name);
    if (!cls) {
      throw new ScriptError(`the archive has no code for class ${obj.className}`, obj.module.startsWith('__torch__.torch.classes') ? 'unsupported' : 'unreadable',
        this.current.file, this.current.line, this.current.scope,
        obj.module.startsWith('__torch__.torch.classes') ? 'custom C++ classes (quantized or packed parameters) are not supported' : undefined);
    }
    return cls;
  }

  /** The module value for a data.pkl object at `path`. */
  moduleVal(obj: PyObject, path: string): ModuleVal {
    return new ModuleVal(obj, path, this.classOf(obj));
  }

  // --- naming and contexts --------------------------------------------------------------------

  private nodeName(scope: string, op: string): string {
    let base = scope || op;
    if (this.usedNames.has(base)) base = scope ? `${scope}/${op}` : op;
    this.usedNames.add(base);
    return base;
  }

  private contextFor(scope: string): AtenContext {
    return {
      ops: this.ops,
      name: (op) => this.nodeName(scope, op),
      refineInput: (x, shape, dtype) => this.refineInput(x, shape, dtype),
    };
  }

  /** Declares a graph input whose shape and/or dtype the first op reading it will tell. */
  markUnrefined(v: Value, what: { shape: boolean; dtype: boolean }): void {
    if (what.shape) this.unrefined.add(v);
    if (what.dtype) this.unrefinedDtype.add(v);
  }

  private refineInput(x: Value, shape: Dim[] | undefined, dtype?: DType): void {
    if (x.consumers.size > 0) return;
    if (shape && this.unrefined.has(x)) x.shape = shape.slice();
    if (dtype && this.unrefinedDtype.has(x)) x.dtype = dtype;
    this.unrefined.delete(x);
    this.unrefinedDtype.delete(x);
  }

  // --- entry ----------------------------------------------------------------------------------

  /** Runs `method` of `self` with the given arguments (the forward pass), returning its value. */
  run(self: ModuleVal, method: string, args: PyVal[]): PyVal {
    const def = self.cls.methods.get(method);
    if (!def) throw new ScriptError(`class ${self.obj.className} has no method ${method}`, 'unreadable', self.cls.file, self.cls.line, self.path);
    return this.invoke(def, self, args, new Map(), self.path, { file: self.cls.file, line: def.line });
  }

  private invoke(def: FunctionDef, self: ModuleVal | undefined, args: PyVal[], kwargs: Map<string, PyVal>, scope: string, at: { file: string; line: number }): PyVal {
    if (++this.depth > MAX_DEPTH) {
      throw new ScriptError(`calls nest deeper than ${MAX_DEPTH} levels (recursion?)`, 'unsupported', at.file, at.line, scope);
    }
    try {
      const frame: Frame = { locals: new Map(), self, scope, fn: def, ctx: this.contextFor(scope) };
      const params = self ? def.params.slice(1) : def.params;
      if (self && def.params.length) frame.locals.set(def.params[0]!.name, self);
      if (args.length > params.length) throw this.fail(`${def.name}() takes ${params.length} arguments, ${args.length} given`, at, scope, 'mismatch');
      params.forEach((p, i) => {
        if (i < args.length) frame.locals.set(p.name, args[i]!);
      });
      for (const [k, v] of kwargs) {
        if (!params.some((p) => p.name === k)) throw this.fail(`${def.name}() has no argument '${k}'`, at, scope, 'mismatch');
        frame.locals.set(k, v);
      }
      for (const p of params) {
        if (frame.locals.has(p.name)) continue;
        if (!p.default) throw this.fail(`${def.name}() needs argument '${p.name}'`, at, scope, 'mismatch');
        frame.locals.set(p.name, this.eval(p.default, frame));
      }
      const c = this.execBlock(def.body, frame);
      return c?.k === 'return' ? c.value : null;
    } finally {
      this.depth--;
    }
  }

  private fail(message: string, at: { file: string; line: number }, scope: string, kind: ScriptError['kind'] = 'unsupported', hint?: string): ScriptError {
    return new ScriptError(message, kind, at.file, at.line, scope, hint);
  }

  private failAt(frame: Frame, line: number, message: string, kind: ScriptError['kind'] = 'unsupported', hint?: string): ScriptError {
    return new ScriptError(message, kind, frame.fn.file, line, frame.scope, hint);
  }

  // --- statements -----------------------------------------------------------------------------

  private execBlock(stmts: Stmt[], frame: Frame): Completion {
    for (const s of stmts) {
      const c = this.exec(s, frame);
      if (c) return c;
    }
    return undefined;
  }

  private exec(s: Stmt, frame: Frame): Completion {
    this.current = { file: frame.fn.file, line: s.line, scope: frame.scope };
    switch (s.k) {
      case 'assign': {
        const v = this.eval(s.value, frame);
        for (const t of s.targets) this.assign(t, v, frame);
        return undefined;
      }
      case 'annassign':
        if (s.value) this.assign(s.target, this.eval(s.value, frame), frame);
        return undefined;
      case 'augassign': {
        const cur = this.eval(s.target, frame);
        this.assign(s.target, this.binary(s.op, cur, this.eval(s.value, frame), frame, s.line), frame);
        return undefined;
      }
      case 'expr':
        this.eval(s.value, frame);
        return undefined;
      case 'return':
        return { k: 'return', value: s.value ? this.eval(s.value, frame) : null };
      case 'if': {
        const t = this.condition(s.test, frame, s.line);
        return this.execBlock(t ? s.body : s.orelse, frame);
      }
      case 'for': {
        const it = this.eval(s.iter, frame);
        let items: PyVal[];
        if (Array.isArray(it)) items = [...it];
        else if (it instanceof Map) items = [...it.keys()];
        else if (typeof it === 'string') items = [...it];
        else throw this.failAt(frame, s.line, `cannot loop over ${describeVal(it)} at conversion time`, 'unsupported', 'loops over tensors or shape-dependent ranges are not supported');
        if (items.length > MAX_LOOP) throw this.failAt(frame, s.line, `a loop of ${items.length} iterations is too long to unroll`);
        for (const item of items) {
          this.assign(s.target, item, frame);
          const c = this.execBlock(s.body, frame);
          if (c?.k === 'break') break;
          if (c?.k === 'return') return c;
        }
        return undefined;
      }
      case 'while': {
        let n = 0;
        while (this.condition(s.test, frame, s.line)) {
          if (++n > MAX_LOOP) throw this.failAt(frame, s.line, `a while loop ran more than ${MAX_LOOP} times at conversion time`);
          const c = this.execBlock(s.body, frame);
          if (c?.k === 'break') break;
          if (c?.k === 'return') return c;
        }
        return undefined;
      }
      case 'raise': {
        const v = s.value ? this.eval(s.value, frame) : 'an exception';
        throw this.failAt(frame, s.line, `the model's code raises: ${typeof v === 'string' ? v : describeVal(v)}`, 'mismatch');
      }
      case 'assert':
        if (!this.condition(s.test, frame, s.line)) {
          const m = s.msg ? this.eval(s.msg, frame) : 'AssertionError';
          throw this.failAt(frame, s.line, `the model's code asserts: ${typeof m === 'string' ? m : describeVal(m)}`, 'mismatch');
        }
        return undefined;
      case 'pass':
        return undefined;
      case 'break':
        return { k: 'break' };
      case 'continue':
        return { k: 'continue' };
      default:
        throw this.failAt(frame, s.line, `nested ${s.k === 'def' ? 'function' : 'class'} definitions are not supported`);
    }
  }

  /** A condition that must be known at conversion time. */
  private condition(e: Expr, frame: Frame, line: number): boolean {
    const v = this.eval(e, frame);
    const t = truthy(v);
    if (t === undefined) {
      throw this.failAt(frame, line, `control flow depends on ${describeVal(v)}, which is only known at run time`, 'unsupported',
        'data-dependent branches cannot become a static graph; give the input a fixed shape if the branch tests a size');
    }
    return t;
  }

  private assign(target: Expr, v: PyVal, frame: Frame): void {
    switch (target.k) {
      case 'name':
        frame.locals.set(target.id, v);
        return;
      case 'tuple':
      case 'list': {
        if (!Array.isArray(v)) throw this.failAt(frame, target.line, `cannot unpack ${describeVal(v)}`);
        if (v.length !== target.items.length) throw this.failAt(frame, target.line, `cannot unpack ${v.length} values into ${target.items.length} names`, 'mismatch');
        target.items.forEach((t, i) => this.assign(t, v[i]!, frame));
        return;
      }
      case 'subscript': {
        const obj = this.eval(target.value, frame);
        const idx = this.eval(target.index, frame);
        if (Array.isArray(obj) && typeof idx === 'number' && !isTuple(obj)) {
          const i = idx < 0 ? idx + obj.length : idx;
          if (i < 0 || i >= obj.length) throw this.failAt(frame, target.line, 'list assignment index out of range', 'mismatch');
          obj[i] = v;
          return;
        }
        if (obj instanceof Map) {
          obj.set(idx, v);
          return;
        }
        throw this.failAt(frame, target.line, `cannot assign into ${describeVal(obj)}`);
      }
      default:
        throw this.failAt(frame, target.line, 'assigning to attributes or other targets is not supported');
    }
  }

  // --- expressions ----------------------------------------------------------------------------

  private eval(e: Expr, frame: Frame): PyVal {
    switch (e.k) {
      case 'const':
        return e.value;
      case 'name':
        return this.lookup(e.id, frame, e.line);
      case 'attr':
        return this.getAttr(this.eval(e.value, frame), e.attr, frame, e.line);
      case 'call':
        return this.call(e, frame);
      case 'subscript':
        return this.subscript(e, frame);
      case 'tuple':
      case 'list':
        return e.items.map((x) => this.eval(x, frame));
      case 'dict': {
        const m = new Map<PyVal, PyVal>();
        e.keys.forEach((k, i) => m.set(this.eval(k, frame), this.eval(e.values[i]!, frame)));
        return m;
      }
      case 'unary': {
        const v = this.eval(e.operand, frame);
        if (e.op === 'not') {
          const t = truthy(v);
          if (t === undefined) throw this.failAt(frame, e.line, `'not' of ${describeVal(v)} is only known at run time`);
          return !t;
        }
        if (e.op === '+') return v;
        if (e.op === '~') {
          if (typeof v === 'number') return ~v;
          if (typeof v === 'boolean') return ~(v ? 1 : 0);
          throw this.failAt(frame, e.line, `'~' of ${describeVal(v)} is not supported`);
        }
        return this.aten(frame, e.line, 'neg', [v]);
      }
      case 'binary':
        return this.binary(e.op, this.eval(e.left, frame), this.eval(e.right, frame), frame, e.line);
      case 'compare': {
        let left = this.eval(e.first, frame);
        for (let i = 0; i < e.ops.length; i++) {
          const right = this.eval(e.rest[i]!, frame);
          const r = this.compare(e.ops[i]!, left, right, frame, e.line);
          if (r instanceof TensorVal) {
            if (e.ops.length > 1) throw this.failAt(frame, e.line, 'chained comparisons of tensors are not supported');
            return r;
          }
          if (!r) return false;
          left = right;
        }
        return true;
      }
      case 'bool': {
        let v: PyVal = null;
        for (const x of e.values) {
          v = this.eval(x, frame);
          const t = truthy(v);
          if (t === undefined) throw this.failAt(frame, e.line, `'${e.op}' of ${describeVal(v)} is only known at run time`);
          if (e.op === 'and' ? !t : t) return v;
        }
        return v;
      }
      case 'ifexp':
        return this.condition(e.test, frame, e.line) ? this.eval(e.body, frame) : this.eval(e.orelse, frame);
      case 'slice':
        throw this.failAt(frame, e.line, 'a slice outside a subscript');
    }
  }

  private binary(op: string, a: PyVal, b: PyVal, frame: Frame, line: number): PyVal {
    const name = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '//': 'floordiv', '%': 'remainder', '**': 'pow', '@': 'matmul' }[op];
    if (name) return this.aten(frame, line, name, [a, b]);
    if (typeof a === 'number' && typeof b === 'number') {
      switch (op) {
        case '&': return a & b;
        case '|': return a | b;
        case '^': return a ^ b;
        case '<<': return a << b;
        case '>>': return a >> b;
      }
    }
    if (typeof a === 'boolean' && typeof b === 'boolean') {
      if (op === '&') return a && b;
      if (op === '|') return a || b;
      if (op === '^') return a !== b;
    }
    throw this.failAt(frame, line, `operator '${op}' on ${describeVal(a)} and ${describeVal(b)} is not supported`);
  }

  private compare(op: string, a: PyVal, b: PyVal, frame: Frame, line: number): PyVal {
    switch (op) {
      case '==': return this.aten(frame, line, 'eq', [a, b]);
      case '!=': return this.aten(frame, line, 'ne', [a, b]);
      case '<': return this.aten(frame, line, 'lt', [a, b]);
      case '>': return this.aten(frame, line, 'gt', [a, b]);
      case '<=': return this.aten(frame, line, 'le', [a, b]);
      case '>=': return this.aten(frame, line, 'ge', [a, b]);
      case 'is': return a === b;
      case 'is not': return a !== b;
      case 'in':
      case 'not in': {
        let found: boolean | undefined;
        if (Array.isArray(b)) found = b.some((x) => pyEquals(x, a) === true);
        else if (b instanceof Map) found = [...b.keys()].some((x) => pyEquals(x, a) === true);
        else if (typeof b === 'string' && typeof a === 'string') found = b.includes(a);
        if (found === undefined) throw this.failAt(frame, line, `'in' on ${describeVal(b)} is not supported`);
        return op === 'in' ? found : !found;
      }
    }
    throw this.failAt(frame, line, `comparison '${op}' is not supported`);
  }

  private subscript(e: Extract<Expr, { k: 'subscript' }>, frame: Frame): PyVal {
    const obj = this.eval(e.value, frame);
    if (e.index.k === 'slice') {
      if (!Array.isArray(obj) && typeof obj !== 'string') throw this.failAt(frame, e.line, `slicing ${describeVal(obj)} is not supported`);
      const n = obj.length;
      const num = (x: Expr | undefined, d: number) => {
        if (!x) return d;
        const v = this.eval(x, frame);
        if (typeof v !== 'number') throw this.failAt(frame, e.line, `a slice bound must be an int, found ${describeVal(v)}`);
        return v;
      };
      const step = num(e.index.step, 1);
      if (step !== 1) throw this.failAt(frame, e.line, 'slices with a step are not supported');
      const clamp = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
      const lo = clamp(num(e.index.lower, 0));
      const hi = clamp(num(e.index.upper, n));
      return typeof obj === 'string' ? obj.slice(lo, hi) : obj.slice(lo, hi);
    }
    const idx = this.eval(e.index, frame);
    if (Array.isArray(obj) || typeof obj === 'string') {
      if (typeof idx !== 'number') throw this.failAt(frame, e.line, `a list index must be an int, found ${describeVal(idx)}`);
      const i = idx < 0 ? idx + obj.length : idx;
      if (i < 0 || i >= obj.length) throw this.failAt(frame, e.line, `index ${idx} is out of range (length ${obj.length})`, 'mismatch');
      return obj[i]!;
    }
    if (obj instanceof Map) {
      for (const [k, v] of obj) if (pyEquals(k, idx) === true) return v;
      throw this.failAt(frame, e.line, `key ${describeVal(idx)} is not in the dict`, 'mismatch');
    }
    throw this.failAt(frame, e.line, `indexing ${describeVal(obj)} is not supported`, 'unsupported', 'TorchScript spells tensor indexing as torch.select / torch.slice, which are not mapped yet');
  }

  private lookup(id: string, frame: Frame, line: number): PyVal {
    if (frame.locals.has(id)) return frame.locals.get(id)!;
    const mod = this.codeModule(qualOfFile(frame.fn.file));
    const f = mod?.functions.get(id);
    if (f) return new FuncVal(f, `${qualOfFile(frame.fn.file)}.${id}`);
    const c = mod?.classes.get(id);
    if (c) return new ClassVal(c, `${qualOfFile(frame.fn.file)}.${id}`);
    if (id === 'CONSTANTS') return new ConstantsVal();
    if (id === 'torch' || id === 'ops' || id === '__torch__' || id === 'math') return new NamespaceVal(id);
    if (BUILTINS.has(id)) return new NamespaceVal(`builtins.${id}`);
    if (['Tensor', 'int', 'float', 'bool', 'str', 'List', 'Tuple', 'Dict', 'Optional', 'NoneType', 'Any', 'Final', 'number'].includes(id)) return new NamespaceVal(`typing.${id}`);
    throw this.failAt(frame, line, `name '${id}' is not defined`, 'unreadable');
  }

  private getAttr(obj: PyVal, attr: string, frame: Frame, line: number): PyVal {
    if (obj instanceof ModuleVal) return this.moduleAttr(obj, attr, frame, line);
    if (obj instanceof NamespaceVal) {
      if (obj.name.startsWith('__torch__')) {
        const mod = this.codeModule(obj.name);
        const f = mod?.functions.get(attr);
        if (f) return new FuncVal(f, `${obj.name}.${attr}`);
        const c = mod?.classes.get(attr);
        if (c) return new ClassVal(c, `${obj.name}.${attr}`);
      }
      return new NamespaceVal(`${obj.name}.${attr}`);
    }
    if (obj instanceof ConstantsVal) {
      const m = /^c(\d+)$/.exec(attr);
      if (!m) throw this.failAt(frame, line, `CONSTANTS has no attribute ${attr}`, 'unreadable');
      const all = this.constants();
      const i = Number(m[1]);
      if (i >= all.length) throw this.failAt(frame, line, `CONSTANTS.${attr} is missing from constants.pkl (${all.length} constants)`, 'unreadable');
      const v = all[i];
      if (v instanceof Tensor) return new TensorVal(this.ops.weight(`CONSTANTS.${attr}`, v));
      return this.wrap(() => fromPickled(v), frame, line);
    }
    throw this.failAt(frame, line, `attribute ${attr} of ${describeVal(obj)} is not supported`);
  }

  private constants(): unknown[] {
    if (!this.constantsCache) {
      const c = this.src.constants();
      this.constantsCache = Array.isArray(c) ? c : [];
    }
    return this.constantsCache;
  }

  private moduleAttr(m: ModuleVal, attr: string, frame: Frame, line: number): PyVal {
    // Converted in eval mode, whatever mode the module was saved in.
    if (attr === 'training') return false;
    const state = m.obj.state;
    if (state instanceof Map && state.has(attr)) {
      const v = state.get(attr);
      const path = m.path ? `${m.path}.${attr}` : attr;
      if (v instanceof PyObject) return this.moduleVal(v, path);
      if (v instanceof Tensor) return new TensorVal(this.ops.weight(path, v));
      return this.wrap(() => fromPickled(v), frame, line);
    }
    const a = m.cls.attributes.get(attr);
    if (a?.value) return this.eval(a.value, { ...frame, locals: new Map() });
    const meth = m.cls.methods.get(attr);
    if (meth) return new MethodVal(m, meth);
    throw this.failAt(frame, line, `module ${m.path || '(root)'} (${m.obj.className}) has no attribute '${attr}'`, 'unreadable');
  }

  private wrap<T>(f: () => T, frame: Frame, line: number): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof TorchOpError) throw this.failAt(frame, line, e.message, e.kind, e.hint);
      throw e;
    }
  }

  private aten(frame: Frame, line: number, name: string, args: PyVal[], kwargs = new Map<string, PyVal>()): PyVal {
    return this.wrap(() => callAten(frame.ctx, name, args, kwargs), frame, line);
  }

  // --- calls ----------------------------------------------------------------------------------

  private call(e: Extract<Expr, { k: 'call' }>, frame: Frame): PyVal {
    // Special forms whose first argument is a type, not a value.
    if (e.func.k === 'name' && !frame.locals.has(e.func.id)) {
      switch (e.func.id) {
        case 'annotate':
        case 'unchecked_cast':
          if (e.args.length !== 2) throw this.failAt(frame, e.line, `${e.func.id}() takes a type and a value`, 'unreadable');
          return this.eval(e.args[1]!, frame);
        case 'uninitialized':
          return null;
        case 'isinstance':
          return this.isInstance(this.eval(e.args[0]!, frame), e.args[1]!, frame, e.line);
        default:
          break;
      }
    }
    const fn = this.eval(e.func, frame);
    const args = e.args.map((a) => this.eval(a, frame));
    const kwargs = new Map<string, PyVal>(e.kwargs.map((k) => [k.name, this.eval(k.value, frame)]));
    const at = { file: frame.fn.file, line: e.line };
    if (fn instanceof MethodVal) return this.invoke(fn.def, fn.self, args, kwargs, fn.self.path, at);
    if (fn instanceof FuncVal) return this.invoke(fn.def, undefined, args, kwargs, frame.scope, at);
    if (fn instanceof ModuleVal) {
      const fwd = fn.cls.methods.get('forward');
      if (!fwd) throw this.failAt(frame, e.line, `module ${fn.path} has no forward`, 'unreadable');
      return this.invoke(fwd, fn, args, kwargs, fn.path, at);
    }
    if (fn instanceof NamespaceVal) {
      try {
        return this.callNamespace(fn.name, args, kwargs, frame);
      } catch (err) {
        if (err instanceof ScriptRaise) throw this.failAt(frame, e.line, `the model's code raises: ${err.message}`, 'mismatch');
        if (err instanceof TorchOpError) throw this.failAt(frame, e.line, err.message, err.kind, err.hint);
        throw err;
      }
    }
    throw this.failAt(frame, e.line, `${describeVal(fn)} is not callable here`);
  }

  private callNamespace(name: string, args: PyVal[], kwargs: Map<string, PyVal>, frame: Frame): PyVal {
    const [head, ...rest] = name.split('.');
    const tail = rest.join('.');
    if (head === 'torch' && rest.length === 1) return callAten(frame.ctx, tail, args, kwargs);
    if (head === 'ops' && rest[0] === 'aten' && rest.length === 2) return callAten(frame.ctx, rest[1]!, args, kwargs);
    if (head === 'ops' && rest[0] === 'prim' && rest.length === 2) return callPrim(frame.ctx, rest[1]!, args);
    if (head === 'builtins') return this.builtin(tail, args, frame);
    if (head === 'math') return mathCall(tail, args);
    throw new TorchOpError(`${name} has no mapping to ONNX-semantics IR`, 'unsupported');
  }

  private builtin(name: string, args: PyVal[], frame: Frame): PyVal {
    const a0 = args[0] ?? null;
    const num = (v: PyVal) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string' && /^[-+]?(\d+\.?\d*|\.\d+|inf|nan)([eE][-+]?\d+)?$/i.test(v.trim())) return /inf/i.test(v) ? (v.trim().startsWith('-') ? -Infinity : Infinity) : Number(v);
      throw new TorchOpError(`${name}() of ${describeVal(v)} is not supported`, v instanceof SymIntVal || v instanceof TensorVal ? 'unsupported' : 'mismatch');
    };
    switch (name) {
      case 'getattr': {
        if (typeof args[1] !== 'string') throw new TorchOpError('getattr() needs an attribute name');
        return this.getAttr(a0, args[1], frame, this.current.line);
      }
      case 'hasattr':
        if (a0 instanceof ModuleVal && typeof args[1] === 'string') {
          const st = a0.obj.state;
          return (st instanceof Map && st.has(args[1])) || a0.cls.attributes.has(args[1]) || a0.cls.methods.has(args[1]);
        }
        return false;
      case 'range': {
        const nums = args.map(num);
        const [lo, hi, st] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
        if (st === 0) throw new TorchOpError('range() step must not be zero');
        const out: number[] = [];
        for (let i = lo; st > 0 ? i < hi : i > hi; i += st) {
          out.push(i);
          if (out.length > MAX_LOOP) throw new TorchOpError(`range() of more than ${MAX_LOOP} values`, 'unsupported');
        }
        return out;
      }
      case 'len':
        return callAten(frame.ctx, 'len', [a0], new Map());
      case 'int':
        return a0 instanceof SymIntVal ? a0 : Math.trunc(num(a0));
      case 'float':
        return num(a0);
      case 'bool': {
        const t = truthy(a0);
        if (t === undefined) throw new TorchOpError(`bool() of ${describeVal(a0)} is only known at run time`, 'unsupported');
        return t;
      }
      case 'str':
        return typeof a0 === 'string' ? a0 : describeVal(a0);
      case 'print':
        return null;
      case 'min':
      case 'max': {
        const items = (args.length === 1 && Array.isArray(a0) ? a0 : args).map(num);
        return name === 'min' ? Math.min(...items) : Math.max(...items);
      }
      case 'abs':
        return Math.abs(num(a0));
      case 'round':
        return Math.round(num(a0));
      case 'sum':
        return (Array.isArray(a0) ? a0 : []).map(num).reduce((p, x) => p + x, 0);
      case 'list':
        return Array.isArray(a0) ? [...a0] : a0 instanceof Map ? [...a0.keys()] : typeof a0 === 'string' ? [...a0] : [];
      default:
        throw new TorchOpError(`${name}() is not supported`, 'unsupported');
    }
  }

  private isInstance(v: PyVal, type: Expr, frame: Frame, line: number): boolean {
    const text = typeText(type);
    const check = (t: string): boolean => {
      if (t === 'Tensor') return v instanceof TensorVal;
      if (t === 'int') return (typeof v === 'number' && Number.isInteger(v)) || v instanceof SymIntVal;
      if (t === 'float') return typeof v === 'number';
      if (t === 'bool') return typeof v === 'boolean';
      if (t === 'str') return typeof v === 'string';
      if (t === 'NoneType') return v === null;
      if (/^(List|Tuple)\b/.test(t)) return Array.isArray(v);
      if (/^Dict\b/.test(t)) return v instanceof Map;
      if (v instanceof ModuleVal) return v.obj.className === t;
      throw this.failAt(frame, line, `isinstance() with type ${t} is not supported`);
    };
    return (type.k === 'tuple' ? type.items.map(typeText) : [text]).some(check);
  }
}

function qualOfFile(file: string): string {
  return file.replace(/^code\//, '').replace(/\.py$/, '').split('/').join('.');
}

function typeText(e: Expr): string {
  switch (e.k) {
    case 'name': return e.id;
    case 'attr': return `${typeText(e.value)}.${e.attr}`;
    case 'subscript': return `${typeText(e.value)}[...]`;
    case 'const': return String(e.value);
    default: return '?';
  }
}

function mathCall(name: string, args: PyVal[]): PyVal {
  const nums = args.map((a) => {
    if (typeof a !== 'number') throw new TorchOpError(`math.${name} of ${describeVal(a)} is not supported`, 'unsupported');
    return a;
  });
  const f: Record<string, (...x: number[]) => number> = {
    sqrt: Math.sqrt, floor: Math.floor, ceil: Math.ceil, exp: Math.exp, log: Math.log, pow: Math.pow, fabs: Math.abs,
    sin: Math.sin, cos: Math.cos, tanh: Math.tanh, trunc: Math.trunc,
  };
  const fn = f[name];
  if (!fn) throw new TorchOpError(`math.${name} is not supported`, 'unsupported');
  return fn(...nums);
}
