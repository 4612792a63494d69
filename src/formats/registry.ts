/**
 * The formats mconv knows, detection (magic bytes / structure first, extension second), and the
 * two entry points that use them: `loadModel(path)` and `saveModel(model, path, options)`.
 * Adding a format is one line in `FORMATS`.
 */
import * as path from 'node:path';
import { MconvError, unreadable, unsupported, usageError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import type { FormatHandler, ModelSourceFiles, ReadOptions, WriteOptions } from './types.js';
import { openSource } from '../io/files.js';
import { writeFilesAtomic } from '../io/atomic.js';
import { onnxHandler } from './onnx/index.js';
import { torchHandler } from './torch/index.js';
import { safetensorsHandler } from './safetensors/index.js';
import { kerasHandler } from './keras/index.js';
import { tfCheckpointHandler, tfGraphDefHandler, tfSavedModelHandler } from './tf/index.js';
import { tfjsGraphHandler } from './tfjs/graph-model.js';
import { tfjsLayersHandler } from './tfjs/layers-model.js';

/** Every format handler, in detection order. */
export const FORMATS: FormatHandler[] = [
  onnxHandler,
  torchHandler,
  safetensorsHandler,
  tfSavedModelHandler,
  tfCheckpointHandler,
  tfGraphDefHandler,
  kerasHandler,
  tfjsLayersHandler,
  tfjsGraphHandler,
];

/** How many bytes of the head `sniff` gets. */
export const SNIFF_BYTES = 4096;

export function formatById(id: string): FormatHandler | undefined {
  const key = id.toLowerCase();
  return FORMATS.find((f) => f.id === key);
}

function supportedList(): string {
  return FORMATS.map((f) => `${f.title} (${f.extensions.join(' ') || 'folder'})`).join(', ');
}

/** The extension of a path as handlers list them (`.onnx`, `.weights.h5` style double ones too). */
function matchesExtension(f: FormatHandler, p: string): boolean {
  const lower = p.toLowerCase();
  return f.extensions.some((e) => lower.endsWith(e));
}

export interface Detection {
  handler: FormatHandler;
  /** How it was recognised. */
  by: 'content' | 'extension';
}

/**
 * Finds the handler for a source: the first whose `sniff` accepts the head wins; otherwise the
 * extension decides, but only for handlers that cannot sniff this kind of source (a folder); a file
 * whose bytes no handler recognises is refused even with a known extension.
 */
export function detectFormat(source: ModelSourceFiles): Detection | undefined {
  const head = source.isDirectory ? new Uint8Array(0) : source.readRange(0, Math.min(SNIFF_BYTES, source.size));
  for (const f of FORMATS) {
    if (f.sniff(head, source.path)) return { handler: f, by: 'content' };
  }
  if (source.isDirectory) {
    const byExt = FORMATS.find((f) => matchesExtension(f, source.path));
    if (byExt) return { handler: byExt, by: 'extension' };
  }
  return undefined;
}

export interface LoadOptions extends ReadOptions {
  /** Force a format id instead of detecting it. */
  format?: string;
}

/** Reads a model file (or folder) into the IR. Every failure is an MconvError with one clear line. */
export async function loadModel(p: string, options: LoadOptions = {}): Promise<Model> {
  const source = openSource(p);
  let handler: FormatHandler | undefined;
  if (options.format) {
    handler = formatById(options.format);
    if (!handler) throw usageError(`unknown format ${JSON.stringify(options.format)}`, `known formats: ${FORMATS.map((f) => f.id).join(', ')}`);
  } else {
    handler = detectFormat(source)?.handler;
  }
  if (!handler) throw notAModel(source);
  try {
    const model = await handler.read(source, options);
    // Descriptors reopen on demand for lazy tensors; do not hold them between uses.
    source.close();
    return model;
  } catch (e) {
    source.close();
    if (e instanceof MconvError) {
      if (e.file || e.format) throw e;
      throw new MconvError({ kind: e.kind, message: e.message, file: p, format: handler.id, where: e.where, hint: e.hint, cause: e });
    }
    throw new MconvError({
      kind: 'unreadable',
      file: p,
      format: handler.id,
      message: `cannot read the ${handler.title} file: ${(e as Error)?.message ?? String(e)}`,
      hint: 'the file may be corrupt; if it opens in its own framework, please report this',
      cause: e,
    });
  }
}

/** A JSON object with a Keras model's class_name and config at the top (what model.to_json() writes). */
function looksLikeKerasArchitecture(source: ModelSourceFiles): boolean {
  const head = new TextDecoder().decode(source.readRange(0, Math.min(SNIFF_BYTES, source.size)));
  return /^\s*\{/.test(head) && /"class_name"\s*:\s*"(Sequential|Functional|Model)"/.test(head) && /"config"\s*:/.test(head);
}

function notAModel(source: ModelSourceFiles): MconvError {
  const ext = path.extname(source.path).toLowerCase();
  const known = FORMATS.find((f) => ext && matchesExtension(f, source.path));
  const tried = FORMATS.map((f) => f.title).join(', ');
  if (source.isDirectory) {
    return unsupported(source.path, undefined, `no model format mconv reads matches this folder (tried: ${tried})`,
      `supported: ${supportedList()}`);
  }
  if (source.size === 0) return unreadable(source.path, undefined, 'the file is empty', 'check that the file was written completely');
  if (ext === '.json' && looksLikeKerasArchitecture(source)) {
    return unsupported(source.path, 'keras', 'this is a Keras architecture (model.to_json()) without weights',
      'give it with --config to the weights file it describes, e.g. mconv inspect weights.h5 --config model.json');
  }
  if (known) {
    return unreadable(source.path, known.id, `the file has a ${ext} extension but its content is not a valid ${known.title} file`,
      'the file may be truncated or corrupt, or saved in another format');
  }
  return unsupported(source.path, undefined, `not a model file mconv can read (tried: ${tried})`,
    `supported: ${supportedList()}`);
}

export interface SaveOptions extends WriteOptions {
  /** Target format id; defaults to the one the output extension names. */
  format?: string;
}

/** Writes a model atomically; returns the paths written (main file first). */
export async function saveModel(model: Model, outPath: string, options: SaveOptions = {}): Promise<string[]> {
  let handler: FormatHandler | undefined;
  if (options.format) {
    handler = formatById(options.format);
    if (!handler) throw usageError(`unknown output format ${JSON.stringify(options.format)}`, `known formats: ${FORMATS.map((f) => f.id).join(', ')}`);
  } else {
    handler = FORMATS.find((f) => matchesExtension(f, outPath));
    if (!handler) {
      throw usageError(`cannot tell the output format from ${JSON.stringify(path.basename(outPath))}`,
        `use a known extension or --format (writable: ${FORMATS.filter((f) => f.write).map((f) => `${f.id} ${f.extensions.join(' ')}`).join(', ')})`);
    }
  }
  if (!handler.write) throw usageError(`mconv cannot write ${handler.title} files`, `writable formats: ${FORMATS.filter((f) => f.write).map((f) => f.id).join(', ')}`);
  if (model.source.path && path.resolve(model.source.path) === path.resolve(outPath)) {
    throw usageError(`the output ${outPath} is the input file`, 'write to another path (mconv never overwrites its input)');
  }
  const written = await handler.write(model, outPath, options);
  if (model.source.path) {
    const input = path.resolve(model.source.path);
    for (const rel of written.extra.keys()) {
      if (path.resolve(path.dirname(path.resolve(outPath)), rel) === input) {
        throw usageError(`the output file ${rel} would replace the input file`, 'choose another name (mconv never overwrites its input)');
      }
    }
  }
  return writeFilesAtomic(outPath, written.main, written.extra);
}
