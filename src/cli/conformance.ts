#!/usr/bin/env node
/**
 * `npm run conformance`: runs the ONNX backend test data through the reader and the runtime
 * and writes reports/conformance-<backend>.md and .json.
 *   --backend wasm|cpu|webgpu|tensorflow   --filter REGEX   --suite node,simple
 *   --out DIR   --write-passing FILE   --quiet
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_TESTDATA_ROOT, SUITES, Suite, markdownReport, runSuites, summarize } from '../conformance/onnx-backend.js';
import { writeFileAtomic } from '../io/atomic.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('conformance')
  .option('backend', { type: 'string', default: 'wasm' })
  .option('filter', { type: 'string', describe: 'regular expression on case names' })
  .option('suite', { type: 'string', default: SUITES.join(','), describe: 'comma-separated: node,simple' })
  .option('root', { type: 'string', default: DEFAULT_TESTDATA_ROOT })
  .option('out', { type: 'string', default: 'reports' })
  .option('write-passing', { type: 'string', describe: 'write the passing case names (suite/name) to this file' })
  .option('quiet', { type: 'boolean', default: false })
  .strict()
  .parse();

const suites = argv.suite.split(',').map((s) => s.trim()) as Suite[];
const results = await runSuites({
  root: argv.root,
  suites,
  backend: argv.backend,
  filter: argv.filter ? new RegExp(argv.filter) : undefined,
  onCase: (r, i, n) => {
    if (!argv.quiet) {
      const tag = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'UNSUP';
      process.stdout.write(`[${i + 1}/${n}] ${tag} ${r.suite}/${r.name}${r.reason ? ': ' + r.reason : ''}\n`);
    }
  },
});
const summary = summarize(results, argv.backend);
mkdirSync(argv.out, { recursive: true });
writeFileAtomic(join(argv.out, `conformance-${argv.backend}.md`), new TextEncoder().encode(markdownReport(summary)));
writeFileAtomic(join(argv.out, `conformance-${argv.backend}.json`), new TextEncoder().encode(JSON.stringify(summary, null, 1)));
if (argv['write-passing']) {
  const names = results.filter((r) => r.status === 'pass').map((r) => `${r.suite}/${r.name}`);
  writeFileSync(argv['write-passing'], names.join('\n') + '\n');
}
for (const [name, c] of Object.entries(summary.suites)) {
  console.log(`${name}: ${c.pass}/${c.total} pass, ${c.fail} fail, ${c.unsupported} unsupported`);
}
console.log(`reports written to ${join(argv.out, `conformance-${argv.backend}.md`)} and .json`);
