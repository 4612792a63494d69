/**
 * Recursive-descent parser for TorchScript's printed Python (see ast.ts for what it covers).
 * `parseCode(text, file)` returns the file's classes, functions and top-level assignments;
 * syntax errors are CodeSyntaxErrors with the line and column.
 */
import type { ClassDef, CodeModule, Expr, FunctionDef, Param, Stmt } from './ast.js';
import { CodeSyntaxError, tokenize, type Token } from './lexer.js';

const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=', 'in', 'is']);
const AUG_OPS = new Set(['+=', '-=', '*=', '/=', '//=', '%=', '**=', '&=', '|=', '^=', '<<=', '>>=', '@=']);
const KEYWORDS = new Set(['and', 'or', 'not', 'if', 'else', 'elif', 'for', 'while', 'in', 'is', 'def', 'class', 'return', 'pass', 'break', 'continue', 'raise', 'assert', 'import', 'from', 'lambda', 'del', 'global', 'nonlocal', 'with', 'as', 'try', 'except', 'finally', 'yield']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly file: string) {}

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.toks[this.i]!;
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private isOp(text: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === 'op' && t.text === text;
  }
  private isKw(text: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === text;
  }
  private eatOp(text: string): boolean {
    if (this.isOp(text)) {
      this.next();
      return true;
    }
    return false;
  }
  private fail(msg: string, t: Token = this.peek()): CodeSyntaxError {
    const found = t.kind === 'eof' ? 'the end of the file' : t.kind === 'newline' ? 'the end of the line' : t.kind === 'indent' ? 'an indent' : t.kind === 'dedent' ? 'a dedent' : `'${t.text}'`;
    return new CodeSyntaxError(`${msg}, found ${found}`, t.line, t.col);
  }
  private expectOp(text: string): Token {
    if (!this.isOp(text)) throw this.fail(`expected '${text}'`);
    return this.next();
  }
  private expectKw(text: string): void {
    if (!this.isKw(text)) throw this.fail(`expected '${text}'`);
    this.next();
  }
  private expectName(): string {
    const t = this.peek();
    if (t.kind !== 'name' || KEYWORDS.has(t.text)) throw this.fail('expected a name');
    this.next();
    return t.text;
  }
  /** True when more simple statements follow on the same line (after a `;`). */
  private moreOnLine = false;

  private endOfSimple(): void {
    this.moreOnLine = false;
    if (this.eatOp(';') && this.peek().kind !== 'newline' && this.peek().kind !== 'eof') {
      this.moreOnLine = true;
      return;
    }
    if (this.peek().kind === 'newline') {
      this.next();
      return;
    }
    if (this.peek().kind === 'eof' || this.peek().kind === 'dedent') return;
    throw this.fail('expected the end of the statement');
  }

  // --- files ----------------------------------------------------------------------------------

  module(): CodeModule {
    const mod: CodeModule = { file: this.file, classes: new Map(), functions: new Map(), globals: new Map() };
    while (this.peek().kind !== 'eof') {
      if (this.peek().kind === 'newline') {
        this.next();
        continue;
      }
      if (this.isKw('import') || this.isKw('from')) {
        this.skipLine();
        continue;
      }
      const s = this.statement();
      if (s.k === 'class') mod.classes.set(s.name, s);
      else if (s.k === 'def') mod.functions.set(s.name, s);
      else if (s.k === 'assign' && s.targets.length === 1 && s.targets[0]!.k === 'name') mod.globals.set(s.targets[0]!.id, s.value);
    }
    return mod;
  }

  private skipLine(): void {
    while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.next();
    if (this.peek().kind === 'newline') this.next();
  }

  // --- statements -----------------------------------------------------------------------------

  private block(): Stmt[] {
    this.expectOp(':');
    if (this.peek().kind !== 'newline') {
      // `if x: return y` on one line
      const out: Stmt[] = [];
      do out.push(this.simpleStatement());
      while (this.moreOnLine);
      return out;
    }
    this.next();
    if (this.peek().kind !== 'indent') throw this.fail('expected an indented block');
    this.next();
    const body: Stmt[] = [];
    while (this.peek().kind !== 'dedent' && this.peek().kind !== 'eof') {
      if (this.peek().kind === 'newline') {
        this.next();
        continue;
      }
      body.push(this.statement());
    }
    if (this.peek().kind === 'dedent') this.next();
    return body;
  }

  private statement(): Stmt {
    const t = this.peek();
    if (t.kind === 'name') {
      switch (t.text) {
        case 'class': return this.classDef();
        case 'def': return this.funcDef();
        case 'if': return this.ifStmt();
        case 'for': {
          this.next();
          const target = this.targetList();
          this.expectKw('in');
          const iter = this.testList();
          return { k: 'for', target, iter, body: this.block(), line: t.line };
        }
        case 'while': {
          this.next();
          const test = this.test();
          return { k: 'while', test, body: this.block(), line: t.line };
        }
        case 'import':
        case 'from':
          this.skipLine();
          return { k: 'pass', line: t.line };
        default: break;
      }
    }
    return this.simpleStatement();
  }

  private simpleStatement(): Stmt {
    const t = this.peek();
    let s: Stmt;
    if (t.kind === 'name' && (t.text === 'pass' || t.text === 'break' || t.text === 'continue')) {
      this.next();
      s = { k: t.text, line: t.line };
    } else if (t.kind === 'name' && t.text === 'return') {
      this.next();
      const atEnd = this.peek().kind === 'newline' || this.isOp(';') || this.peek().kind === 'eof';
      s = { k: 'return', value: atEnd ? undefined : this.testList(), line: t.line };
    } else if (t.kind === 'name' && t.text === 'raise') {
      this.next();
      const atEnd = this.peek().kind === 'newline' || this.peek().kind === 'eof';
      s = { k: 'raise', value: atEnd ? undefined : this.test(), line: t.line };
      if (this.isKw('from')) {
        this.next();
        this.test();
      }
    } else if (t.kind === 'name' && t.text === 'assert') {
      this.next();
      const test = this.test();
      const msg = this.eatOp(',') ? this.test() : undefined;
      s = { k: 'assert', test, msg, line: t.line };
    } else if (t.kind === 'name' && (t.text === 'del' || t.text === 'global' || t.text === 'nonlocal')) {
      while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof' && !this.isOp(';')) this.next();
      s = { k: 'pass', line: t.line };
    } else {
      const first = this.testList();
      if (this.isOp(':')) {
        this.next();
        const annotation = this.test();
        const value = this.eatOp('=') ? this.testList() : undefined;
        s = { k: 'annassign', target: first, annotation, value, line: t.line };
      } else if (this.peek().kind === 'op' && AUG_OPS.has(this.peek().text)) {
        const op = this.next().text.slice(0, -1);
        s = { k: 'augassign', target: first, op, value: this.testList(), line: t.line };
      } else if (this.isOp('=')) {
        const targets = [first];
        let value: Expr = first;
        while (this.eatOp('=')) {
          value = this.testList();
          targets.push(value);
        }
        targets.pop();
        s = { k: 'assign', targets, value, line: t.line };
      } else {
        s = { k: 'expr', value: first, line: t.line };
      }
    }
    this.endOfSimple();
    return s;
  }

  private ifStmt(): Stmt {
    const t = this.next(); // 'if' or 'elif'
    const test = this.test();
    const body = this.block();
    let orelse: Stmt[] = [];
    if (this.isKw('elif')) orelse = [this.ifStmt()];
    else if (this.isKw('else')) {
      this.next();
      orelse = this.block();
    }
    return { k: 'if', test, body, orelse, line: t.line };
  }

  private funcDef(): FunctionDef {
    const t = this.next();
    const name = this.expectName();
    this.expectOp('(');
    const params: Param[] = [];
    while (!this.isOp(')')) {
      if (this.eatOp('*') || this.eatOp('**')) {
        if (this.peek().kind === 'name') this.next();
      } else {
        const pname = this.expectName();
        const annotation = this.eatOp(':') ? this.test() : undefined;
        const dflt = this.eatOp('=') ? this.test() : undefined;
        params.push({ name: pname, annotation, default: dflt });
      }
      if (!this.eatOp(',')) break;
    }
    this.expectOp(')');
    const returns = this.eatOp('->') ? this.test() : undefined;
    const body = this.block();
    return { k: 'def', name, params, returns, body, file: this.file, line: t.line };
  }

  private classDef(): ClassDef {
    const t = this.next();
    const name = this.expectName();
    const bases: Expr[] = [];
    if (this.eatOp('(')) {
      while (!this.isOp(')')) {
        bases.push(this.test());
        if (!this.eatOp(',')) break;
      }
      this.expectOp(')');
    }
    const cls: ClassDef = { k: 'class', name, bases, attributes: new Map(), methods: new Map(), file: this.file, line: t.line };
    for (const s of this.block()) {
      if (s.k === 'def') cls.methods.set(s.name, s);
      else if (s.k === 'annassign' && s.target.k === 'name') cls.attributes.set(s.target.id, { annotation: s.annotation, value: s.value });
      // `__parameters__ = [...]`, `__annotations__["0"] = T`, docstrings: nothing to keep.
    }
    return cls;
  }

  // --- expressions ----------------------------------------------------------------------------

  /** Comma-separated tests; more than one (or a trailing comma) makes a tuple. */
  private testList(): Expr {
    const line = this.peek().line;
    const first = this.test();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.eatOp(',')) {
      if (this.atExprEnd()) break;
      items.push(this.test());
    }
    return { k: 'tuple', items, line };
  }

  /** Targets of `for`: stops before `in`. */
  private targetList(): Expr {
    const line = this.peek().line;
    const first = this.orExpr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.eatOp(',')) {
      if (this.isKw('in')) break;
      items.push(this.orExpr());
    }
    return { k: 'tuple', items, line };
  }

  private atExprEnd(): boolean {
    const t = this.peek();
    if (t.kind === 'newline' || t.kind === 'eof' || t.kind === 'dedent') return true;
    return t.kind === 'op' && [')', ']', '}', '=', ':', ';'].includes(t.text);
  }

  private test(): Expr {
    const line = this.peek().line;
    const body = this.orTest();
    if (this.isKw('if')) {
      this.next();
      const test = this.orTest();
      this.expectKw('else');
      const orelse = this.test();
      return { k: 'ifexp', test, body, orelse, line };
    }
    return body;
  }

  private orTest(): Expr {
    const line = this.peek().line;
    const first = this.andTest();
    if (!this.isKw('or')) return first;
    const values = [first];
    while (this.isKw('or')) {
      this.next();
      values.push(this.andTest());
    }
    return { k: 'bool', op: 'or', values, line };
  }

  private andTest(): Expr {
    const line = this.peek().line;
    const first = this.notTest();
    if (!this.isKw('and')) return first;
    const values = [first];
    while (this.isKw('and')) {
      this.next();
      values.push(this.notTest());
    }
    return { k: 'bool', op: 'and', values, line };
  }

  private notTest(): Expr {
    if (this.isKw('not')) {
      const t = this.next();
      return { k: 'unary', op: 'not', operand: this.notTest(), line: t.line };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const line = this.peek().line;
    const first = this.orExpr();
    const ops: string[] = [];
    const rest: Expr[] = [];
    for (;;) {
      const t = this.peek();
      let op: string | undefined;
      if (t.kind === 'op' && COMPARE_OPS.has(t.text)) {
        this.next();
        op = t.text;
      } else if (t.kind === 'name' && t.text === 'in') {
        this.next();
        op = 'in';
      } else if (t.kind === 'name' && t.text === 'is') {
        this.next();
        op = this.isKw('not') ? (this.next(), 'is not') : 'is';
      } else if (t.kind === 'name' && t.text === 'not' && this.peek(1).kind === 'name' && this.peek(1).text === 'in') {
        this.next();
        this.next();
        op = 'not in';
      }
      if (!op) break;
      ops.push(op);
      rest.push(this.orExpr());
    }
    return ops.length ? { k: 'compare', first, ops, rest, line } : first;
  }

  private binaryLevel(ops: string[], next: () => Expr): Expr {
    let left = next();
    while (this.peek().kind === 'op' && ops.includes(this.peek().text)) {
      const t = this.next();
      left = { k: 'binary', op: t.text, left, right: next(), line: t.line };
    }
    return left;
  }

  private orExpr(): Expr {
    return this.binaryLevel(['|'], () => this.binaryLevel(['^'], () => this.binaryLevel(['&'], () => this.binaryLevel(['<<', '>>'], () => this.arith()))));
  }

  private arith(): Expr {
    return this.binaryLevel(['+', '-'], () => this.binaryLevel(['*', '/', '//', '%', '@'], () => this.factor()));
  }

  private factor(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      this.next();
      const operand = this.factor();
      // Fold negative literals so `-1` is a constant.
      if (t.text === '-' && operand.k === 'const' && typeof operand.value === 'number') return { ...operand, value: -operand.value };
      return { k: 'unary', op: t.text as '-' | '+' | '~', operand, line: t.line };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.atomExpr();
    if (this.isOp('**')) {
      const t = this.next();
      return { k: 'binary', op: '**', left: base, right: this.factor(), line: t.line };
    }
    return base;
  }

  private atomExpr(): Expr {
    let e = this.atom();
    for (;;) {
      const t = this.peek();
      if (this.isOp('(')) {
        this.next();
        const args: Expr[] = [];
        const kwargs: { name: string; value: Expr }[] = [];
        while (!this.isOp(')')) {
          if (this.peek().kind === 'name' && this.isOp('=', 1)) {
            const name = this.next().text;
            this.next();
            kwargs.push({ name, value: this.test() });
          } else {
            if (kwargs.length) throw this.fail('a positional argument after keyword arguments');
            args.push(this.test());
          }
          if (!this.eatOp(',')) break;
        }
        this.expectOp(')');
        e = { k: 'call', func: e, args, kwargs, line: t.line };
      } else if (this.isOp('[')) {
        this.next();
        const index = this.subscriptList();
        this.expectOp(']');
        e = { k: 'subscript', value: e, index, line: t.line };
      } else if (this.isOp('.')) {
        this.next();
        const nt = this.peek();
        if (nt.kind !== 'name') throw this.fail('expected an attribute name after the dot');
        this.next();
        e = { k: 'attr', value: e, attr: nt.text, line: t.line };
      } else break;
    }
    return e;
  }

  private subscriptList(): Expr {
    const line = this.peek().line;
    const first = this.subscript();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.eatOp(',')) {
      if (this.isOp(']')) break;
      items.push(this.subscript());
    }
    return { k: 'tuple', items, line };
  }

  private subscript(): Expr {
    const line = this.peek().line;
    const bound = () => (this.isOp(':') || this.isOp(']') || this.isOp(',') ? undefined : this.test());
    const lower = bound();
    if (!this.isOp(':')) {
      if (!lower) throw this.fail('expected an index');
      return lower;
    }
    this.next();
    const upper = bound();
    const step = this.eatOp(':') ? bound() : undefined;
    return { k: 'slice', lower, upper, step, line };
  }

  private atom(): Expr {
    const t = this.peek();
    const line = t.line;
    if (t.kind === 'num') {
      this.next();
      return parseNumber(t);
    }
    if (t.kind === 'str') {
      let s = '';
      while (this.peek().kind === 'str') s += this.next().text;
      return { k: 'const', value: s, line };
    }
    if (t.kind === 'name') {
      if (t.text === 'None') return this.next(), { k: 'const', value: null, line };
      if (t.text === 'True') return this.next(), { k: 'const', value: true, line };
      if (t.text === 'False') return this.next(), { k: 'const', value: false, line };
      if (KEYWORDS.has(t.text)) throw this.fail('expected an expression');
      this.next();
      return { k: 'name', id: t.text, line };
    }
    if (this.isOp('(')) {
      this.next();
      if (this.eatOp(')')) return { k: 'tuple', items: [], line };
      const first = this.test();
      if (this.eatOp(')')) return first;
      const items = [first];
      while (this.eatOp(',')) {
        if (this.isOp(')')) break;
        items.push(this.test());
      }
      this.expectOp(')');
      return { k: 'tuple', items, line };
    }
    if (this.isOp('[')) {
      this.next();
      const items: Expr[] = [];
      while (!this.isOp(']')) {
        items.push(this.test());
        if (!this.eatOp(',')) break;
      }
      this.expectOp(']');
      return { k: 'list', items, line };
    }
    if (this.isOp('{')) {
      this.next();
      const keys: Expr[] = [];
      const values: Expr[] = [];
      while (!this.isOp('}')) {
        keys.push(this.test());
        this.expectOp(':');
        values.push(this.test());
        if (!this.eatOp(',')) break;
      }
      this.expectOp('}');
      return { k: 'dict', keys, values, line };
    }
    if (this.isOp('...')) {
      this.next();
      return { k: 'const', value: null, line };
    }
    throw this.fail('expected an expression');
  }
}

function parseNumber(t: Token): Expr {
  const text = t.text.replace(/_/g, '');
  if (/[jJ]$/.test(text)) throw new CodeSyntaxError('complex literals are not supported', t.line, t.col);
  if (/^0[xX]/.test(text)) return { k: 'const', value: parseInt(text.slice(2), 16), line: t.line };
  if (/^0[oO]/.test(text)) return { k: 'const', value: parseInt(text.slice(2), 8), line: t.line };
  if (/^0[bB]/.test(text)) return { k: 'const', value: parseInt(text.slice(2), 2), line: t.line };
  const isFloat = /[.eE]/.test(text);
  return { k: 'const', value: Number(text), isFloat, line: t.line };
}

/** Parses one code file. Throws CodeSyntaxError. */
export function parseCode(text: string, file: string): CodeModule {
  return new Parser(tokenize(text), file).module();
}
