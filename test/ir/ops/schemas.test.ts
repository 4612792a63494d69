/**
 * Our op schemas against the ONNX operator definitions (Debian python3-onnx, opset 17):
 * since-version, input/output names and arity flags, attribute names, kinds, required flags and
 * defaults. The schemas are written by hand; this checks every fact they state.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allSchemas, getSchema } from '../../../src/ir/ops/registry.js';

const PY = '/usr/bin/python3';
const RUNTIME_OPS = `Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization BitShift
BlackmanWindow Cast CastLike Ceil Celu CenterCropPad Clip Compress Concat Constant ConstantOfShape Conv ConvInteger
ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp
Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater
GreaterOrEqual GridSample HammingWindow HannWindow HardSigmoid HardSwish Hardmax Identity If InstanceNormalization IsInf
IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LpNormalization LpPool MatMul
MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean MeanVarianceNormalization Min Mish Mod Mul Neg
NegativeLogLikelihoodLoss NonMaxSuppression NonZero Not OneHot Or PRelu Pad Pow QLinearConv QLinearMatMul QuantizeLinear
RNN Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
ReduceSumSquare Relu Reshape Resize ReverseSequence RoiAlign Round Scan Scatter ScatterElements ScatterND Selu Shape Shrink
Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum
Tan Tanh ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Where Xor`.split(/\s+/);

interface PyParam { name: string; optional: boolean; variadic: boolean }
interface PyAttr { kind: string; required: boolean; default: unknown }
interface PySchema { since: number; inputs: PyParam[]; outputs: PyParam[]; attrs: Record<string, PyAttr> }

function onnxDefs(): Record<string, PySchema> | undefined {
  if (!existsSync(PY)) return undefined;
  try {
    const script = fileURLToPath(new URL('./onnx-defs.py', import.meta.url));
    const out = execFileSync(PY, [script, ...allSchemas().map((s) => s.op)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return JSON.parse(out) as Record<string, PySchema>;
  } catch {
    return undefined;
  }
}

describe('op registry', () => {
  it('has a schema for every op the runtime implements', () => {
    const missing = RUNTIME_OPS.filter((op) => !getSchema(op));
    expect(missing).toEqual([]);
    expect(RUNTIME_OPS.length).toBe(156);
  });
  it('accepts the ai.onnx domain alias and rejects unknown ops', () => {
    expect(getSchema('Conv', 'ai.onnx')).toBe(getSchema('Conv'));
    expect(getSchema('NoSuchOp')).toBeUndefined();
    expect(getSchema('Conv', 'com.example')).toBeUndefined();
  });
});

const defs = onnxDefs();
if (!defs) console.warn('skipping ONNX schema comparison: /usr/bin/python3 with onnx is not available');

describe.skipIf(!defs)('op schemas match the ONNX opset 17 definitions', () => {
  const ours = allSchemas().filter((s) => s.domain === '');
  it('covers at least the 154 ops python-onnx 1.12 knows from our list', () => {
    const known = ours.filter((s) => defs![s.op]);
    expect(known.length).toBeGreaterThanOrEqual(154);
  });
  for (const s of allSchemas().filter((x) => x.domain === '')) {
    it(`${s.op}`, () => {
      const ref = defs![s.op];
      if (!ref) {
        // Ops newer than the installed onnx (Mish, CenterCropPad are opset 18).
        expect(['Mish', 'CenterCropPad']).toContain(s.op);
        return;
      }
      expect(s.since, 'since version').toBe(ref.since);
      const p = (x: { name: string; optional: boolean; variadic: boolean }) => `${x.name}${x.optional ? '?' : ''}${x.variadic ? '...' : ''}`;
      expect(s.inputs.map(p), 'inputs').toEqual(ref.inputs.map(p));
      expect(s.outputs.map(p), 'outputs').toEqual(ref.outputs.map(p));
      const refAttrs = Object.entries(ref.attrs).filter(([, a]) => a.kind !== 'sparse_tensor');
      expect(s.attrs.map((a) => a.name).sort(), 'attribute names').toEqual(refAttrs.map(([n]) => n).sort());
      for (const [name, ra] of refAttrs) {
        const a = s.attrs.find((x) => x.name === name)!;
        expect(a.kind, `${name} kind`).toBe(ra.kind);
        expect(a.required, `${name} required`).toBe(ra.required);
        if (ra.default === null || ra.default === undefined) {
          expect(a.default, `${name} has no default`).toBeUndefined();
        } else if (typeof ra.default === 'number' && a.kind === 'float') {
          // ONNX stores float defaults as float32.
          expect(Math.fround(a.default as number), `${name} default`).toBe(ra.default);
        } else {
          expect(a.default, `${name} default`).toEqual(ra.default);
        }
      }
    });
  }
});
