#!/usr/bin/python3
"""Writes small PyTorch models that exercise the module types and functional steps the --arch
builder and the TorchScript interpreter map beyond the shared fixtures. For each model NAME it
writes OUT/NAME/: state_dict.pth, scripted.pt (torch.jit.script), input.npy, output.npy (torch,
eval mode). Deterministic for a given torch build. Usage: make_models.py OUT"""
import os
import sys
import warnings

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


class PoolNet(nn.Module):
    """Reflect/'same' padding, dilation, ceil-mode pooling, transposed conv, GELU, adaptive pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding='same', padding_mode='reflect')
        self.bn = nn.BatchNorm2d(6)
        self.act = nn.LeakyReLU(0.2)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.dil = nn.Conv2d(6, 8, 3, dilation=2, padding=2)
        self.elu = nn.ELU(0.5)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.gelu = nn.GELU()
        self.pool3 = nn.AvgPool2d(3, stride=2, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(2)
        self.head = nn.Linear(16, 5)
        self.out = nn.LogSoftmax(dim=1)

    def forward(self, x):
        x = self.pool1(self.act(self.bn(self.stem(x))))
        x = self.pool2(self.elu(self.dil(x)))
        x = self.pool3(self.gelu(self.up(x)))
        x = torch.flatten(self.gap(x), 1)
        return self.out(self.head(x))


class SeqNet(nn.Module):
    """Embedding, LayerNorm, a Linear on 3-D input, tanh-GELU, transpose, Conv1d, BatchNorm1d, MaxPool1d."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.norm = nn.LayerNorm(8)
        self.proj = nn.Linear(8, 8)
        self.conv = nn.Conv1d(8, 4, 3, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.pool = nn.MaxPool1d(2)
        self.fc = nn.Linear(12, 3)

    def forward(self, idx):
        h = self.proj(self.norm(self.emb(idx)))
        h = F.gelu(h, approximate='tanh')
        h = torch.transpose(h, 1, 2)
        h = self.pool(torch.relu(self.bn(self.conv(h))))
        return torch.sigmoid(self.fc(torch.flatten(h, 1)))


class ResNetLike(nn.Module):
    """Residual add, channel concat, ReLU6/Hardtanh, Dropout/Identity, softmax over channels, reshape."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 4, 3, padding=1)
        self.b = nn.Sequential(nn.ReLU(), nn.Conv2d(4, 4, 1), nn.Dropout(0.3), nn.Identity())
        self.clip = nn.Hardtanh(-0.5, 0.5)
        self.act6 = nn.ReLU6()
        self.tail = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        a = self.a(x)
        b = self.b(a)
        s = torch.add(a, b)
        c = torch.cat([self.clip(s), self.act6(b)], dim=1)
        y = torch.softmax(self.tail(c), dim=1)
        return y.reshape(-1, 3 * 6 * 6)


class FunctionalNet(nn.Module):
    """Functional calls and tensor methods: F.max_pool2d, F.dropout, x.view(x.size(0), -1),
    torch.addmm with bare parameters, mean(keepdim), scalar arithmetic, log_softmax."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.w = nn.Parameter(torch.randn(4, 8 * 3 * 3) * 0.1)
        self.b = nn.Parameter(torch.randn(4))

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv(x), 2))
        x = F.dropout(x, p=0.5, training=self.training)
        x = x.view(x.size(0), -1)
        x = torch.addmm(self.b, x, self.w.t())
        x = x - x.mean(dim=1, keepdim=True)
        x = x * 0.5 + 1.0
        x = x / 2
        return F.log_softmax(torch.tanh(x), dim=1)


MODELS = {
    "pool_net": (PoolNet, lambda g: torch.rand((2, 3, 20, 20), generator=g)),
    "seq_net": (SeqNet, lambda g: torch.randint(0, 20, (2, 6), generator=g)),
    "resnet_like": (ResNetLike, lambda g: torch.rand((2, 2, 6, 6), generator=g) * 2 - 1),
    "functional_net": (FunctionalNet, lambda g: torch.rand((3, 1, 8, 8), generator=g)),
}


def make(out, name, cls, make_input):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(3)
    model = cls()
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    x = make_input(torch.Generator().manual_seed(11))
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "output.npy"), y.numpy())
    torch.save(model.state_dict(), os.path.join(d, "state_dict.pth"))
    torch.jit.script(model).save(os.path.join(d, "scripted.pt"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(model, x).save(os.path.join(d, "traced.pt"))


if __name__ == "__main__":
    for n, (c, f) in MODELS.items():
        make(sys.argv[1], n, c, f)
