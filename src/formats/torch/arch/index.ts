/** `--arch`: a declarative PyTorch architecture file (see README.md here) built into an IR graph. */
export { buildFromArch, loadArchSpec, type ArchBuildOptions } from './build.js';
export { readArchSpec, modulesFromRepr, type ArchSpec, type ArchModule, type ArchInput, type ArchStep } from './spec.js';
export { MODULE_DEFS } from './modules.js';
export { FUNCTIONS } from './functional.js';
