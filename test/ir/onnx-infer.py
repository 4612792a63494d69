# Runs ONNX's own shape inference on models and prints, per model, every value's inferred
# element type (TensorProto code) and dims (number, symbolic name, or null when unknown).
# Used by test/ir/infer-reference.test.ts to check mconv's inference against onnx's.
import json
import sys

import onnx
import onnx.shape_inference

result = {}
for path in sys.argv[1:]:
    model = onnx.load(path)
    del model.graph.value_info[:]
    # Forget the declared output shapes too: only what inference derives counts.
    for out in model.graph.output:
        if out.type.HasField('tensor_type'):
            out.type.tensor_type.ClearField('shape')
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    values = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if not vi.type.HasField('tensor_type'):
            continue
        dims = None
        if t.HasField('shape'):
            dims = []
            for d in t.shape.dim:
                if d.HasField('dim_value'):
                    dims.append(d.dim_value)
                elif d.HasField('dim_param'):
                    dims.append(d.dim_param)
                else:
                    dims.append(None)
        values[vi.name] = {'elem': t.elem_type, 'dims': dims}
    result[path] = values
print(json.dumps(result))
