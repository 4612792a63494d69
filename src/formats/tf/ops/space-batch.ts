/**
 * SpaceToBatchND and BatchToSpaceND (what TF1 builds dilated convolutions from) as ONNX
 * Pad/Reshape/Transpose/Slice sequences. block_shape, paddings and crops must be constants, and
 * the dims after the batch must be known (the batch may be dynamic).
 */
import { attr, type Value } from '../../../ir/graph.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

function ints(ctx: TfOpContext, v: Value, what: string): number[] {
  return Array.from(ctx.requireConstant(v, what).toArray() as ArrayLike<number | bigint>, Number);
}

/** The dims of x after the batch, all known. */
function knownTail(ctx: TfOpContext, x: Value): number[] {
  const s = x.shape;
  if (!s) throw ctx.unsupported('an input of unknown rank');
  const tail = s.slice(1);
  if (!tail.every((d) => typeof d === 'number')) throw ctx.unsupported(`an input of shape [${s.join(', ')}] (dims after the batch must be known)`);
  return tail as number[];
}

function blockAndPairs(ctx: TfOpContext, blockV: Value, pairsV: Value, what: string): { block: number[]; pairs: number[][] } {
  const block = ints(ctx, blockV, 'block_shape');
  const flat = ints(ctx, pairsV, what);
  if (flat.length !== 2 * block.length) throw ctx.unsupported(`${what} of ${flat.length} values for a block_shape of ${block.length}`);
  if (block.some((b) => b < 1)) throw ctx.unsupported(`block_shape [${block.join(', ')}]`);
  return { block, pairs: block.map((_, i) => [flat[2 * i]!, flat[2 * i + 1]!]) };
}

/**
 * SpaceToBatchND(x [B, s1..sM, rest], block_shape [M], paddings [M, 2]): pads the spatial dims,
 * splits each into (s/b, b), moves the block factors in front of the batch and merges them into it:
 * [B * prod(b), s1/b1 .. sM/bM, rest].
 */
registerTfOp('SpaceToBatchND', (ctx, [x, blockV, padV]) => {
  const { block, pairs } = blockAndPairs(ctx, blockV!, padV!, 'paddings');
  const m = block.length;
  const tail = knownTail(ctx, x!);
  const rank = tail.length + 1;
  const padded = tail.slice(0, m).map((d, i) => d + pairs[i]![0]! + pairs[i]![1]!);
  padded.forEach((d, i) => {
    if (d % block[i]! !== 0) throw ctx.unsupported(`padded dim ${d} not divisible by block ${block[i]}`);
  });
  const rest = tail.slice(m);
  let y = x!;
  if (pairs.some(([a, b]) => a !== 0 || b !== 0)) {
    const pads = new Array<number>(2 * rank).fill(0);
    pairs.forEach(([a, b], i) => {
      pads[i + 1] = a!;
      pads[rank + i + 1] = b!;
    });
    y = ctx.emit('Pad', [y, ctx.ints64('pads', pads)], { mode: attr.string('constant') }, 1, 'pad')[0]!;
  }
  // [B, s1/b1, b1, ..., sM/bM, bM, rest]
  const split = [0, ...padded.flatMap((d, i) => [d / block[i]!, block[i]!]), ...rest];
  y = ctx.emit('Reshape', [y, ctx.ints64('split_shape', split)], {}, 1, 'split')[0]!;
  // [b1..bM, B, s1/b1..sM/bM, rest]
  const perm = [...block.map((_, i) => 2 + 2 * i), 0, ...block.map((_, i) => 1 + 2 * i), ...rest.map((_, i) => 1 + 2 * m + i)];
  y = ctx.emit('Transpose', [y], { perm: attr.ints(perm) }, 1, 'transpose')[0]!;
  const out = [-1, ...padded.map((d, i) => d / block[i]!), ...rest];
  return ctx.emit('Reshape', [y, ctx.ints64('shape', out)]);
});

/**
 * BatchToSpaceND(x [B * prod(b), s1..sM, rest], block_shape [M], crops [M, 2]): the inverse:
 * the block factors come out of the batch and interleave with the spatial dims, then the crops.
 */
registerTfOp('BatchToSpaceND', (ctx, [x, blockV, cropV]) => {
  const { block, pairs } = blockAndPairs(ctx, blockV!, cropV!, 'crops');
  const m = block.length;
  const tail = knownTail(ctx, x!);
  const spatial = tail.slice(0, m);
  const rest = tail.slice(m);
  // [b1..bM, B, s1..sM, rest]
  let y = ctx.emit('Reshape', [x!, ctx.ints64('split_shape', [...block, -1, ...spatial, ...rest])], {}, 1, 'split')[0]!;
  // [B, s1, b1, ..., sM, bM, rest]
  const perm = [m, ...block.flatMap((_, i) => [m + 1 + i, i]), ...rest.map((_, i) => 2 * m + 1 + i)];
  y = ctx.emit('Transpose', [y], { perm: attr.ints(perm) }, 1, 'transpose')[0]!;
  const full = spatial.map((d, i) => d * block[i]!);
  y = ctx.emit('Reshape', [y, ctx.ints64('merged_shape', [0, ...full, ...rest])], {}, 1, 'merge')[0]!;
  if (!pairs.some(([a, b]) => a !== 0 || b !== 0)) return [ctx.emit('Identity', [y])[0]!];
  const starts = pairs.map(([a]) => a!);
  const ends = pairs.map(([, b], i) => full[i]! - b!);
  const axes = pairs.map((_, i) => i + 1);
  return ctx.emit('Slice', [y, ctx.ints64('starts', starts), ctx.ints64('ends', ends), ctx.ints64('axes', axes)]);
});

export const SPACE_BATCH_OPS = ['SpaceToBatchND', 'BatchToSpaceND'];
