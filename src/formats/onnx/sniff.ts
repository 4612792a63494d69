/**
 * Recognising an ONNX ModelProto from its first bytes: every top-level field in the head must be a
 * ModelProto field with the right wire type, ir_version (when present) must be plausible, short
 * string fields must be text, and the head must hold a field only an ONNX model has (ir_version,
 * graph or opset_import).
 */
import { WIRE_LEN, WIRE_VARINT } from '../../io/protobuf-scan.js';
import { MODEL_FIELDS } from './proto.js';

function varint(b: Uint8Array, pos: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.byteLength) return undefined;
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    mul *= 128;
    if ((x & 0x80) === 0) return [v, pos];
  }
  return undefined;
}

export function looksLikeOnnx(head: Uint8Array): boolean {
  if (head.byteLength < 4) return false;
  let pos = 0;
  let fields = 0;
  let strong = false;
  while (pos < head.byteLength) {
    const key = varint(head, pos);
    if (!key) break;
    pos = key[1];
    const field = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    const expected = MODEL_FIELDS[field];
    if (expected === undefined || expected !== wire) return false;
    fields++;
    const val = varint(head, pos);
    if (!val) break;
    pos = val[1];
    if (wire === WIRE_VARINT) {
      if (field === 1) {
        if (val[0] < 1 || val[0] > 20) return false;
        strong = true;
      }
    } else if (wire === WIRE_LEN) {
      const n = val[0];
      if (field === 7 || field === 8) strong = true;
      if (pos + n > head.byteLength) break; // the head ends inside this field
      if ((field === 2 || field === 3 || field === 4) && !isText(head.subarray(pos, pos + n))) return false;
      pos += n;
    }
  }
  return fields > 0 && strong;
}

function isText(b: Uint8Array): boolean {
  for (const x of b) if (x < 0x09 || (x > 0x0d && x < 0x20) || x === 0x7f) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
