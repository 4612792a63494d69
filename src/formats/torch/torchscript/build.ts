/**
 * A runnable IR graph from a TorchScript archive (`torch.jit.save`): the root module's `forward`
 * is interpreted over its code files and data.pkl objects (see interpreter.ts).
 *
 * Inputs are the arguments of `forward` (after `self`). Their shapes are not stored in the archive:
 * unless given in `options.inputs`, an input read first by a convolution gets [batch, channels,
 * spatial...], one read by an embedding becomes int64, and others keep an unknown shape (ops then
 * pick rank-independent forms, e.g. MatMul rather than Gemm for `linear`).
 */
import { MconvError } from '../../../errors.js';
import { Graph, type Value } from '../../../ir/graph.js';
import type { DType, Dim } from '../../../ir/tensor.js';
import { deadCodeElimination } from '../../../ir/passes/dead-code.js';
import { renameValue } from '../../../ir/edit.js';
import { PyObject } from '../../../io/pickle/values.js';
import { Interpreter, ScriptError, type ScriptSource } from './interpreter.js';
import { TorchOpError, TorchOps } from './torch-ops.js';
import { TensorVal, describeVal, type PyVal } from './values.js';

/** What the interpreter needs from a TorchScript archive (the container's TorchArchive has it). */
export interface TorchScriptArchiveLike {
  readonly root: unknown;
  entry(name: string): Uint8Array | undefined;
  entries(): string[];
  unpickleEntry(name: string): unknown;
}

export interface TorchScriptInputSpec {
  /** Defaults to the name of the forward argument at the same position. */
  name?: string;
  shape?: Dim[];
  dtype?: DType;
}

export interface TorchScriptBuildOptions {
  /** The file's path, for messages. */
  file?: string;
  /** Shapes/dtypes of forward's tensor arguments, by position. */
  inputs?: TorchScriptInputSpec[];
  /** Shapes of forward's tensor arguments by name (`{ x: ['batch', 1, 28, 28] }`); wins over `inputs`. */
  inputShapes?: Record<string, Dim[]>;
}

function scriptSource(archive: TorchScriptArchiveLike): ScriptSource {
  const dec = new TextDecoder();
  return {
    code: (entry) => {
      const b = archive.entry(entry);
      return b ? dec.decode(b) : undefined;
    },
    constants: () => {
      if (!archive.entries().includes('constants.pkl')) return [];
      const c = archive.unpickleEntry('constants.pkl');
      return Array.isArray(c) ? [...c] : [];
    },
  };
}

function toMconvError(e: unknown, file: string | undefined): unknown {
  if (e instanceof ScriptError) {
    const where = `${e.file}:${e.line}${e.scope ? ` in module ${e.scope}` : ''}`;
    const kind = e.kind === 'mismatch' ? 'unsupported' : e.kind;
    return new MconvError({ kind, file, format: 'torch', message: `TorchScript: ${e.message}`, where, hint: e.hint ?? (kind === 'unsupported' ? 'the weights can still be inspected; this op needs a mapping before the model can run or convert' : undefined), cause: e });
  }
  if (e instanceof TorchOpError) return new MconvError({ kind: e.kind === 'unsupported' ? 'unsupported' : 'unreadable', file, format: 'torch', message: `TorchScript: ${e.message}`, hint: e.hint, cause: e });
  return e;
}

/** Builds the IR graph of a TorchScript archive's `forward`. Throws MconvError naming the first op it cannot map. */
export function buildFromTorchScript(archive: TorchScriptArchiveLike, options: TorchScriptBuildOptions = {}): Graph {
  const root = archive.root;
  if (!(root instanceof PyObject) || !root.module.startsWith('__torch__')) {
    throw new MconvError({ kind: 'unsupported', file: options.file, format: 'torch', message: 'the archive holds no TorchScript module (data.pkl is not a __torch__ object)', hint: 'this is a torch.save file; build a graph with --arch' });
  }
  const graph = new Graph('main');
  const ops = new TorchOps(graph);
  const interp = new Interpreter(scriptSource(archive), ops, graph);
  try {
    const self = interp.moduleVal(root, '');
    const forward = self.cls.methods.get('forward');
    if (!forward) throw new ScriptError(`class ${root.className} has no forward method`, 'unreadable', self.cls.file, self.cls.line, '');
    const args: PyVal[] = [];
    const argNames = forward.params.slice(1).map((p) => p.name);
    for (const n of Object.keys(options.inputShapes ?? {})) {
      if (!argNames.includes(n)) {
        throw new MconvError({ kind: 'usage', file: options.file, format: 'torch', message: `the model has no input named '${n}'`, hint: `forward takes: ${argNames.join(', ') || 'nothing'}` });
      }
    }
    forward.params.slice(1).forEach((p, i) => {
      const byName = options.inputShapes?.[p.name];
      const spec = byName ? { ...options.inputs?.[i], shape: byName } : options.inputs?.[i];
      const ann = p.annotation;
      const isTensor = !ann || (ann.k === 'name' && ann.id === 'Tensor');
      if (!isTensor || (p.default && !spec)) {
        if (!p.default) throw new ScriptError(`forward argument '${p.name}' is not a tensor and has no default`, 'unsupported', forward.file, forward.line, '');
        return; // the default is used
      }
      const v = graph.addInput(spec?.name ?? p.name, spec?.dtype ?? 'float32', spec?.shape ?? []);
      if (!spec?.shape) v.shape = undefined;
      interp.markUnrefined(v, { shape: !spec?.shape, dtype: !spec?.dtype });
      args.push(new TensorVal(v));
    });
    const result = interp.run(self, 'forward', args);
    setOutputs(graph, ops, result, forward.file, forward.line);
  } catch (e) {
    throw toMconvError(e, options.file);
  }
  deadCodeElimination(graph);
  return graph;
}

function setOutputs(graph: Graph, ops: TorchOps, result: PyVal, file: string, line: number): void {
  const items: PyVal[] = result instanceof TensorVal ? [result] : Array.isArray(result) ? result : [result];
  const single = result instanceof TensorVal;
  const seen = new Set<Value>();
  items.forEach((r, i) => {
    if (!(r instanceof TensorVal)) {
      throw new ScriptError(`forward returns ${describeVal(r)}${single ? '' : ` as output ${i}`}; only tensors (or a tuple of tensors) can be graph outputs`, 'unsupported', file, line, '');
    }
    const name = single ? 'output' : `output_${i}`;
    let v = r.value;
    if (seen.has(v) || v.initializer || graph.inputs.includes(v)) v = ops.unary('Identity', v, `${name}/identity`);
    const taken = graph.values.get(name);
    if (taken && taken !== v) renameValue(graph, taken, graph.uniqueValueName(`${name}_value`));
    if (v.name !== name) renameValue(graph, v, name);
    seen.add(v);
    graph.outputs.push(v);
  });
}

/** True when the archive is TorchScript (has code files). */
export function isTorchScriptArchive(archive: TorchScriptArchiveLike): boolean {
  return archive.entries().some((n) => n.startsWith('code/'));
}

