/**
 * Syntax tree of the Python subset TorchScript's serializer prints into `code/**.py`:
 * classes with annotated attributes and methods, functions, assignments, `if`/`for`/`while`,
 * calls with keyword arguments, attribute chains, subscripts and the usual operators.
 * Every node keeps its line for messages.
 */

export interface Loc {
  line: number;
}

export type Expr =
  | ({ k: 'name'; id: string } & Loc)
  | ({ k: 'const'; value: number | string | boolean | null; isFloat?: boolean } & Loc)
  | ({ k: 'attr'; value: Expr; attr: string } & Loc)
  | ({ k: 'call'; func: Expr; args: Expr[]; kwargs: { name: string; value: Expr }[] } & Loc)
  | ({ k: 'subscript'; value: Expr; index: Expr } & Loc)
  | ({ k: 'slice'; lower?: Expr; upper?: Expr; step?: Expr } & Loc)
  | ({ k: 'tuple'; items: Expr[] } & Loc)
  | ({ k: 'list'; items: Expr[] } & Loc)
  | ({ k: 'dict'; keys: Expr[]; values: Expr[] } & Loc)
  | ({ k: 'unary'; op: '-' | '+' | 'not' | '~'; operand: Expr } & Loc)
  | ({ k: 'binary'; op: string; left: Expr; right: Expr } & Loc)
  | ({ k: 'compare'; first: Expr; ops: string[]; rest: Expr[] } & Loc)
  | ({ k: 'bool'; op: 'and' | 'or'; values: Expr[] } & Loc)
  | ({ k: 'ifexp'; test: Expr; body: Expr; orelse: Expr } & Loc);

export interface Param {
  name: string;
  annotation?: Expr;
  default?: Expr;
}

export interface FunctionDef extends Loc {
  k: 'def';
  name: string;
  params: Param[];
  returns?: Expr;
  body: Stmt[];
  /** The code file it was read from (`code/__torch__/torch/nn/functional.py`). */
  file: string;
}

export interface ClassDef extends Loc {
  k: 'class';
  name: string;
  bases: Expr[];
  /** Annotated attributes (`training : bool`, `eps : Final[float] = 1e-05`). */
  attributes: Map<string, { annotation: Expr; value?: Expr }>;
  methods: Map<string, FunctionDef>;
  file: string;
}

export type Stmt =
  | ({ k: 'assign'; targets: Expr[]; value: Expr } & Loc)
  | ({ k: 'annassign'; target: Expr; annotation: Expr; value?: Expr } & Loc)
  | ({ k: 'augassign'; target: Expr; op: string; value: Expr } & Loc)
  | ({ k: 'expr'; value: Expr } & Loc)
  | ({ k: 'return'; value?: Expr } & Loc)
  | ({ k: 'if'; test: Expr; body: Stmt[]; orelse: Stmt[] } & Loc)
  | ({ k: 'for'; target: Expr; iter: Expr; body: Stmt[] } & Loc)
  | ({ k: 'while'; test: Expr; body: Stmt[] } & Loc)
  | ({ k: 'raise'; value?: Expr } & Loc)
  | ({ k: 'assert'; test: Expr; msg?: Expr } & Loc)
  | ({ k: 'pass' | 'break' | 'continue' } & Loc)
  | FunctionDef
  | ClassDef;

/** A parsed code file: its top-level classes and functions by name. */
export interface CodeModule {
  file: string;
  classes: Map<string, ClassDef>;
  functions: Map<string, FunctionDef>;
  /** Top-level assignments (`op_version_set = 1`), kept unevaluated. */
  globals: Map<string, Expr>;
}
