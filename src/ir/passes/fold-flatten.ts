/**
 * A CNN read from a channels-last format (Keras, TF) flattens channels-last feature maps: after the
 * transpose-cancelling pass the graph keeps one Transpose (NCHW -> NHWC) right before each Flatten
 * that feeds a Dense layer. That
 * Transpose only reorders the rows the following MatMul reads, so it folds into the weight: the
 * Flatten reads the NCHW tensor and the MatMul a copy of the kernel with its rows permuted to match.
 * The result has no Transpose between layers.
 */
import { subgraphsOf, type Graph, type Node, type Value } from '../graph.js';
import { DTYPE_BYTES, Tensor, isStaticShape } from '../tensor.js';

/** For each row of the flattened `dims` (as they are before the transpose), the row it had after it. */
function rowPermutation(dims: number[], perm: number[]): Int32Array {
  // dims: sizes of input axes 1..r-1; perm: the Transpose perm without the batch (values 1..r-1).
  const r = dims.length;
  const outDims = perm.map((p) => dims[p - 1]!);
  const outStrides = new Array<number>(r);
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    outStrides[i] = acc;
    acc *= outDims[i]!;
  }
  // Input axis (p - 1) sits at output position i.
  const strideOfInputAxis = new Array<number>(r);
  perm.forEach((p, i) => (strideOfInputAxis[p - 1] = outStrides[i]!));
  const total = acc;
  const rows = new Int32Array(total);
  const idx = new Array<number>(r).fill(0);
  for (let j = 0; j < total; j++) {
    let y = 0;
    for (let a = 0; a < r; a++) y += idx[a]! * strideOfInputAxis[a]!;
    rows[j] = y;
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
  }
  return rows;
}

function permuteRows(t: Tensor, rows: Int32Array, name: string): Tensor {
  const cols = t.shape[1]!;
  const rowBytes = cols * DTYPE_BYTES[t.dtype];
  const src = t.bytes;
  const out = new Uint8Array(src.byteLength);
  for (let j = 0; j < rows.length; j++) out.set(src.subarray(rows[j]! * rowBytes, (rows[j]! + 1) * rowBytes), j * rowBytes);
  return Tensor.fromBytes(t.dtype, t.shape.slice(), out, name);
}

function constantOf(graph: Graph, v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  return v.initializer ?? graph.resolve(v.name)?.initializer;
}

/**
 * Whether `n` flattens every axis but the first: Flatten(axis 1), or a Reshape to a constant
 * `[batch, rows]` where batch is -1, 0 (copy) or the input's own first size and rows is the
 * product of the other sizes (or -1 with a known batch), as TF graphs and tf.keras write it.
 */
function flattensToRows(graph: Graph, n: Node, src: Value): boolean {
  if (n.domain !== '') return false;
  if (n.op === 'Flatten') return n.attrInt('axis', 1) === 1;
  if (n.op !== 'Reshape' || !src.shape) return false;
  const target = constantOf(graph, n.input(1));
  if (!target || target.rank !== 1 || target.size !== 2) return false;
  const [a, b] = Array.from(target.toArray() as ArrayLike<number | bigint>, Number) as [number, number];
  const rows = (src.shape.slice(1) as number[]).reduce((p, d) => p * d, 1);
  const batch = src.shape[0];
  const batchOk = a === -1 || (a === 0 && n.attrInt('allowzero', 0) === 0) || (typeof batch === 'number' && a === batch);
  return batchOk && (b === rows || (b === -1 && a !== -1));
}

/**
 * Folds Transpose -> Flatten(axis 1) (or the equivalent Reshape) -> MatMul(constant) into
 * Flatten -> MatMul(permuted constant). Returns how many.
 */
export function foldTransposeIntoFlattenMatMul(graph: Graph): number {
  for (const n of graph.nodes) for (const sg of subgraphsOf(n)) foldTransposeIntoFlattenMatMul(sg);
  let folded = 0;
  for (const flatten of graph.nodes.filter((n) => (n.op === 'Flatten' || n.op === 'Reshape') && n.domain === '')) {
    const x = flatten.input(0);
    const transpose = x?.producer;
    if (!x || !transpose || transpose.op !== 'Transpose' || transpose.domain !== '') continue;
    if (x.consumers.size !== 1 || graph.outputs.includes(x)) continue;
    const src = transpose.input(0);
    const perm = transpose.attrInts('perm');
    if (!src || !perm || perm[0] !== 0 || !src.shape || !isStaticShape(src.shape.slice(1)) || src.shape.length !== perm.length) continue;
    if (!flattensToRows(graph, flatten, src)) continue;
    const y = flatten.outputs[0]!;
    if (graph.outputs.includes(y)) continue;
    const readers: Node[] = [...y.consumers];
    const rowsTotal = (src.shape.slice(1) as number[]).reduce((a, d) => a * d, 1);
    const ok = readers.length > 0 && readers.every((m) => {
      if (m.op !== 'MatMul' || m.domain !== '' || m.input(0) !== y || m.input(1) === y) return false;
      const w = constantOf(graph, m.input(1));
      return !!w && w.rank === 2 && w.shape[0] === rowsTotal && w.dtype !== 'string';
    });
    if (!ok) continue;
    const rows = rowPermutation(src.shape.slice(1) as number[], perm.slice(1));
    for (const m of readers) {
      const wv = m.input(1)!;
      const w = constantOf(graph, wv)!;
      const name = graph.uniqueValueName(`${wv.name}_rows_nchw`);
      const nv = graph.addInitializer(name, permuteRows(w, rows, name));
      m.setInput(1, nv);
      if (wv.consumers.size === 0 && graph.initializers.get(wv.name) === wv) graph.removeInitializer(wv);
    }
    flatten.setInput(0, src);
    graph.removeNode(transpose);
    folded++;
  }
  return folded;
}
