/**
 * TorchScript archives (torch.jit.script(...).save) of the shared fixtures and of make_models.py's
 * models, loaded straight from scripted.pt: the interpreted forward reproduces torch's output.npy
 * with our runtime (atol 1e-4) and, written as ONNX, with onnxruntime-node (atol 1e-5); the file
 * passes onnx.checker. Weights are named by module path exactly as in the state_dict.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { load } from '../../../../src/api.js';
import { MconvError } from '../../../../src/errors.js';
import '../../../../src/formats/torch/torchscript/graph-builder.js';
import { readStateDict } from '../../../../src/formats/torch/state-dict.js';
import { readTorchArchive } from '../../../../src/formats/torch/container.js';
import { buildFromTorchScript } from '../../../../src/formats/torch/torchscript/build.js';
import { Model } from '../../../../src/ir/graph.js';
import { openSource } from '../../../../src/io/files.js';
import {
  EXTRA_MODELS, SHARED_MODELS, TORCH_FIXTURES, extraModels, hasSharedFixtures, onnxReport, readCase, sessionReport,
} from '../arch/oracle.js';

/** The input shape of the case with a symbolic batch. */
const shapeOf = (dir: string) => ['batch', ...readCase(dir).input.shape.slice(1)];

describe.skipIf(!hasSharedFixtures)('TorchScript: the shared fixtures', () => {
  for (const name of SHARED_MODELS) {
    it(`${name}: with the input shape given, runtime and onnxruntime reproduce torch's output`, async () => {
      const dir = join(TORCH_FIXTURES, name);
      const model = await load(join(dir, 'scripted.pt'), { inputShapes: { x: shapeOf(dir) } });
      expect(model.metadata['torch.graph_source']).toBe('torchscript');
      const c = readCase(dir);
      const rt = await sessionReport(model, c, 1e-4);
      expect(rt.ok, JSON.stringify(rt)).toBe(true);
      const ox = await onnxReport(model, c, 1e-5);
      expect(ox.report.ok, JSON.stringify(ox.report)).toBe(true);
      expect(ox.checker).toBe('');
      const keys = [...readStateDict(openSource(join(dir, 'state_dict.pth'))).tensors.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
      const inits = [...model.graph.initializers.keys()].filter((k) => !k.includes('/'));
      expect(inits.sort()).toEqual(keys.sort());
    });

    it(`${name}: without input shapes, the graph still runs and reproduces torch's output`, async () => {
      const dir = join(TORCH_FIXTURES, name);
      const model = await load(join(dir, 'scripted.pt'));
      const rt = await sessionReport(model, readCase(dir), 1e-4);
      expect(rt.ok, JSON.stringify(rt)).toBe(true);
    });
  }

  it('infers the input shape from a first convolution or Linear, and says when it cannot', async () => {
    const shapes: Record<string, unknown> = {};
    const notes: Record<string, string> = {};
    for (const name of SHARED_MODELS) {
      const m = await load(join(TORCH_FIXTURES, name, 'scripted.pt'));
      shapes[name] = m.graph.inputs[0]!.shape;
      notes[name] = m.metadata['torch.note']!;
    }
    expect(shapes).toEqual({
      mnist_v0: undefined,
      mnist_v1: undefined,
      mnist_v2_cnn: ['batch', 1, 'height', 'width'],
      mlp_64_16: ['batch', 784],
      conv_bn_net: ['batch', 3, 'height', 'width'],
    });
    expect(notes['mnist_v0']).toContain('the shape of input x is unknown');
    expect(notes['conv_bn_net']).not.toContain('unknown');
  });

  it('conv_bn_net: nodes are named by module path; checks in the code (dim, training) leave no nodes', async () => {
    const dir = join(TORCH_FIXTURES, 'conv_bn_net');
    const model = await load(join(dir, 'scripted.pt'), { inputShapes: { x: shapeOf(dir) } });
    expect(model.graph.nodes.map((n) => `${n.name}:${n.op}`)).toEqual([
      'features.0:Conv', 'features.1:BatchNormalization', 'features.2:Clip', 'features.3:Conv', 'features.4:BatchNormalization',
      'features.5:Relu', 'features.6:Conv', 'features.7:GlobalAveragePool', 'flatten:Flatten', 'head:Gemm',
    ]);
    expect(model.graph.outputs.map((o) => [o.name, o.shape])).toEqual([['output', ['batch', 5]]]);
  });

  it('refuses input shapes for names forward does not take', async () => {
    const e = await load(join(TORCH_FIXTURES, 'mnist_v0', 'scripted.pt'), { inputShapes: { img: [1, 784] } }).catch((x) => x);
    expect(e).toBeInstanceOf(MconvError);
    expect(e.kind).toBe('usage');
    expect(e.message).toContain("the model has no input named 'img'");
    expect(e.hint).toBe('forward takes: x');
  });
});

describe('TorchScript: models written by python3-torch (make_models.py)', () => {
  const dir = extraModels();
  const inputName: Record<string, string> = { pool_net: 'x', seq_net: 'idx', resnet_like: 'x', functional_net: 'x' };
  for (const name of [...EXTRA_MODELS, 'functional_net']) {
    it.skipIf(!dir)(`${name}: runtime and onnxruntime reproduce torch's output`, async () => {
      const d = join(dir!, name);
      const model = await load(join(d, 'scripted.pt'), { inputShapes: { [inputName[name]!]: shapeOf(d) } });
      expect(model.metadata['torch.graph_error']).toBeUndefined();
      const c = readCase(d);
      const rt = await sessionReport(model, c, 1e-4);
      expect(rt.ok, JSON.stringify(rt)).toBe(true);
      const ox = await onnxReport(model, c, 1e-5);
      expect(ox.report.ok, JSON.stringify(ox.report)).toBe(true);
      expect(ox.checker).toBe('');
    });
  }

  for (const name of [...EXTRA_MODELS, 'functional_net']) {
    it.skipIf(!dir)(`${name} traced (torch.jit.trace): runtime and onnxruntime reproduce torch's output`, async () => {
      const d = join(dir!, name);
      const c = readCase(d);
      const a = readTorchArchive(openSource(join(d, 'traced.pt')));
      const graph = buildFromTorchScript(a, { inputs: [{ shape: shapeOf(d), dtype: c.input.dtype }] });
      const model = new Model(graph, { format: 'torch' });
      const rt = await sessionReport(model, c, 1e-4);
      expect(rt.ok, JSON.stringify(rt)).toBe(true);
      const ox = await onnxReport(model, c, 1e-5);
      expect(ox.report.ok, JSON.stringify(ox.report)).toBe(true);
      expect(ox.checker).toBe('');
    });
  }

  it.skipIf(!dir)('seq_net: an input read by an Embedding becomes int64 [batch, sequence]', async () => {
    const model = await load(join(dir!, 'seq_net', 'scripted.pt'));
    expect(model.graph.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([['idx', 'int64', ['batch', 'sequence']]]);
    const rt = await sessionReport(model, readCase(join(dir!, 'seq_net')), 1e-4);
    expect(rt.ok, JSON.stringify(rt)).toBe(true);
  });

  it.skipIf(!dir)('functional_net: x.view(x.size(0), -1) keeps the batch symbolic (Shape, Gather, Concat)', async () => {
    const d = join(dir!, 'functional_net');
    const model = await load(join(d, 'scripted.pt'), { inputShapes: { x: shapeOf(d) } });
    const ops = model.graph.nodes.map((n) => n.op);
    expect(ops).toEqual(expect.arrayContaining(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape', 'Gemm', 'ReduceMean']));
    expect(model.graph.findNodesByOp('Reshape')[0]!.outputs[0]!.shape).toEqual(['batch', 72]);
    expect([...model.graph.initializers.keys()]).toEqual(expect.arrayContaining(['conv.weight', 'conv.bias', 'w', 'b']));
    const c = readCase(d);
    const ox = await onnxReport(model, c, 1e-5);
    expect(ox.report.ok, JSON.stringify(ox.report)).toBe(true);
  });
});
