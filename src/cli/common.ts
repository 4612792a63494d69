/** Shared CLI plumbing: error printing with exit codes, JSON output, input files, file-safe names. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { MconvError, usageError } from '../errors.js';
import { readNpy, readNpz } from '../formats/npy/npy.js';
import type { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/graph.js';
import type { Argv } from 'yargs';
import type { ReadOptions } from '../formats/types.js';
import { coloursFor } from './colour.js';

export interface GlobalArgs {
  json?: boolean;
  debug?: boolean;
}

/** Prints an error as one line (stack only with --debug) and returns the exit code. */
export function reportError(e: unknown, args: GlobalArgs): number {
  const err = e instanceof MconvError ? e : undefined;
  const line = err ? err.oneLine() : `internal error: ${(e as Error)?.message ?? String(e)}`;
  if (args.json) {
    process.stdout.write(
      JSON.stringify({ error: { kind: err?.kind ?? 'internal', message: err?.message ?? String((e as Error)?.message ?? e), file: err?.file, format: err?.format, where: err?.where, hint: err?.hint } }) + '\n',
    );
  }
  const c = args.json ? undefined : coloursFor(process.stderr);
  process.stderr.write(`${c ? c.error('mconv: error:') : 'mconv: error:'} ${line}${!err && !args.debug ? ' (run with --debug for the stack)' : ''}\n`);
  if (args.debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return err ? err.exitCode : 4;
}

export function printJson(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2) + '\n');
}

/** A name usable as a file name on every OS (keeps letters, digits, `.`, `_`, `-`). */
export function fileSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return s.length ? s.slice(0, 200) : 'output';
}

/** Maps names to distinct file-safe names. */
export function fileSafeNames(names: string[]): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const n of names) {
    const base = fileSafe(n);
    let s = base;
    for (let i = 1; used.has(s.toLowerCase()); i++) s = `${base}_${i}`;
    used.add(s.toLowerCase());
    out.set(n, s);
  }
  return out;
}

/**
 * Parses `--input [NAME=]FILE.npy|.npz` arguments against the model's inputs.
 * Unnamed .npy files are taken in input order; .npz members match input names (else order).
 */
export function readInputArgs(specs: string[], inputs: Value[]): Map<string, Tensor> {
  const feeds = new Map<string, Tensor>();
  const names = inputs.map((v) => v.name);
  let next = 0;
  const nextFree = () => {
    while (next < names.length && feeds.has(names[next]!)) next++;
    return names[next];
  };
  for (const spec of specs) {
    let name: string | undefined;
    let file = spec;
    const eq = spec.indexOf('=');
    if (eq > 0 && !existsSync(spec)) {
      name = spec.slice(0, eq);
      file = spec.slice(eq + 1);
    }
    if (!existsSync(file)) throw new MconvError({ kind: 'unreadable', file, message: 'input file not found', hint: 'give --input [NAME=]FILE.npy with an existing file' });
    if (statSync(file).isDirectory()) throw new MconvError({ kind: 'unreadable', file, message: 'input is a directory, expected a .npy or .npz file' });
    const ext = extname(file).toLowerCase();
    const bytes = readFileSync(file);
    if (ext === '.npz') {
      const members = readNpz(bytes, file);
      for (const [mname, t] of members) {
        const key = mname.replace(/\.npy$/, '');
        const target = names.includes(key) ? key : nextFree();
        if (!target) throw usageError(`${file}: array '${key}' matches no model input`, `the model's inputs are: ${names.join(', ')}`);
        feeds.set(target, t);
      }
    } else if (ext === '.npy') {
      const t = readNpy(bytes, file);
      const target = name ?? nextFree();
      if (!target) throw usageError(`more --input files than the model has inputs (${names.length})`, `the model's inputs are: ${names.join(', ')}`);
      if (!names.includes(target)) throw usageError(`the model has no input named '${target}'`, `its inputs are: ${names.join(', ')}`);
      feeds.set(target, t);
    } else {
      throw new MconvError({ kind: 'unsupported', file, message: `input files must be .npy or .npz, not '${ext || basename(file)}'`, hint: 'save arrays with numpy.save / numpy.savez' });
    }
  }
  return feeds;
}

/** Parses `--dim name=value` pairs. */
export function parseDims(specs: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of specs ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw usageError(`--dim expects NAME=INTEGER, got '${s}'`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function groupDigits(n: number): string {
  return n.toLocaleString('en-US');
}

/** The options every command that reads a model takes. */
export interface ReadArgs {
  config?: string;
  arch?: string;
  'input-shape'?: string[];
  inputs?: string;
  outputs?: string;
  signature?: string;
}

export function withReadOptions<T>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', describe: 'architecture for weights-only files (Keras model.to_json(), a full model file)' })
    .option('arch', { type: 'string', describe: 'PyTorch: architecture file (JSON) to build a runnable graph from a state_dict' })
    .option('input-shape', { type: 'string', array: true, describe: 'declare an input shape: NAME=batch,1,28,28 (TorchScript records none)' })
    .option('inputs', { type: 'string', describe: 'TensorFlow graphs: the graph inputs, comma-separated NODE:PORT (cuts the graph there, e.g. past a DecodeJpeg)' })
    .option('outputs', { type: 'string', describe: 'TensorFlow graphs: the graph outputs, comma-separated NODE:PORT' })
    .option('signature', { type: 'string', describe: 'TensorFlow SavedModels: the signature to read (default serving_default)' });
}

function nameList(flag: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(',').map((s) => s.trim()).filter((s) => s.length);
  if (!names.length) throw usageError(`--${flag} expects comma-separated names such as input:0`);
  return names;
}

/** Parses `NAME=d1,d2,...` (numbers or symbolic names). */
export function parseInputShapes(specs: string[] | undefined): Record<string, (number | string)[]> | undefined {
  if (!specs?.length) return undefined;
  const out: Record<string, (number | string)[]> = {};
  for (const s of specs) {
    const m = /^([^=]+)=(.*)$/.exec(s);
    if (!m) throw usageError(`--input-shape expects NAME=d1,d2,..., got '${s}'`);
    out[m[1]!] = m[2]!.split(',').filter((d) => d.length).map((d) => (/^\d+$/.test(d) ? Number(d) : d));
  }
  return out;
}

export function readOptionsFrom(args: ReadArgs): ReadOptions {
  return {
    config: args.config, arch: args.arch, inputShapes: parseInputShapes(args['input-shape']),
    inputs: nameList('inputs', args.inputs), outputs: nameList('outputs', args.outputs), signature: args.signature,
  };
}
