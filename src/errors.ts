/**
 * Errors users see. Each carries what the CLI needs for one clear line:
 * the file, the format, what is wrong and what to do, plus an exit code.
 */
export type ErrorKind = 'usage' | 'unreadable' | 'unsupported' | 'mismatch' | 'internal';

/** Exit codes of the CLI: 0 ok, 1 mismatch, 2 usage error, 3 unreadable or unsupported input. */
export const EXIT_CODES: Record<ErrorKind, number> = {
  mismatch: 1,
  usage: 2,
  unreadable: 3,
  unsupported: 3,
  internal: 4,
};

export interface MconvErrorInfo {
  kind: ErrorKind;
  /** What is wrong, in a few words. */
  message: string;
  file?: string;
  format?: string;
  /** Where: a node name, a byte offset, a tensor name. */
  where?: string;
  /** What to do about it. */
  hint?: string;
  cause?: unknown;
}

export class MconvError extends Error {
  readonly kind: ErrorKind;
  readonly file?: string;
  readonly format?: string;
  readonly where?: string;
  readonly hint?: string;

  constructor(info: MconvErrorInfo) {
    super(info.message, info.cause !== undefined ? { cause: info.cause } : undefined);
    this.name = 'MconvError';
    this.kind = info.kind;
    this.file = info.file;
    this.format = info.format;
    this.where = info.where;
    this.hint = info.hint;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }

  /** One line: `file (format): message at where. hint` */
  oneLine(): string {
    const head = [this.file, this.format ? `(${this.format})` : undefined].filter(Boolean).join(' ');
    let s = head ? `${head}: ${this.message}` : this.message;
    if (this.where) s += ` [at ${this.where}]`;
    if (this.hint) s += `${/[.?!:]$/.test(s) ? '' : '.'} ${this.hint}`;
    return s.replace(/\s*\n\s*/g, ' ');
  }
}

export function usageError(message: string, hint?: string): MconvError {
  return new MconvError({ kind: 'usage', message, hint });
}

export function unreadable(file: string | undefined, format: string | undefined, message: string, hint?: string, where?: string): MconvError {
  return new MconvError({ kind: 'unreadable', file, format, message, hint, where });
}

export function unsupported(file: string | undefined, format: string | undefined, message: string, hint?: string, where?: string): MconvError {
  return new MconvError({ kind: 'unsupported', file, format, message, hint, where });
}
