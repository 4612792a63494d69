#!/usr/bin/env node
/** The `mconv` command line. Exit codes: 0 ok, 1 mismatch, 2 usage error, 3 unreadable or unsupported input. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { inspectCommand } from './inspect.js';
import { convertCommand } from './convert.js';
import { runCommand } from './run.js';
import { verifyCommand } from './verify.js';
import { diffCommand } from './diff.js';
import { reportError } from './common.js';
import { MconvError } from '../errors.js';

const argv = hideBin(process.argv);
const globalFlags = { json: argv.includes('--json'), debug: argv.includes('--debug') };

const cli = yargs(argv)
  .scriptName('mconv')
  .usage('$0 <command> [options]')
  .option('json', { type: 'boolean', default: false, global: true, describe: 'machine-readable output' })
  .option('debug', { type: 'boolean', default: false, global: true, describe: 'print stacks on errors' })
  .strict()
  .demandCommand(1, 'give a command: inspect, convert, run, verify or diff')
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version()
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    // yargs' own parse errors come without `err`: they are usage errors.
    throw err ?? new MconvError({ kind: 'usage', message: msg, hint: 'see mconv --help' });
  });

inspectCommand(cli);
convertCommand(cli);
runCommand(cli);
verifyCommand(cli);
diffCommand(cli);

try {
  await cli.parseAsync();
} catch (e) {
  process.exitCode = reportError(e, globalFlags);
}
