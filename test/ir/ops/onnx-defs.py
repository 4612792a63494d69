# Dumps ONNX operator schemas (default domain, opset 17) as JSON for test/ir/ops/schemas.test.ts.
import json
import sys

import onnx
import onnx.defs
from onnx import helper

KINDS = {
    'FLOAT': 'float', 'INT': 'int', 'STRING': 'string', 'TENSOR': 'tensor', 'GRAPH': 'graph', 'FLOATS': 'floats',
    'INTS': 'ints', 'STRINGS': 'strings', 'TENSORS': 'tensors', 'GRAPHS': 'graphs', 'SPARSE_TENSOR': 'sparse_tensor',
    'SPARSE_TENSORS': 'sparse_tensors', 'TYPE_PROTO': 'type_proto', 'TYPE_PROTOS': 'type_protos',
}

def param(p):
    opt = int(p.option)
    return {'name': p.name, 'optional': opt == 1, 'variadic': opt == 2}

out = {}
for op in sys.argv[1:]:
    try:
        s = onnx.defs.get_schema(op, 17, '')
    except Exception:
        continue
    attrs = {}
    for name, a in s.attributes.items():
        d = a.default_value
        v = helper.get_attribute_value(d) if d.type else None
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, list):
            v = [x.decode() if isinstance(x, bytes) else x for x in v]
        attrs[name] = {'kind': KINDS[str(a.type).split('.')[-1]], 'required': bool(a.required), 'default': v}
    out[op] = {'since': s.since_version, 'inputs': [param(p) for p in s.inputs],
               'outputs': [param(p) for p in s.outputs], 'attrs': attrs}
print(json.dumps(out))
