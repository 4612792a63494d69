# Output shapes PyTorch computes for conv/pool configurations given as JSON on stdin
# (used by test/ir/ops/window-shapes.test.ts). Prints a JSON list: a shape, or null when torch
# rejects the configuration.
import json
import sys

import torch
import torch.nn.functional as F

configs = json.load(sys.stdin)
out = []
with torch.no_grad():
    for c in configs:
        try:
            x = torch.zeros(c['x'])
            d = len(c['x']) - 2
            if c['kind'] == 'conv':
                w = torch.zeros(c['w'])
                f = [F.conv1d, F.conv2d, F.conv3d][d - 1]
                y = f(x, w, stride=c['stride'], padding=c['pad'], dilation=c['dilation'], groups=c['group'])
            elif c['kind'] == 'convT':
                w = torch.zeros(c['w'])
                f = [F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d][d - 1]
                y = f(x, w, stride=c['stride'], padding=c['pad'], output_padding=c['outpad'], dilation=c['dilation'],
                      groups=c['group'])
            elif c['kind'] == 'maxpool':
                f = [F.max_pool1d, F.max_pool2d, F.max_pool3d][d - 1]
                y = f(x, c['kernel'], stride=c['stride'], padding=c['pad'], dilation=c['dilation'], ceil_mode=c['ceil'])
            elif c['kind'] == 'avgpool':
                f = [F.avg_pool1d, F.avg_pool2d, F.avg_pool3d][d - 1]
                y = f(x, c['kernel'], stride=c['stride'], padding=c['pad'], ceil_mode=c['ceil'])
            out.append(list(y.shape))
        except Exception:
            out.append(None)
print(json.dumps(out))
