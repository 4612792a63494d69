# Runs ONNX's shape inference (python3-onnx, strict mode) on one-node models described as JSON on
# stdin: [{"name", "op", "domain", "opsets": {domain: version}, "inputs": [{"name", "elem", "dims"}],
# "outputs": [names], "attrs": {name: value}}]. Prints {name: {output: {"elem", "dims"}}}, or
# {name: {"error": message}} when onnx refuses the node. Used by test/ir/ops/training-rules.test.ts.
import json
import sys

import onnx
import onnx.shape_inference
from onnx import helper


def dims_of(t):
    if not t.HasField('shape'):
        return None
    out = []
    for d in t.shape.dim:
        if d.HasField('dim_value'):
            out.append(d.dim_value)
        elif d.HasField('dim_param'):
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


result = {}
for case in json.load(sys.stdin):
    ins = [helper.make_tensor_value_info(i['name'], i['elem'], i['dims']) for i in case['inputs']]
    node = helper.make_node(case['op'], [i['name'] for i in case['inputs']], case['outputs'],
                            domain=case.get('domain', ''), **case.get('attrs', {}))
    graph = helper.make_graph([node], 'g', ins, [])
    opsets = [helper.make_opsetid(d, v) for d, v in case['opsets'].items()]
    model = helper.make_model(graph, opset_imports=opsets)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as e:  # onnx refuses the node
        result[case['name']] = {'error': str(e)}
        continue
    found = {}
    for vi in inferred.graph.value_info:
        t = vi.type.tensor_type
        found[vi.name] = {'elem': t.elem_type, 'dims': dims_of(t)}
    result[case['name']] = found
print(json.dumps(result))
