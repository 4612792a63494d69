"""Exports torchvision classifiers (random weights) to ONNX for the `inspect --costs` tests.

Usage: python3 make_torchvision.py OUT_DIR [NAME ...]   (default names: resnet18 mobilenet_v2)
Writes OUT_DIR/NAME.onnx (opset 13, input 1x3x224x224 with a symbolic batch dim) and prints one
JSON line per model: {"name", "file", "parameters"} where parameters is torch's own count
(sum of p.numel() over model.parameters()).
"""
import json
import os
import sys

import torch
import torchvision


def build(name):
    ctor = getattr(torchvision.models, name)
    try:
        return ctor(weights=None)
    except TypeError:  # torchvision < 0.13
        return ctor(pretrained=False)


def main():
    out_dir = sys.argv[1]
    names = sys.argv[2:] or ["resnet18", "mobilenet_v2"]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    for name in names:
        model = build(name).eval()
        path = os.path.join(out_dir, f"{name}.onnx")
        x = torch.randn(1, 3, 224, 224)
        torch.onnx.export(
            model, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            # PRESERVE (model in eval mode) keeps BatchNormalization nodes: EVAL would fold them into Conv.
            do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
        )
        params = sum(p.numel() for p in model.parameters())
        print(json.dumps({"name": name, "file": path, "parameters": params}), flush=True)


if __name__ == "__main__":
    main()
