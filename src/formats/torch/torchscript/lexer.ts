/**
 * Tokenizer for TorchScript's printed Python: names (also `backtick quoted`), numbers, strings,
 * operators, and the NEWLINE / INDENT / DEDENT structure of Python blocks. Newlines inside
 * brackets continue the line, as in Python.
 */

export type TokKind = 'name' | 'num' | 'str' | 'op' | 'newline' | 'indent' | 'dedent' | 'eof';

export interface Token {
  kind: TokKind;
  /** Name, operator text, string content, or number text. */
  text: string;
  line: number;
  col: number;
}

export class CodeSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly col: number) {
    super(message);
    this.name = 'CodeSyntaxError';
  }
}

const OPS3 = ['**=', '//=', '>>=', '<<=', '...'];
const OPS2 = ['**', '//', '==', '!=', '<=', '>=', '->', '<<', '>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@='];
const OPS1 = '()[]{},:.;@=+-*/%<>&|^~';

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const indents = [0];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let atLineStart = true;
  const push = (kind: TokKind, text: string, at: number) => out.push({ kind, text, line, col: at - lineStart + 1 });
  const fail = (msg: string, at: number) => new CodeSyntaxError(msg, line, at - lineStart + 1);

  while (i < src.length) {
    if (atLineStart && depth === 0) {
      // Measure indentation; skip blank and comment-only lines.
      let j = i;
      let width = 0;
      while (j < src.length && (src[j] === ' ' || src[j] === '\t')) {
        width += src[j] === '\t' ? 8 - (width % 8) : 1;
        j++;
      }
      if (j >= src.length) {
        i = j;
        break;
      }
      if (src[j] === '\n' || src[j] === '#' || src[j] === '\r') {
        while (j < src.length && src[j] !== '\n') j++;
        i = j + 1;
        line++;
        lineStart = i;
        continue;
      }
      const top = indents[indents.length - 1]!;
      if (width > top) {
        indents.push(width);
        push('indent', '', j);
      } else {
        while (width < indents[indents.length - 1]!) {
          indents.pop();
          push('dedent', '', j);
        }
        if (width !== indents[indents.length - 1]) throw fail('the indentation does not match any outer block', j);
      }
      i = j;
      atLineStart = false;
    }
    const c = src[i]!;
    if (c === '\n') {
      if (depth === 0) {
        push('newline', '', i);
        atLineStart = true;
      }
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
      lineStart = i;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      // String prefixes (r'', b'', f''): TorchScript does not print them, but be safe.
      if ((src[i] === '"' || src[i] === "'") && /^[rRbBuU]{1,2}$/.test(src.slice(start, i))) {
        const raw = /r/i.test(src.slice(start, i));
        i = readString(src, i, raw, (s, end) => {
          push('str', s, start);
          return end;
        }, (m) => fail(m, start), () => line++);
        continue;
      }
      push('name', src.slice(start, i), start);
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0 || src.slice(i + 1, end).includes('\n')) throw fail('unterminated `quoted` name', i);
      push('name', src.slice(i + 1, end), start);
      i = end + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)[jJ]?/.exec(src.slice(i))!;
      i += m[0].length;
      push('num', m[0], start);
      continue;
    }
    if (c === '"' || c === "'") {
      i = readString(src, i, false, (s, end) => {
        push('str', s, start);
        return end;
      }, (m) => fail(m, start), () => line++);
      continue;
    }
    const three = src.slice(i, i + 3);
    const two = src.slice(i, i + 2);
    let op: string | undefined;
    if (OPS3.includes(three)) op = three;
    else if (OPS2.includes(two)) op = two;
    else if (OPS1.includes(c)) op = c;
    if (!op) throw fail(`unexpected character ${JSON.stringify(c)}`, i);
    if (op === '(' || op === '[' || op === '{') depth++;
    if (op === ')' || op === ']' || op === '}') depth = Math.max(0, depth - 1);
    push('op', op, start);
    i += op.length;
  }
  if (out.length && out[out.length - 1]!.kind !== 'newline' && out[out.length - 1]!.kind !== 'dedent') push('newline', '', i);
  while (indents.length > 1) {
    indents.pop();
    push('dedent', '', i);
  }
  push('eof', '', i);
  return out;
}

/** Reads a string literal at `i` (single or triple quoted); returns the index after it. */
function readString(
  src: string,
  i: number,
  raw: boolean,
  emit: (s: string, end: number) => number,
  fail: (m: string) => Error,
  newline: () => void,
): number {
  const q = src[i]!;
  const triple = src.slice(i, i + 3) === q.repeat(3);
  let j = i + (triple ? 3 : 1);
  let s = '';
  for (;;) {
    if (j >= src.length) throw fail('unterminated string');
    const ch = src[j]!;
    if (triple ? src.slice(j, j + 3) === q.repeat(3) : ch === q) {
      j += triple ? 3 : 1;
      break;
    }
    if (ch === '\n') {
      if (!triple) throw fail('unterminated string');
      newline();
    }
    if (ch === '\\' && !raw) {
      const nx = src[j + 1] ?? '';
      if (nx === 'x' || nx === 'u' || nx === 'U') {
        const len = nx === 'x' ? 2 : nx === 'u' ? 4 : 8;
        const hex = src.slice(j + 2, j + 2 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw fail('bad escape in string');
        s += String.fromCodePoint(parseInt(hex, 16));
        j += 2 + len;
        continue;
      }
      if (nx === '\n') {
        newline();
        j += 2;
        continue;
      }
      s += ESCAPES[nx] ?? `\\${nx}`;
      j += 2;
      continue;
    }
    s += ch;
    j++;
  }
  return emit(s, j);
}
