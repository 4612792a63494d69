/**
 * NonMaxSuppression, computed in JS: greedy selection per batch and class by descending score.
 */
import type { KernelContext, KernelDef, RT } from '../types.js';
import { fromValues, invalidInput, need, readScalar } from './util.js';

/** Boxes as [y1, x1, y2, x2] with y1 <= y2, x1 <= x2. */
function corners(b: ArrayLike<number>, i: number, centerPoint: boolean): [number, number, number, number] {
  const a0 = b[i * 4]!, a1 = b[i * 4 + 1]!, a2 = b[i * 4 + 2]!, a3 = b[i * 4 + 3]!;
  if (centerPoint) {
    // [x_center, y_center, width, height]
    return [a1 - a3 / 2, a0 - a2 / 2, a1 + a3 / 2, a0 + a2 / 2];
  }
  return [Math.min(a0, a2), Math.min(a1, a3), Math.max(a0, a2), Math.max(a1, a3)];
}

function iou(a: [number, number, number, number], b: [number, number, number, number]): number {
  const ih = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const iw = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (ih <= 0 || iw <= 0) return 0;
  const inter = ih * iw;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

const nonMaxSuppression: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const boxes = need(node, inputs, 0, 'boxes');
    const scores = need(node, inputs, 1, 'scores');
    const maxOut = readScalar(inputs[2]) ?? 0;
    const iouThr = readScalar(inputs[3]) ?? 0;
    const scoreThr = readScalar(inputs[4]);
    const centerPoint = node.attrInt('center_point_box', 0) === 1;
    if (boxes.t.rank !== 3 || boxes.t.shape[2] !== 4) throw invalidInput(node, `boxes must be [batch, boxes, 4], got [${boxes.t.shape}]`);
    const [nb, nbox] = boxes.t.shape as [number, number, number];
    const [sb, nc, sn] = scores.t.shape as [number, number, number];
    if (sb !== nb || sn !== nbox) throw invalidInput(node, `scores [${scores.t.shape}] do not match boxes [${boxes.t.shape}]`);
    const bv = boxes.t.dataSync() as ArrayLike<number>;
    const sv = scores.t.dataSync() as ArrayLike<number>;
    const selected: number[] = [];
    if (maxOut > 0) {
      for (let b = 0; b < nb; b++) {
        const boxList = Array.from({ length: nbox }, (_, i) => corners(bv, b * nbox + i, centerPoint));
        for (let c = 0; c < nc; c++) {
          const base = (b * nc + c) * nbox;
          const cand: number[] = [];
          for (let i = 0; i < nbox; i++) if (scoreThr === undefined || sv[base + i]! > scoreThr) cand.push(i);
          cand.sort((p, q) => sv[base + q]! - sv[base + p]! || p - q);
          const kept: number[] = [];
          for (const i of cand) {
            if (kept.length >= maxOut) break;
            if (kept.every((k) => iou(boxList[k]!, boxList[i]!) <= iouThr)) kept.push(i);
          }
          for (const k of kept) selected.push(b, c, k);
        }
      }
    }
    return [fromValues(tf, selected, [selected.length / 3, 3], 'int64')];
  },
};

export const nmsKernels = { NonMaxSuppression: nonMaxSuppression };
