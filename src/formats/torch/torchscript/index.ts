/** TorchScript archives (`torch.jit.save`) interpreted into IR graphs. */
export { buildFromTorchScript, isTorchScriptArchive, type TorchScriptArchiveLike, type TorchScriptBuildOptions, type TorchScriptInputSpec } from './build.js';
export { parseCode } from './parser.js';
export { TorchOps, TorchOpError } from './torch-ops.js';
export { hasAten } from './aten.js';
export { buildTorchGraph, TORCH_GRAPH_META } from './graph-builder.js';
