/**
 * The module tree of a state_dict, from its dotted names: `features.0.weight` is tensor `weight` of
 * module `0` inside module `features`. Counts of elements per module, own and in total, separate
 * parameters from buffers (running statistics), like `print(model)` plus torchinfo's totals.
 */
import type { DType, Tensor } from '../../ir/tensor.js';

export interface ModuleTensor {
  /** Last segment of the name (`weight`). */
  name: string;
  /** The full dotted name (`features.0.weight`). */
  path: string;
  dtype: DType;
  shape: number[];
  /** Number of elements. */
  count: number;
  buffer: boolean;
}

export interface ModuleNode {
  /** Last segment (`0`, `features`); '' for the root. */
  name: string;
  /** Dotted path ('' for the root). */
  path: string;
  /** TorchScript class name when known. */
  className?: string;
  /** Tensors owned directly, in file order. */
  tensors: ModuleTensor[];
  /** Submodules in order of first appearance. */
  children: ModuleNode[];
  /** Parameter elements owned directly / in the whole subtree. */
  ownParameters: number;
  totalParameters: number;
  /** Buffer elements owned directly / in the whole subtree. */
  ownBuffers: number;
  totalBuffers: number;
}

function newNode(name: string, path: string): ModuleNode {
  return { name, path, tensors: [], children: [], ownParameters: 0, totalParameters: 0, ownBuffers: 0, totalBuffers: 0 };
}

/**
 * Builds the tree. `classes` optionally names each module path's class (TorchScript).
 * Iterative: deep names cannot overflow the stack.
 */
export function moduleTree(tensors: Map<string, Tensor>, buffers: Set<string>, classes?: Map<string, string>): ModuleNode {
  const root = newNode('', '');
  // children by name (a Map: names such as `__proto__` are ordinary keys)
  const index = new Map<ModuleNode, Map<string, ModuleNode>>();
  const childOf = (parent: ModuleNode, name: string): ModuleNode => {
    let kids = index.get(parent);
    if (!kids) {
      kids = new Map();
      index.set(parent, kids);
    }
    let c = kids.get(name);
    if (!c) {
      c = newNode(name, parent.path ? `${parent.path}.${name}` : name);
      kids.set(name, c);
      parent.children.push(c);
    }
    return c;
  };
  for (const [full, t] of tensors) {
    const parts = full.split('.');
    const leaf = parts.pop()!;
    let node = root;
    for (const p of parts) node = childOf(node, p);
    let count = 1;
    for (const d of t.shape) count *= d;
    const buffer = buffers.has(full);
    node.tensors.push({ name: leaf, path: full, dtype: t.dtype, shape: t.shape.slice(), count, buffer });
    if (buffer) node.ownBuffers += count;
    else node.ownParameters += count;
  }
  // totals, children before parents (post-order without recursion)
  const order: ModuleNode[] = [];
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    order.push(n);
    if (classes?.has(n.path)) n.className = classes.get(n.path);
    for (const c of n.children) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    n.totalParameters = n.ownParameters;
    n.totalBuffers = n.ownBuffers;
    for (const c of n.children) {
      n.totalParameters += c.totalParameters;
      n.totalBuffers += c.totalBuffers;
    }
  }
  return root;
}

/** A plain-text rendering, one module per line, indented, with its parameter count. */
export function formatModuleTree(root: ModuleNode): string {
  const lines: string[] = [];
  const stack: { n: ModuleNode; depth: number }[] = [{ n: root, depth: 0 }];
  while (stack.length) {
    const { n, depth } = stack.pop()!;
    const label = n.path === '' ? '(root)' : n.name;
    const cls = n.className ? ` ${n.className.slice(n.className.lastIndexOf('.') + 1)}` : '';
    const bufs = n.totalBuffers ? `, ${n.totalBuffers.toLocaleString('en-US')} in buffers` : '';
    lines.push(`${'  '.repeat(depth)}${label}${cls}: ${n.totalParameters.toLocaleString('en-US')} parameters${bufs}`);
    for (const t of n.tensors) {
      lines.push(`${'  '.repeat(depth + 1)}.${t.name} ${t.dtype}[${t.shape.join(', ')}]${t.buffer ? ' (buffer)' : ''}`);
    }
    for (let i = n.children.length - 1; i >= 0; i--) stack.push({ n: n.children[i]!, depth: depth + 1 });
  }
  return lines.join('\n');
}
