/**
 * `--arch` files for the shared torch fixtures (fixtures/torch/arch/) and for the extra models of
 * make_models.py: the graph built from the state_dict reproduces torch's output.npy with our
 * runtime (atol 1e-4) and, written as ONNX, with onnxruntime-node (atol 1e-5); the ONNX file passes
 * onnx.checker (full_check).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { load } from '../../../../src/api.js';
import '../../../../src/formats/torch/torchscript/graph-builder.js';
import { readStateDict } from '../../../../src/formats/torch/state-dict.js';
import { openSource } from '../../../../src/io/files.js';
import {
  ARCH_FIXTURES, EXTRA_MODELS, SHARED_MODELS, TORCH_FIXTURES, extraModels, hasSharedFixtures, onnxReport, readCase, sessionReport,
} from './oracle.js';

async function checkModel(weights: string, arch: string, caseDir: string) {
  const model = await load(weights, { arch });
  const c = readCase(caseDir);
  const rt = await sessionReport(model, c, 1e-4);
  expect(rt.ok, JSON.stringify(rt)).toBe(true);
  const ox = await onnxReport(model, c, 1e-5);
  expect(ox.report.ok, JSON.stringify(ox.report)).toBe(true);
  expect(ox.checker).toBe('');
  return model;
}

describe.skipIf(!hasSharedFixtures)('--arch on the shared torch fixtures', () => {
  for (const name of SHARED_MODELS) {
    it(`${name}: runtime and onnxruntime reproduce torch's output`, async () => {
      const dir = join(TORCH_FIXTURES, name);
      const model = await checkModel(join(dir, 'state_dict.pth'), join(ARCH_FIXTURES, `${name}.arch.json`), dir);
      // Weights keep their state_dict names (num_batches_tracked is not read by inference).
      const keys = [...readStateDict(openSource(join(dir, 'state_dict.pth'))).tensors.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
      const inits = [...model.graph.initializers.keys()].filter((k) => !k.includes('/'));
      expect(inits.sort()).toEqual(keys.sort());
      expect(model.metadata['torch.graph_source']).toBe('arch');
    });
  }

  it('names nodes by module path and infers the shape of every value', async () => {
    const dir = join(TORCH_FIXTURES, 'mnist_v2_cnn');
    const model = await load(join(dir, 'state_dict.pth'), { arch: join(ARCH_FIXTURES, 'mnist_v2_cnn.arch.json') });
    const g = model.graph;
    expect(g.nodes.map((n) => `${n.name}:${n.op}`)).toEqual([
      'block_1.0:Conv', 'block_1.1:Relu', 'block_1.2:Conv', 'block_1.3:Relu', 'block_1.4:MaxPool',
      'block_2.0:Conv', 'block_2.1:Relu', 'block_2.2:Conv', 'block_2.3:Relu', 'block_2.4:MaxPool',
      'classifier.0:Flatten', 'classifier.1:Gemm',
    ]);
    expect(g.findNode('block_2.4')!.outputs[0]!.shape).toEqual(['batch', 10, 7, 7]);
    expect(g.outputs.map((o) => [o.name, o.shape])).toEqual([['output', ['batch', 10]]]);
    expect(g.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([['x', 'float32', ['batch', 1, 28, 28]]]);
  });

  it('conv_bn_net: BatchNorm keeps its running statistics and ReLU6 becomes Clip(0, 6)', async () => {
    const dir = join(TORCH_FIXTURES, 'conv_bn_net');
    const model = await load(join(dir, 'state_dict.pth'), { arch: join(ARCH_FIXTURES, 'conv_bn_net.arch.json') });
    const bn = model.graph.findNode('features.1')!;
    expect(bn.op).toBe('BatchNormalization');
    expect(bn.inputs.map((v) => v!.name)).toEqual(['features.0', 'features.1.weight', 'features.1.bias', 'features.1.running_mean', 'features.1.running_var']);
    const clip = model.graph.findNode('features.2')!;
    expect(clip.op).toBe('Clip');
    expect(clip.inputs.slice(1).map((v) => v!.initializer!.toArray())).toEqual([[0], [6]]);
    expect(model.graph.findNode('features.3')!.attrInt('group')).toBe(8);
    expect(model.graph.outputs[0]!.name).toBe('logits');
  });
});

describe('--arch on models written by python3-torch (make_models.py)', () => {
  const dir = extraModels();
  for (const name of EXTRA_MODELS) {
    it.skipIf(!dir)(`${name}: runtime and onnxruntime reproduce torch's output`, async () => {
      await checkModel(join(dir!, name, 'state_dict.pth'), join(ARCH_FIXTURES, `${name}.arch.json`), join(dir!, name));
    });
  }

  it.skipIf(!dir)('pool_net: ceil_mode pooling becomes exact end padding and reflect padding a Pad node', async () => {
    const model = await load(join(dir!, 'pool_net', 'state_dict.pth'), { arch: join(ARCH_FIXTURES, 'pool_net.arch.json') });
    const g = model.graph;
    expect(g.findNode('stem/pad')!.attrString('mode')).toBe('reflect');
    const pool1 = g.findNode('pool1')!;
    expect(pool1.attrInts('pads')).toEqual([0, 0, 1, 1]);
    expect(pool1.attrInt('ceil_mode', 0)).toBe(0);
    expect(pool1.outputs[0]!.shape).toEqual(['batch', 6, 10, 10]);
    expect(g.findNode('pool2')!.outputs[0]!.shape).toEqual(['batch', 8, 6, 6]);
    expect(g.findNode('gap')!.attrInts('kernel_shape')).toEqual([3, 3]);
  });
});
