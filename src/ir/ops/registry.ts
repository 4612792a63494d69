/**
 * The op schema registry: every op the IR knows, by domain and op type.
 * The default ONNX domain is '' (the alias 'ai.onnx' is accepted). Other domains (our own ops,
 * readers' extensions) register their schemas with `registerSchema`.
 */
import { controlSchemas } from './control.js';
import { elementwiseSchemas } from './elementwise.js';
import { miscSchemas } from './misc.js';
import { nnSchemas } from './nn.js';
import { reduceSchemas } from './reduce.js';
import { rnnSchemas } from './rnn.js';
import type { OpSchema } from './schema.js';
import { sequenceSchemas } from './sequence.js';
import { shapeSchemas } from './shape.js';
import { signalSchemas } from './signal.js';
import { textSchemas } from './text.js';
import { trainingSchemas } from './training.js';

const registry = new Map<string, OpSchema>();

function key(op: string, domain: string): string {
  return `${normDomain(domain)}::${op}`;
}

function normDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

/** Adds (or replaces) a schema. */
export function registerSchema(schema: OpSchema): void {
  registry.set(key(schema.op, schema.domain), schema);
}

for (const s of [
  ...elementwiseSchemas, ...nnSchemas, ...shapeSchemas, ...reduceSchemas, ...rnnSchemas, ...controlSchemas, ...miscSchemas,
  ...sequenceSchemas, ...textSchemas, ...signalSchemas, ...trainingSchemas,
]) {
  if (registry.has(key(s.op, s.domain))) throw new Error(`duplicate schema for ${s.op}`);
  registerSchema(s);
}

/** The schema of an op, or undefined when the op is unknown. */
export function getSchema(op: string, domain = ''): OpSchema | undefined {
  return registry.get(key(op, domain));
}

/** Every registered schema, sorted by domain then op. */
export function allSchemas(): OpSchema[] {
  return [...registry.values()].sort((x, y) => (x.domain === y.domain ? x.op.localeCompare(y.op) : x.domain.localeCompare(y.domain)));
}
