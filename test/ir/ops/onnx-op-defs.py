# Prints ONNX operator schemas (Debian python3-onnx) as JSON for test/ir/ops/coverage.test.ts.
# Arguments: DOMAIN:OP:VERSION (an empty DOMAIN is the default ai.onnx domain). For each op:
# since-version, inputs and outputs (name, optional, variadic) and attributes (kind,
# required, default). Ops the installed onnx does not know are left out.
import json
import sys

import onnx.defs
from onnx import helper

out = {}
for arg in sys.argv[1:]:
    domain, op, version = arg.split(':')
    try:
        s = onnx.defs.get_schema(op, int(version), domain)
    except Exception:
        continue

    def param(p):
        option = int(p.option)  # 0 single, 1 optional, 2 variadic
        return {'name': p.name, 'optional': option == 1, 'variadic': option == 2}

    attrs = {}
    for name, a in s.attributes.items():
        d = a.default_value
        v = helper.get_attribute_value(d) if d.type else None
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, list):
            v = [x.decode() if isinstance(x, bytes) else x for x in v]
        kind = str(a.type).split('.')[-1].lower()
        attrs[name] = {'kind': kind, 'required': bool(a.required), 'default': v}
    out[f'{domain}:{op}'] = {'since': s.since_version, 'inputs': [param(p) for p in s.inputs],
                             'outputs': [param(p) for p in s.outputs], 'attrs': attrs}
print(json.dumps(out))
