/**
 * Recognising an ONNX ModelProto from its first bytes. The head is parsed against the schema of
 * ModelProto and the messages it starts with (GraphProto, NodeProto, OperatorSetIdProto,
 * StringStringEntryProto): every field must be one of the message's fields with the right wire
 * type, text fields must be UTF-8 text, ir_version must be plausible, and enough fields must agree.
 * The head may end in the middle of a field (a big graph), which is fine; anything else is not.
 */

type FieldKind = 'varint' | 'text' | 'bytes' | Schema;
interface Schema {
  [field: number]: FieldKind;
}

const STRING_ENTRY: Schema = { 1: 'text', 2: 'text' };
const OPSET: Schema = { 1: 'text', 2: 'varint' };
const NODE: Schema = { 1: 'text', 2: 'text', 3: 'text', 4: 'text', 5: 'bytes', 6: 'text', 7: 'text', 8: 'text', 9: 'bytes', 10: 'bytes' };
const GRAPH: Schema = {
  1: NODE, 2: 'text', 5: 'bytes', 10: 'text', 11: 'bytes', 12: 'bytes', 13: 'bytes', 14: 'bytes', 15: 'bytes', 16: 'bytes',
};
const MODEL: Schema = {
  1: 'varint', 2: 'text', 3: 'text', 4: 'text', 5: 'varint', 6: 'text', 7: GRAPH, 8: OPSET, 14: STRING_ENTRY,
  20: 'bytes', 25: 'bytes', 26: 'bytes',
};

function varint(b: Uint8Array, pos: number, end: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return undefined;
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    mul *= 128;
    if ((x & 0x80) === 0) return [v, pos];
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isText(b: Uint8Array, partial: boolean): boolean {
  for (const x of b) if (x < 0x09 || (x > 0x0d && x < 0x20) || x === 0x7f) return false;
  try {
    utf8.decode(b);
    return true;
  } catch {
    // a head cut inside a multi-byte character is still text
    return partial && b.byteLength > 4 && isText(b.subarray(0, b.byteLength - 3), false);
  }
}

interface Verdict {
  ok: boolean;
  fields: number;
  irFirst: boolean;
}

/**
 * Checks bytes [pos, end) against `schema`. `headEnd` is where the available bytes stop: a field
 * that runs past it ends the check successfully (the rest is simply not in the head).
 */
function check(b: Uint8Array, pos: number, end: number, headEnd: number, schema: Schema, v: Verdict, depth: number): boolean {
  let first = true;
  while (pos < end) {
    const key = varint(b, pos, Math.min(end, headEnd));
    if (!key) return end > headEnd; // the head ends inside the key
    pos = key[1];
    const field = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    const kind = schema[field];
    if (kind === undefined) return false;
    if (kind === 'varint') {
      if (wire !== 0) return false;
      const val = varint(b, pos, Math.min(end, headEnd));
      if (!val) return end > headEnd;
      if (schema === MODEL && field === 1) {
        if (val[0] < 1 || val[0] > 12) return false;
        if (first) v.irFirst = true;
      }
      pos = val[1];
    } else {
      if (wire !== 2) return false;
      const len = varint(b, pos, Math.min(end, headEnd));
      if (!len) return end > headEnd;
      pos = len[1];
      const fieldEnd = pos + len[0];
      if (fieldEnd > end && end <= headEnd) return false; // longer than its enclosing message
      const avail = Math.min(fieldEnd, headEnd);
      if (kind === 'text') {
        if (!isText(b.subarray(pos, avail), fieldEnd > headEnd)) return false;
      } else if (kind !== 'bytes') {
        if (depth > 3 || !check(b, pos, fieldEnd, headEnd, kind, v, depth + 1)) return false;
      }
      if (fieldEnd > headEnd) {
        v.fields++;
        return true;
      }
      pos = fieldEnd;
    }
    v.fields++;
    first = false;
  }
  return pos === end || end > headEnd;
}

/** True when the head of a file parses as the start of an ONNX ModelProto. */
export function looksLikeOnnx(head: Uint8Array): boolean {
  if (head.byteLength < 4) return false;
  const v: Verdict = { ok: true, fields: 0, irFirst: false };
  // The whole ModelProto extends to the end of the file, beyond the head.
  if (!check(head, 0, Number.MAX_SAFE_INTEGER, head.byteLength, MODEL, v, 0)) return false;
  return v.irFirst ? v.fields >= 2 : v.fields >= 4;
}
