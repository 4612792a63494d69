/**
 * Graph validation: structural problems (dangling edges, values defined twice, cycles, graph
 * outputs nobody produces), schema problems (unknown ops, input counts, attribute types) and
 * type problems (recorded dtype/shape contradicting inference). Returns issues, never throws.
 */
import { Graph, Node, Value, subgraphsOf } from './graph.js';
import { inferShapes } from './infer.js';
import { getSchema } from './ops/registry.js';
import { arity } from './ops/schema.js';
import { topologicalOrder } from './walk.js';

export type Severity = 'error' | 'warning';

export type IssueCode =
  | 'dangling-input'
  | 'duplicate-definition'
  | 'producer-link'
  | 'cycle'
  | 'output-not-produced'
  | 'type-mismatch'
  | 'invalid-node'
  | 'attr-type'
  | 'attr-missing'
  | 'attr-unknown'
  | 'input-count'
  | 'output-count'
  | 'unknown-op';

export interface Issue {
  severity: Severity;
  code: IssueCode;
  message: string;
  /** Name of the graph (subgraphs have their own names). */
  graph: string;
  node?: string;
  op?: string;
  value?: string;
}

export interface ValidateOptions {
  /** Check recorded dtypes/shapes against inference (default true). */
  types?: boolean;
}

export function validateGraph(graph: Graph, opts: ValidateOptions = {}): Issue[] {
  const issues: Issue[] = [];
  const acyclic = checkStructure(graph, [], issues);
  if (acyclic && (opts.types ?? true)) {
    const { issues: inf } = inferShapes(graph, { write: false, refine: false });
    for (const i of inf) {
      if (i.kind === 'unknown-op') continue;
      issues.push({
        severity: 'error',
        code: i.kind === 'mismatch' ? 'type-mismatch' : 'invalid-node',
        message: i.message,
        graph: i.graph,
        node: i.node,
        op: i.op,
        value: i.value,
      });
    }
  }
  return issues;
}

/** Errors only. */
export function validationErrors(issues: Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error');
}

interface Scope {
  values: Set<Value>;
  names: Set<string>;
}

/** Structural and schema checks of one graph and its subgraphs; returns false when a cycle was found. */
function checkStructure(graph: Graph, outer: Scope[], issues: Issue[]): boolean {
  const g = graph.name;
  const scope: Scope = { values: new Set(), names: new Set() };
  const definedBy = new Map<string, string[]>();
  const define = (v: Value, what: string) => {
    scope.values.add(v);
    scope.names.add(v.name);
    const list = definedBy.get(v.name) ?? [];
    list.push(what);
    definedBy.set(v.name, list);
  };
  const inputNames = new Set(graph.inputs.map((v) => v.name));
  for (const v of graph.inputs) define(v, 'graph input');
  for (const [name, v] of graph.initializers) {
    if (inputNames.has(name)) {
      scope.values.add(v);
      continue; // an initializer listed as an input (its default value) is legal
    }
    define(v, 'initializer');
  }
  for (const n of graph.nodes) {
    n.outputs.forEach((o) => {
      if (!o.name) return;
      define(o, `node ${n.name}`);
      if (o.producer !== n) {
        issues.push({
          severity: 'error', code: 'producer-link', graph: g, node: n.name, op: n.op, value: o.name,
          message: `value '${o.name}' is an output of ${n.name} but records ${o.producer ? o.producer.name : 'no producer'}`,
        });
      }
    });
  }
  for (const [name, by] of definedBy) {
    if (by.length > 1) {
      issues.push({
        severity: 'error', code: 'duplicate-definition', graph: g, value: name,
        message: `value '${name}' is defined ${by.length} times (${by.join(', ')})`,
      });
    }
    if (outer.some((s) => s.names.has(name))) {
      issues.push({
        severity: 'warning', code: 'duplicate-definition', graph: g, value: name,
        message: `value '${name}' shadows a value of an enclosing graph`,
      });
    }
  }
  const available = (v: Value): boolean => {
    if (scope.values.has(v) || v.initializer) return true;
    return outer.some((s) => s.values.has(v) || s.names.has(v.name));
  };
  const all = [scope, ...outer];
  for (const n of graph.nodes) {
    n.inputs.forEach((v, i) => {
      if (!v || !v.name) return;
      if (!available(v)) {
        issues.push({
          severity: 'error', code: 'dangling-input', graph: g, node: n.name, op: n.op, value: v.name,
          message: `input ${i} of ${n.name} (${n.op}) reads '${v.name}', which no node, graph input, initializer or enclosing graph provides`,
        });
      }
    });
    checkSchema(n, g, issues);
    for (const sg of subgraphsOf(n)) checkStructure(sg, all, issues);
  }
  for (const v of graph.outputs) {
    if (!available(v)) {
      issues.push({
        severity: 'error', code: 'output-not-produced', graph: g, value: v.name,
        message: `graph output '${v.name}' is not produced by any node, input or initializer`,
      });
    }
  }
  try {
    topologicalOrder(graph);
    return true;
  } catch (e) {
    issues.push({ severity: 'error', code: 'cycle', graph: g, message: e instanceof Error ? e.message : String(e) });
    return false;
  }
}

function checkSchema(n: Node, g: string, issues: Issue[]): void {
  const schema = getSchema(n.op, n.domain);
  const base = { graph: g, node: n.name, op: n.op };
  if (!schema) {
    issues.push({ ...base, severity: 'warning', code: 'unknown-op', message: `unknown op ${n.domain ? n.domain + '.' : ''}${n.op} (node ${n.name})` });
    return;
  }
  const ins = arity(schema.inputs);
  const present = n.inputs.length;
  const max = ins.max + (schema.extraInputs ?? 0);
  if (present > max) {
    issues.push({ ...base, severity: 'error', code: 'input-count', message: `${n.name} (${n.op}) has ${present} inputs, at most ${max} allowed` });
  }
  schema.inputs.forEach((p, i) => {
    if (p.variadic) {
      const count = n.inputs.slice(i).filter((v) => v && v.name).length;
      if (count < p.minArity) {
        issues.push({ ...base, severity: 'error', code: 'input-count', message: `${n.name} (${n.op}) needs at least ${p.minArity} '${p.name}' input(s)` });
      }
      return;
    }
    const v = n.inputs[i];
    if (!p.optional && (!v || !v.name)) {
      issues.push({ ...base, severity: 'error', code: 'input-count', message: `${n.name} (${n.op}) is missing its required input ${i} '${p.name}'` });
    }
  });
  const outs = arity(schema.outputs);
  if (n.outputs.length > outs.max) {
    issues.push({ ...base, severity: 'error', code: 'output-count', message: `${n.name} (${n.op}) has ${n.outputs.length} outputs, at most ${outs.max} allowed` });
  }
  if (n.outputs.length < outs.min) {
    issues.push({ ...base, severity: 'error', code: 'output-count', message: `${n.name} (${n.op}) has ${n.outputs.length} outputs, needs ${outs.min}` });
  }
  for (const [name, at] of Object.entries(n.attrs)) {
    const spec = schema.attrs.find((s) => s.name === name);
    if (!spec) {
      if (!schema.legacyAttrs?.includes(name)) {
        issues.push({ ...base, severity: 'warning', code: 'attr-unknown', message: `${n.name} (${n.op}) has attribute '${name}', which the op does not define` });
      }
      continue;
    }
    if (spec.kind === at.kind) continue;
    const numericSwap =
      (spec.kind === 'float' && at.kind === 'int') || (spec.kind === 'floats' && at.kind === 'ints');
    issues.push({
      ...base,
      severity: numericSwap ? 'warning' : 'error',
      code: 'attr-type',
      message: `${n.name} (${n.op}): attribute '${name}' is ${at.kind}, the op defines it as ${spec.kind}`,
    });
  }
  for (const spec of schema.attrs) {
    if (spec.required && n.attrs[spec.name] === undefined) {
      issues.push({ ...base, severity: 'error', code: 'attr-missing', message: `${n.name} (${n.op}) is missing the required attribute '${spec.name}'` });
    }
  }
}
