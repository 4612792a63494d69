/**
 * The small call syntax of `--arch` files, a subset of Python's:
 *   module specs   `Conv2d(1, 10, kernel_size=(3, 3), padding=1)`   (as `print(model)` shows them)
 *   forward steps  `h = fc1(x)`, `sigmoid`, `softmax(dim=1)`, `y = add(a, b)`, `cat([a, b], dim=1)`
 * A call is `[NAME =] CALLEE [(ARGS)]`; CALLEE is a dotted path whose parts may be numbers
 * (`layer_stack.0`); ARGS are positional then keyword arguments. Argument values are numbers,
 * strings ('...' or "..."), True/False/None, names (values of the forward pass), and lists or
 * tuples of these.
 */

export type ArgValue = number | string | boolean | null | { ref: string } | ArgValue[];

export interface ParsedCall {
  /** The assigned name (`h` in `h = fc1(x)`), if any. */
  target?: string;
  callee: string;
  /** False for a bare name (`sigmoid`, `fc1`): no parentheses at all. */
  hasParens: boolean;
  args: ArgValue[];
  kwargs: Map<string, ArgValue>;
}

export class SyntaxProblem extends Error {
  constructor(message: string, readonly text: string, readonly pos: number) {
    super(message);
    this.name = 'SyntaxProblem';
  }
}

type Tok =
  | { t: 'name'; v: string; pos: number }
  | { t: 'num'; v: number; raw: string; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

function afterPathDot(out: Tok[]): boolean {
  const last = out[out.length - 1];
  return !!last && last.t === 'op' && last.v === '.';
}

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      out.push({ t: 'name', v: text.slice(start, i), pos: start });
      continue;
    }
    const last = out[out.length - 1];
    const afterOperand = !!last && (last.t === 'name' || last.t === 'num');
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? '') && !afterOperand && !afterPathDot(out))) {
      // Right after `name.` only an integer (a path part like `layer_stack.0.1`), never `0.1`.
      const re = afterPathDot(out)
        ? /^\d+/
        : /^(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+\.(?![A-Za-z_])(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/;
      const m = re.exec(text.slice(i))!;
      i += m[0].length;
      out.push({ t: 'num', v: Number(m[0]), raw: m[0], pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i];
        i++;
      }
      if (i >= text.length) throw new SyntaxProblem('unterminated string', text, start);
      i++;
      out.push({ t: 'str', v: s, pos: start });
      continue;
    }
    if ('()[],=.-'.includes(c)) {
      out.push({ t: 'op', v: c, pos: start });
      i++;
      continue;
    }
    throw new SyntaxProblem(`unexpected character '${c}'`, text, start);
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly text: string) {}

  peek(): Tok {
    return this.toks[this.i]!;
  }
  next(): Tok {
    return this.toks[this.i++]!;
  }
  isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  expectOp(v: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.v !== v) throw this.fail(`expected '${v}'`, t);
  }
  fail(msg: string, t: Tok = this.peek()): SyntaxProblem {
    const found = t.t === 'end' ? 'the end' : `'${this.text.slice(t.pos, t.pos + 12)}'`;
    return new SyntaxProblem(`${msg}, found ${found}`, this.text, t.pos);
  }

  /** A dotted path: `fc1`, `layer_stack.0`, `0`. */
  path(): string {
    const parts: string[] = [];
    for (;;) {
      const t = this.next();
      if (t.t === 'name') parts.push(t.v);
      else if (t.t === 'num' && /^\d+(\.\d+)?$/.test(t.raw)) parts.push(t.raw);
      else throw this.fail(parts.length ? 'expected a name after the dot' : 'expected a module or op name', t);
      if (!this.isOp('.')) break;
      this.next();
    }
    return parts.join('.');
  }

  value(): ArgValue {
    const t = this.next();
    if (t.t === 'num') return t.v;
    if (t.t === 'str') return t.v;
    if (t.t === 'op' && t.v === '-') {
      const n = this.next();
      if (n.t !== 'num') throw this.fail('expected a number after -', n);
      return -n.v;
    }
    if (t.t === 'name') {
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      if (t.v === 'None') return null;
      return { ref: t.v };
    }
    if (t.t === 'op' && (t.v === '[' || t.v === '(')) {
      const close = t.v === '[' ? ']' : ')';
      const items: ArgValue[] = [];
      while (!this.isOp(close)) {
        items.push(this.value());
        if (this.isOp(',')) this.next();
        else if (!this.isOp(close)) throw this.fail(`expected ',' or '${close}'`);
      }
      this.next();
      return items;
    }
    throw this.fail('expected a value', t);
  }

  call(): ParsedCall {
    let target: string | undefined;
    const t0 = this.toks[0]!;
    const t1 = this.toks[1]!;
    if (t0.t === 'name' && t1.t === 'op' && t1.v === '=') {
      target = t0.v;
      this.i = 2;
    }
    const callee = this.path();
    const args: ArgValue[] = [];
    const kwargs = new Map<string, ArgValue>();
    let hasParens = false;
    if (this.isOp('(')) {
      hasParens = true;
      this.next();
      while (!this.isOp(')')) {
        const a = this.peek();
        const b = this.toks[this.i + 1]!;
        if (a.t === 'name' && b.t === 'op' && b.v === '=') {
          this.i += 2;
          if (kwargs.has(a.v)) throw this.fail(`argument ${a.v} given twice`, a);
          kwargs.set(a.v, this.value());
        } else {
          if (kwargs.size) throw this.fail('a positional argument after keyword arguments', a);
          args.push(this.value());
        }
        if (this.isOp(',')) this.next();
        else if (!this.isOp(')')) throw this.fail("expected ',' or ')'");
      }
      this.next();
    }
    if (this.peek().t !== 'end') throw this.fail('unexpected text after the call');
    return { target, callee, hasParens, args, kwargs };
  }
}

/** Parses one call (`h = fc1(x)`, `Conv2d(1, 10, 3)`, `sigmoid`). Throws SyntaxProblem. */
export function parseCall(text: string): ParsedCall {
  return new Parser(tokenize(text), text).call();
}

/** Renders a value back as the syntax (for messages). */
export function showArg(v: ArgValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `(${v.map(showArg).join(', ')})`;
  return v.ref;
}
