/**
 * The values the TorchScript interpreter computes with. Python scalars, strings, lists and
 * tuples are concrete (JS values); tensors are graph values (`TensorVal`); ints that depend on a
 * symbolic shape are `SymIntVal`s, materialised as Shape/Gather nodes only when an op reads them.
 */
import type { Value } from '../../../ir/graph.js';
import type { PyObject } from '../../../io/pickle/values.js';
import type { ClassDef, FunctionDef } from './ast.js';

export class TensorVal {
  constructor(readonly value: Value) {}
}

/** An int known only at run time: `x.size(dim)` of a symbolic dim, or arithmetic on such ints. */
export class SymIntVal {
  private made?: Value;
  constructor(private readonly make: () => Value, readonly label: string) {}
  /** The int64 scalar graph value (built on first use). */
  value(): Value {
    if (!this.made) this.made = this.make();
    return this.made;
  }
}

/** A module instance from data.pkl, with its path from the root and its class code. */
export class ModuleVal {
  constructor(readonly obj: PyObject, readonly path: string, readonly cls: ClassDef) {}
}

export class FuncVal {
  constructor(readonly def: FunctionDef, readonly qualname: string) {}
}

export class MethodVal {
  constructor(readonly self: ModuleVal, readonly def: FunctionDef) {}
}

/** A class from the code files used as a value (a type argument). */
export class ClassVal {
  constructor(readonly cls: ClassDef, readonly qualname: string) {}
}

/** A dotted name outside the code files: `torch`, `torch.linear`, `ops.prim.RaiseException`, `__torch__.torch.nn`. */
export class NamespaceVal {
  constructor(readonly name: string) {}
}

/** The tuple of `constants.pkl` (`CONSTANTS.c0`). */
export class ConstantsVal {}

export type PyVal =
  | null
  | boolean
  | number
  | string
  | PyVal[]
  | Map<PyVal, PyVal>
  | TensorVal
  | SymIntVal
  | ModuleVal
  | FuncVal
  | MethodVal
  | ClassVal
  | NamespaceVal
  | ConstantsVal;

export function describeVal(v: PyVal): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(describeVal).join(', ')}]`;
  if (v instanceof Map) return 'a dict';
  if (v instanceof TensorVal) return `tensor ${v.value.name}`;
  if (v instanceof SymIntVal) return `int ${v.label}`;
  if (v instanceof ModuleVal) return `module ${v.path || '(root)'}`;
  if (v instanceof FuncVal) return `function ${v.qualname}`;
  if (v instanceof MethodVal) return `method ${v.def.name}`;
  if (v instanceof ClassVal) return `class ${v.qualname}`;
  if (v instanceof NamespaceVal) return v.name;
  return 'CONSTANTS';
}

/** Python truthiness of a concrete value; undefined for tensors and run-time ints. */
export function truthy(v: PyVal): boolean | undefined {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof TensorVal || v instanceof SymIntVal) return undefined;
  return true;
}

/** Python equality of concrete values (deep for lists and tuples); undefined when not concrete. */
export function pyEquals(a: PyVal, b: PyVal): boolean | undefined {
  if (a instanceof TensorVal || b instanceof TensorVal || a instanceof SymIntVal || b instanceof SymIntVal) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const e = pyEquals(a[i]!, b[i]!);
      if (e !== true) return e;
    }
    return true;
  }
  if (typeof a === 'boolean' && typeof b === 'number') return (a ? 1 : 0) === b;
  if (typeof b === 'boolean' && typeof a === 'number') return (b ? 1 : 0) === a;
  return a === b;
}
