/**
 * Protobuf text format (what `tf.io.write_graph(..., as_text=True)` writes as `.pbtxt`), parsed
 * against our TF message descriptions: `field: value`, `field { ... }` (or `< ... >`), repeated
 * fields repeated or as `[a, b]` lists, maps as repeated `{ key: ... value: ... }` entries, strings
 * with C escapes (adjacent strings concatenated), `#` comments, enum names (`DT_FLOAT`) for the
 * data type fields. Fields our descriptions do not name are skipped. The result goes through
 * protobufjs' `fromObject`, so it has the same shape as a decoded binary message.
 */
import protobuf from 'protobufjs';
import { TF_DTYPE_NAMES } from './tf-graph.js';
import { TfProtoError, graphFromProto, tfMessage, type PMsg } from './proto.js';
import type { TfGraph } from './tf-graph.js';

const DTYPE_BY_NAME = new Map<string, number>();
for (const [n, name] of Object.entries(TF_DTYPE_NAMES)) {
  DTYPE_BY_NAME.set(name, Number(n));
  DTYPE_BY_NAME.set(`${name}_REF`, Number(n) + 100);
}
DTYPE_BY_NAME.set('DT_INVALID', 0);

type Token = { kind: 'id' | 'str' | 'punct'; text: string; bytes?: Uint8Array; pos: number };

function unescape(body: string, pos: number): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      const code = body.charCodeAt(i);
      if (code < 0x80) out.push(code);
      else {
        // A non-ASCII character: its UTF-8 bytes (surrogate pairs kept together).
        const cp = body.codePointAt(i)!;
        out.push(...enc.encode(String.fromCodePoint(cp)));
        if (cp > 0xffff) i++;
      }
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out.push(10); break;
      case 't': out.push(9); break;
      case 'r': out.push(13); break;
      case 'a': out.push(7); break;
      case 'b': out.push(8); break;
      case 'f': out.push(12); break;
      case 'v': out.push(11); break;
      case '\\': case "'": case '"': case '?': out.push(n.charCodeAt(0)); break;
      case 'x': case 'X': {
        const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1));
        if (!m) throw new TfProtoError('text format', `bad \\x escape at character ${pos + i}`);
        out.push(parseInt(m[0], 16));
        i += m[0].length;
        break;
      }
      default: {
        const m = /^[0-7]{1,3}/.exec(body.slice(i));
        if (!m) throw new TfProtoError('text format', `bad escape \\${n ?? ''} at character ${pos + i}`);
        out.push(parseInt(m[0], 8) & 0xff);
        i += m[0].length - 1;
      }
    }
  }
  return new Uint8Array(out);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        if (text[j] === '\n') break;
        j++;
      }
      if (text[j] !== c) throw new TfProtoError('text format', `unterminated string at character ${i}`);
      tokens.push({ kind: 'str', text: text.slice(i, j + 1), bytes: unescape(text.slice(i + 1, j), i + 1), pos: i });
      i = j + 1;
      continue;
    }
    if ('{}<>[]:,;'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_.+-]+/.exec(text.slice(i, i + 400));
    if (!m) throw new TfProtoError('text format', `unexpected character ${JSON.stringify(c)} at character ${i}`);
    tokens.push({ kind: 'id', text: m[0], pos: i });
    i += m[0].length;
  }
  return tokens;
}

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, x: string) => x.toUpperCase());

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new TfProtoError('text format', `unexpected end of text, expected ${what}`);
    return t;
  }
  private fail(t: Token, what: string): never {
    throw new TfProtoError('text format', `expected ${what} at character ${t.pos}, found ${JSON.stringify(t.text)}`);
  }
  private accept(p: string): boolean {
    const t = this.peek();
    if (t?.kind === 'punct' && t.text === p) {
      this.i++;
      return true;
    }
    return false;
  }

  /** Fields until `end` ('}' / '>' or undefined for the top level). */
  message(type: protobuf.Type, end?: string): PMsg {
    const obj: PMsg = {};
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (end) throw new TfProtoError('text format', `unexpected end of text, expected ${JSON.stringify(end)}`);
        return obj;
      }
      if (end && t.kind === 'punct' && t.text === end) {
        this.i++;
        return obj;
      }
      const nameTok = this.next('a field name');
      if (nameTok.kind !== 'id') this.fail(nameTok, 'a field name');
      const field = type.fields[camel(nameTok.text)] ?? type.fields[nameTok.text];
      const isMessage = !!field && (field.resolvedType instanceof protobuf.Type);
      const colon = this.accept(':');
      const list = this.accept('[');
      const values: unknown[] = [];
      if (list) {
        if (!this.accept(']')) {
          do values.push(this.value(field, isMessage)); while (this.accept(','));
          const close = this.next("']'");
          if (close.text !== ']') this.fail(close, "']'");
        }
      } else {
        if (!colon && !(this.peek()?.text === '{' || this.peek()?.text === '<')) this.fail(this.peek() ?? nameTok, "':' or '{'");
        values.push(this.value(field, isMessage));
      }
      this.accept(',') || this.accept(';');
      if (!field) continue; // unknown field: parsed and dropped
      const key = field.name;
      if (field.map) {
        const map = (obj[key] ??= {}) as Record<string, unknown>;
        for (const v of values) {
          const e = v as { key?: unknown; value?: unknown };
          map[String(e.key ?? '')] = e.value ?? {};
        }
      } else if (field.repeated) {
        ((obj[key] ??= []) as unknown[]).push(...values);
      } else {
        obj[key] = values[values.length - 1];
      }
    }
  }

  private value(field: protobuf.Field | undefined, isMessage: boolean): unknown {
    const t = this.peek();
    if (t?.kind === 'punct' && (t.text === '{' || t.text === '<')) {
      this.i++;
      const end = t.text === '{' ? '}' : '>';
      if (field?.map) {
        // A map entry: key and value, the value typed by the map.
        const entryType = new protobuf.Type('Entry')
          .add(new protobuf.Field('key', 1, (field as unknown as protobuf.MapField).keyType ?? 'string'))
          .add(new protobuf.Field('value', 2, field.type));
        if (field.resolvedType) (entryType.fields.value as protobuf.Field).resolvedType = field.resolvedType;
        return this.message(entryType, end);
      }
      if (field && isMessage) return this.message(field.resolvedType as protobuf.Type, end);
      return this.skipMessage(end);
    }
    const v = this.next('a value');
    if (v.kind === 'punct') this.fail(v, 'a value');
    if (v.kind === 'str') {
      let bytes = v.bytes!;
      // Adjacent strings concatenate.
      while (this.peek()?.kind === 'str') {
        const more = this.next('a string').bytes!;
        const joined = new Uint8Array(bytes.length + more.length);
        joined.set(bytes);
        joined.set(more, bytes.length);
        bytes = joined;
      }
      return field?.type === 'bytes' ? bytes : new TextDecoder().decode(bytes);
    }
    return this.scalar(field, v);
  }

  private scalar(field: protobuf.Field | undefined, v: Token): unknown {
    const s = v.text;
    const type = field?.type;
    if (!field) return s;
    if (type === 'bool') {
      if (/^(true|t|1)$/i.test(s)) return true;
      if (/^(false|f|0)$/i.test(s)) return false;
      this.fail(v, 'true or false');
    }
    if (field.resolvedType instanceof protobuf.Enum) {
      const n = field.resolvedType.values[s];
      return n ?? Number(s);
    }
    if (type === 'float' || type === 'double') {
      const f = s.replace(/([0-9.])[fF]$/, '$1').toLowerCase();
      if (f === 'inf' || f === 'infinity' || f === '+inf') return Infinity;
      if (f === '-inf' || f === '-infinity') return -Infinity;
      if (f === 'nan') return NaN;
      const x = Number(f);
      if (Number.isNaN(x)) this.fail(v, 'a number');
      return x;
    }
    if (/^(u?int|s?fixed|sint)(32|64)$/.test(type ?? '')) {
      // Data type fields are int32 here (wire-compatible with TF's enum): accept the enum names.
      const named = DTYPE_BY_NAME.get(s);
      if (named !== undefined) return named;
      if (!/^[-+]?(0x[0-9a-f]+|\d+)$/i.test(s)) this.fail(v, 'an integer');
      return type!.endsWith('64') ? BigInt(s).toString() : Number(s);
    }
    return s;
  }

  private skipMessage(end: string): null {
    let depth = 1;
    while (depth > 0) {
      const t = this.next(JSON.stringify(end));
      if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) depth++;
      else if (t.kind === 'punct' && (t.text === '}' || t.text === '>')) depth--;
    }
    return null;
  }
}

/** Parses text-format `text` as message `name` (e.g. 'GraphDef'); throws TfProtoError. */
export function parseTextMessage(name: string, text: string): PMsg {
  const type = tfMessage(name);
  const obj = new Parser(tokenize(text)).message(type);
  try {
    return type.fromObject(obj) as unknown as PMsg;
  } catch (e) {
    throw new TfProtoError(name, (e as Error).message);
  }
}

/** A text-format GraphDef (`.pbtxt`) as TfGraph. */
export function decodeGraphDefText(text: string): TfGraph {
  return graphFromProto(parseTextMessage('GraphDef', text));
}

/** True when a head looks like a text-format GraphDef: comments, then `node {` (or `versions`/`library`). */
export function looksLikeGraphDefText(head: Uint8Array): boolean {
  const s = new TextDecoder().decode(head.subarray(0, 512)).replace(/^(\s*#[^\n]*\n)*\s*/, '');
  return /^(node|library|versions)\s*[:{<]/.test(s);
}
