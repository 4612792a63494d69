#!/usr/bin/python3
"""Make the benchmark models (not committed: bench/models/ is ignored).

resnet50.onnx: torchvision resnet50 with random weights (about 100 MB), exported with
torch.onnx.export at opset 17. Needs Debian's python3-torch and python3-torchvision.
"""
import os

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'models')


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, 'resnet50.onnx')
    if os.path.exists(path):
        print('exists:', path)
        return
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path + '.tmp', opset_version=17, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    os.replace(path + '.tmp', path)
    print('wrote', path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main()
