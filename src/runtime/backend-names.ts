/** Names of the runtime's backends (kept apart from backends.ts so naming them loads no tfjs). */
export const BACKENDS = ['wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKENDS)[number];
export const DEFAULT_BACKEND: BackendName = 'wasm';
