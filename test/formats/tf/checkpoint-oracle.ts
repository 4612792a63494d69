/**
 * Independent readers, in Python (Debian's python3), for checking mconv's TF checkpoint code: a
 * LevelDB table walker with its own snappy decoder, and a checkpoint reader that decodes
 * BundleEntryProto at the wire level and reads the data shards itself.
 */
import { execFileSync } from 'node:child_process';
import { PY } from '../../helpers/cli.js';

/** Walks a LevelDB table independently (footer, index, data blocks) and prints the keys, one per line. */
export const PY_TABLE = `
import sys, struct
b = open(sys.argv[1], 'rb').read()
def varint(buf, p):
    r = s = 0
    while True:
        x = buf[p]; p += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, p
def unsnappy(c):
    n, p = varint(c, 0)
    out = bytearray()
    while p < len(c):
        tag = c[p]; p += 1
        kind = tag & 3
        if kind == 0:
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(c[p:p + nb], 'little'); p += nb
            ln += 1
            out += c[p:p + ln]; p += ln
            continue
        if kind == 1:
            ln = ((tag >> 2) & 7) + 4; off = ((tag >> 5) << 8) | c[p]; p += 1
        elif kind == 2:
            ln = (tag >> 2) + 1; off = int.from_bytes(c[p:p + 2], 'little'); p += 2
        else:
            ln = (tag >> 2) + 1; off = int.from_bytes(c[p:p + 4], 'little'); p += 4
        for _ in range(ln):
            out.append(out[-off])
    assert len(out) == n
    return bytes(out)
def block(off, size):
    raw = b[off:off + size]
    return unsnappy(raw) if b[off + size] == 1 else raw
def entries(blk):
    n = struct.unpack('<I', blk[-4:])[0]
    end = len(blk) - 4 - 4 * n
    p = 0; prev = b''
    while p < end:
        sh, p = varint(blk, p); un, p = varint(blk, p); vl, p = varint(blk, p)
        k = prev[:sh] + blk[p:p + un]; p += un
        v = blk[p:p + vl]; p += vl
        yield k, v
        prev = k
f = b[-48:]
assert struct.unpack('<Q', f[-8:])[0] == 0xdb4775248b80fb57
p = 0
_, p = varint(f, p); _, p = varint(f, p)
io, p = varint(f, p); isz, p = varint(f, p)
for _, h in entries(block(io, isz)):
    o, q = varint(h, 0); s, q = varint(h, q)
    for k, _ in entries(block(o, s)):
        print(repr(k.decode()))
`;

/** Prints JSON: key -> {dtype, shape, shard, offset, size, sum (float32 tensors)} for a checkpoint prefix. */
const PY_CHECKPOINT = PY_TABLE.replace(/for _, h in entries[\s\S]*$/, '') + `
import json, os
def fields(buf):
    p = 0; out = {}
    while p < len(buf):
        k, p = varint(buf, p); f, w = k >> 3, k & 7
        if w == 0: v, p = varint(buf, p)
        elif w == 5: v = struct.unpack('<I', buf[p:p + 4])[0]; p += 4
        elif w == 1: v = buf[p:p + 8]; p += 8
        else:
            n, p = varint(buf, p); v = buf[p:p + n]; p += n
        out.setdefault(f, []).append(v)
    return out
prefix = sys.argv[1][:-len('.index')]
res = {}
nshards = 1
for _, h in entries(block(io, isz)):
    o, q = varint(h, 0); s, q = varint(h, q)
    for k, v in entries(block(o, s)):
        e = fields(v)
        if k == b'':
            nshards = e.get(1, [1])[0]
            continue
        shape = [fields(d).get(1, [0])[0] for d in fields(e[2][0]).get(2, [])] if 2 in e else []
        r = {'dtype': e.get(1, [0])[0], 'shape': shape, 'shard': e.get(3, [0])[0], 'offset': e.get(4, [0])[0], 'size': e.get(5, [0])[0]}
        res[k.decode()] = r
for k, r in res.items():
    if r['dtype'] == 1:
        name = '%s.data-%05d-of-%05d' % (prefix, r['shard'], nshards)
        with open(name, 'rb') as f:
            f.seek(r['offset']); data = f.read(r['size'])
        r['sum'] = sum(struct.unpack('<%df' % (len(data) // 4), data))
print(json.dumps(res))
`;

export interface PyEntry {
  dtype: number;
  shape: number[];
  shard: number;
  offset: number;
  size: number;
  sum?: number;
}

/** The checkpoint of an `.index` file as the Python reader sees it. */
export function pyCheckpoint(indexFile: string): Record<string, PyEntry> {
  return JSON.parse(execFileSync(PY, ['-c', PY_CHECKPOINT, indexFile], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Record<string, PyEntry>;
}

/** A .npy file's values (float32 as doubles), read by numpy. */
export function pyNpy(file: string): { shape: number[]; values: number[] } {
  const out = execFileSync(PY, ['-c', 'import numpy, json, sys; a = numpy.load(sys.argv[1]); print(json.dumps({"shape": list(a.shape), "values": a.astype("float64").ravel().tolist()}))', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out) as { shape: number[]; values: number[] };
}
