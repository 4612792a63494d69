#!/usr/bin/env node
/** The `mconv` command line. Exit codes: 0 ok, 1 mismatch, 2 usage error, 3 unreadable or unsupported input. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { inspectCommand } from './inspect.js';
import { convertCommand } from './convert.js';
import { runCommand } from './run.js';
import { verifyCommand } from './verify.js';
import { reportError } from './common.js';

const argv = hideBin(process.argv);
const globalFlags = { json: argv.includes('--json'), debug: argv.includes('--debug') };

let failed = false;
const cli = yargs(argv)
  .scriptName('mconv')
  .usage('$0 <command> [options]')
  .option('json', { type: 'boolean', default: false, global: true, describe: 'machine-readable output' })
  .option('debug', { type: 'boolean', default: false, global: true, describe: 'print stacks on errors' })
  .strict()
  .demandCommand(1, 'give a command: inspect, convert, run or verify')
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version()
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    failed = true;
    if (err) {
      process.exitCode = reportError(err, globalFlags);
    } else {
      if (globalFlags.json) process.stdout.write(JSON.stringify({ error: { kind: 'usage', message: msg } }) + '\n');
      process.stderr.write(`mconv: error: ${msg} (see mconv --help)\n`);
      process.exitCode = 2;
    }
  });

inspectCommand(cli);
convertCommand(cli);
runCommand(cli);
verifyCommand(cli);

try {
  await cli.parseAsync();
} catch (e) {
  if (!failed) process.exitCode = reportError(e, globalFlags);
}
