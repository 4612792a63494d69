import type { Model } from '../ir/graph.js';

/** Where a reader gets bytes from: the main file plus siblings (external data, shards). */
export interface ModelSourceFiles {
  /** Path of the main file (or folder) as the user gave it. */
  path: string;
  /** True when `path` is a directory (SavedModel, tfjs folders). */
  isDirectory: boolean;
  /** Byte size of the main file (0 for a directory). */
  size: number;
  /** Reads `length` bytes of the main file at `offset` (positional read, nothing else loaded). */
  readRange(offset: number, length: number): Uint8Array;
  /** Reads the whole main file. */
  readAll(): Uint8Array;
  /** Reads a file relative to the main file's folder (external data, weight shards). */
  readSibling(relPath: string): Uint8Array;
  /** Reads part of a sibling file without loading the rest (for lazy tensors). */
  readSiblingRange(relPath: string, offset: number, length: number): Uint8Array;
  siblingExists(relPath: string): boolean;
}

export interface ReadOptions {
  /** Extra architecture/config file some formats need (Keras weights-only, PyTorch --arch). */
  config?: string;
  /** PyTorch: a file describing the architecture (`--arch`), to build a runnable graph from a state_dict. */
  arch?: string;
  /**
   * Shapes of the model's inputs by name, for formats that do not record them (TorchScript):
   * sizes and symbolic names, e.g. `{ x: ['batch', 1, 28, 28] }`.
   */
  inputShapes?: Record<string, (number | string)[]>;
  /** TensorFlow graphs: the graph inputs (cut points) as `node:port` names, e.g. `['X:0']`. */
  inputs?: string[];
  /** TensorFlow graphs: the graph outputs as `node:port` names. */
  outputs?: string[];
  /** TensorFlow SavedModels: the signature to read (default `serving_default`, else the only one). */
  signature?: string;
}

export interface WriteOptions {
  /** Target opset for ONNX. */
  opset?: number;
  /** Write weights to an external data file (ONNX); forced over 2 GB. */
  externalData?: boolean | string;
  /** tfjs graph-models: store float weights as float16, or as uint8 with a per-tensor min and scale. */
  quantize?: 'float16' | 'uint8';
}

/** The files a writer produced: relative paths (to the output's folder) and bytes. */
export interface WrittenFiles {
  /** The main file's bytes (written to the output path). */
  main: Uint8Array;
  /** Extra files beside it, by name relative to the main file's folder. */
  extra: Map<string, Uint8Array>;
}

export interface FormatHandler {
  /** Short id: 'onnx', 'keras', 'tf', ... */
  id: string;
  /** A human name for messages and tables. */
  title: string;
  /** Lower-case file extensions with the dot. */
  extensions: string[];
  /** True when the first bytes look like this format (magic bytes / structure). */
  sniff(head: Uint8Array, path: string): boolean;
  read(source: ModelSourceFiles, options?: ReadOptions): Promise<Model>;
  write?(model: Model, outPath: string, options?: WriteOptions): Promise<WrittenFiles>;
}
