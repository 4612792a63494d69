/**
 * The TF op support table, generated from the converter registry (like tf2onnx's
 * support_status.md): `src/formats/tf/SUPPORTED_OPS.md`. `npm run tf-ops-table` rewrites it;
 * a test fails when the file and the registry disagree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_IN } from './import-graph.js';
import { registeredTfOps } from './op-api.js';
import './ops/index.js';

/** TF1 control-flow ops, rewritten into functions before conversion (functionalize.ts). */
const TF1_CONTROL_FLOW = ['Enter', 'Exit', 'LoopCond', 'Merge', 'NextIteration', 'Switch'];

function table(ops: string[], columns = 4): string {
  const rows: string[] = [];
  for (let i = 0; i < ops.length; i += columns) {
    const cells = ops.slice(i, i + columns).map((o) => `\`${o}\``);
    while (cells.length < columns) cells.push('');
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return [`|${' |'.repeat(columns)}`, `|${'---|'.repeat(columns)}`, ...rows].join('\n');
}

export function tfSupportTable(): string {
  const converters = registeredTfOps();
  const builtIn = [...BUILT_IN].filter((o) => !converters.includes(o)).sort();
  const total = new Set([...converters, ...builtIn, ...TF1_CONTROL_FLOW]).size;
  return [
    '# TensorFlow ops mconv converts',
    '',
    'Generated from the converter registry by `npm run tf-ops-table` (do not edit; a test checks it).',
    `${total} TF op names in all.`,
    '',
    `## Op converters (\`src/formats/tf/ops/\`): ${converters.length}`,
    '',
    table(converters),
    '',
    `## Handled by the importer (\`import-graph.ts\`, \`control-flow.ts\`): ${builtIn.length}`,
    '',
    'Sources, pass-throughs, function calls (inlined), While/If (ONNX Loop/If).',
    '',
    table(builtIn),
    '',
    `## TF1 control flow (\`functionalize.ts\`): ${TF1_CONTROL_FLOW.length}`,
    '',
    'Loops and conds in dataflow form are rewritten into While/If functions first.',
    '',
    table(TF1_CONTROL_FLOW),
    '',
  ].join('\n');
}

// `npm run tf-ops-table` (tsx src/formats/tf/support-table.ts --write) writes the file beside this one.
if (process.argv.includes('--write') && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'SUPPORTED_OPS.md');
  fs.writeFileSync(out, tfSupportTable());
  console.log(`wrote ${out}`);
}
