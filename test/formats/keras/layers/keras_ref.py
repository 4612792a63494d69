"""Reference outputs for Keras layers that tfjs-layers lacks (or gets wrong), computed with
torch and numpy from the Keras definitions (TensorFlow semantics: TF 'same' padding, transposed
convolutions as the gradient of a convolution, tf.image.resize half-pixel centres, ...).

Reads JSON on stdin: {"cases": [{"class_name", "config", "keras_version", "weights": [[shape, data]],
"inputs": [[shape, data]]}]}, writes {"outputs": [[[shape, data], ...], ...]} (float64 maths).
"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def arr(pair):
    shape, data = pair
    return np.asarray(data, dtype=np.float64).reshape(shape)


def tup(v, n):
    if isinstance(v, (int, float)):
        return [int(v)] * n
    v = list(v)
    if len(v) == 1 and n > 1:
        return v * n
    return v


# ---- activations --------------------------------------------------------------------------------

def activation(name, x, keras_major=2):
    t = torch.as_tensor(x)
    if name is None:
        name = 'linear'
    if isinstance(name, dict):
        c = name.get('config')
        if isinstance(c, dict) and c.get('name') == 'gelu':
            return F.gelu(t, approximate='tanh' if c.get('approximate') else 'none').numpy()
        if name.get('class_name') == 'LeakyReLU':
            a = name['config'].get('negative_slope', name['config'].get('alpha', 0.3))
            return np.where(x >= 0, x, a * x)
        name = name.get('config') if isinstance(name.get('config'), str) else name['class_name']
    n = name.lower().replace('_', '')
    if n == 'linear':
        return x
    if n == 'relu':
        return np.maximum(x, 0)
    if n == 'relu6':
        return np.clip(x, 0, 6)
    if n == 'sigmoid':
        return 1 / (1 + np.exp(-x))
    if n == 'tanh':
        return np.tanh(x)
    if n == 'softmax':
        return torch.softmax(t, -1).numpy()
    if n == 'logsoftmax':
        return torch.log_softmax(t, -1).numpy()
    if n == 'elu':
        return np.where(x > 0, x, np.expm1(x))
    if n == 'selu':
        return F.selu(t).numpy()
    if n == 'softplus':
        return F.softplus(t).numpy()
    if n == 'softsign':
        return x / (1 + np.abs(x))
    if n == 'exponential':
        return np.exp(x)
    if n == 'hardsigmoid':
        if keras_major >= 3:
            return F.relu6(t + 3).numpy() / 6
        return np.clip(0.2 * x + 0.5, 0, 1)
    if n in ('swish', 'silu'):
        return F.silu(t).numpy()
    if n in ('hardsilu', 'hardswish'):
        return F.hardswish(t).numpy()
    if n == 'gelu':
        return F.gelu(t).numpy()
    if n == 'gelunew':
        return F.gelu(t, approximate='tanh').numpy()
    if n == 'mish':
        return F.mish(t).numpy()
    if n == 'leakyrelu':
        return F.leaky_relu(t, 0.2).numpy()
    if n == 'hardtanh':
        return F.hardtanh(t).numpy()
    if n == 'logsigmoid':
        return F.logsigmoid(t).numpy()
    if n == 'tanhshrink':
        return F.tanhshrink(t).numpy()
    if n == 'celu':
        return F.celu(t).numpy()
    if n == 'softshrink':
        return F.softshrink(t, 0.5).numpy()
    if n == 'hardshrink':
        return F.hardshrink(t, 0.5).numpy()
    if n == 'squareplus':
        return (x + np.sqrt(x * x + 4)) / 2
    if n == 'sparseplus':
        return np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4))
    if n == 'glu':
        a, b = np.split(x, 2, axis=-1)
        return a / (1 + np.exp(-b))
    raise ValueError('activation ' + name)


# ---- convolutions -------------------------------------------------------------------------------

def tf_same_pads(size, k, s, d):
    keff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + keff - size, 0)
    return total // 2, total - total // 2


def to_cf(x, n, cfg):
    if cfg.get('data_format', 'channels_last') == 'channels_first':
        return torch.as_tensor(x), False
    perm = [0, n + 1] + list(range(1, n + 1))
    return torch.as_tensor(x).permute(*perm), True


def from_cf(y, n, back):
    if not back:
        return y.numpy()
    perm = [0] + list(range(2, n + 2)) + [1]
    return y.permute(*perm).contiguous().numpy()


def pad_input(xc, n, padding, ks, ss, ds):
    pads = []
    for i in reversed(range(n)):
        size = xc.shape[2 + i]
        if padding == 'same':
            pads += list(tf_same_pads(size, ks[i], ss[i], ds[i]))
        elif padding == 'causal':
            pads += [(ks[i] - 1) * ds[i], 0]
        else:
            pads += [0, 0]
    return F.pad(xc, pads)


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def conv(cfg, n, w, x, groups_override=None, kernel_oihw=None):
    ks = tup(cfg['kernel_size'], n)
    ss = tup(cfg.get('strides', 1), n)
    ds = tup(cfg.get('dilation_rate', 1), n)
    xc, back = to_cf(x, n, cfg)
    xc = pad_input(xc, n, cfg.get('padding', 'valid').lower(), ks, ss, ds)
    k = torch.as_tensor(w[0]).permute(n + 1, n, *range(n)) if kernel_oihw is None else kernel_oihw
    b = torch.as_tensor(w[1]) if cfg.get('use_bias', True) else None
    y = CONV[n](xc, k, b, stride=ss, dilation=ds, groups=groups_override or cfg.get('groups', 1))
    return from_cf(y, n, back)


def depthwise_kernel(dk, n):
    t = torch.as_tensor(dk)
    cin, mult = t.shape[n], t.shape[n + 1]
    return t.permute(n, n + 1, *range(n)).reshape(cin * mult, 1, *t.shape[:n]), cin


def depthwise(cfg, n, w, x):
    k, cin = depthwise_kernel(w[0], n)
    cfg = dict(cfg)
    return conv(cfg, n, [None, w[1] if cfg.get('use_bias', True) else None], x, groups_override=cin, kernel_oihw=k)


def separable(cfg, n, w, x):
    k, cin = depthwise_kernel(w[0], n)
    c2 = dict(cfg, use_bias=False)
    d = conv(c2, n, [None], x, groups_override=cin, kernel_oihw=k)
    pw = torch.as_tensor(w[1]).permute(n + 1, n, *range(n))
    c3 = dict(cfg, kernel_size=[1] * n, strides=1, dilation_rate=1, padding='valid', use_bias=cfg.get('use_bias', True))
    return conv(c3, n, [None, w[2] if cfg.get('use_bias', True) else None], d, groups_override=1, kernel_oihw=pw)


def deconv_length(size, k, padding, output_padding, s, d):
    keff = k + (k - 1) * (d - 1)
    if output_padding is None:
        if padding == 'valid':
            return size * s + max(keff - s, 0)
        return size * s
    pad = keff // 2 if padding == 'same' else 0
    return (size - 1) * s + keff - 2 * pad + output_padding


def conv_transpose(cfg, n, w, x):
    """TF's conv_transpose: the gradient of conv(y, padding) with respect to y, for Keras's length."""
    ks = tup(cfg['kernel_size'], n)
    ss = tup(cfg.get('strides', 1), n)
    ds = tup(cfg.get('dilation_rate', 1), n)
    padding = cfg.get('padding', 'valid').lower()
    op = cfg.get('output_padding')
    ops = tup(op, n) if op is not None else [None] * n
    xc, back = to_cf(x, n, cfg)
    outs = [deconv_length(xc.shape[2 + i], ks[i], padding, ops[i], ss[i], ds[i]) for i in range(n)]
    y = torch.zeros((xc.shape[0], w[0].shape[n]) + tuple(outs), requires_grad=True)
    # Forward conv of y with TF padding for y's size must give x's size.
    # Keras [k..., out, in] as the kernel of a conv from y (out channels) to x (in channels).
    kernel = torch.as_tensor(w[0]).permute(n + 1, n, *range(n))
    pads = []
    for i in reversed(range(n)):
        if padding == 'same':
            keff = (ks[i] - 1) * ds[i] + 1
            total = max((xc.shape[2 + i] - 1) * ss[i] + keff - outs[i], 0)
            pads += [total // 2, total - total // 2]
        else:
            pads += [0, 0]
    fwd = CONV[n](F.pad(y, pads), kernel, stride=ss, dilation=ds)
    # Crop or zero-extend the forward result to x's size (TF: conv of y gives exactly x's size).
    sl = tuple(slice(0, xc.shape[2 + i]) for i in range(n))
    fwd = fwd[(slice(None), slice(None)) + sl]
    assert tuple(fwd.shape[2:]) == tuple(xc.shape[2:]), (fwd.shape, xc.shape)
    (g,) = torch.autograd.grad(fwd, y, grad_outputs=xc)
    if cfg.get('use_bias', True):
        g = g + torch.as_tensor(w[1]).reshape((1, -1) + (1,) * n)
    return from_cf(g.detach(), n, back)


# ---- reshaping, pooling, normalization ----------------------------------------------------------

def pairs(v, n):
    if isinstance(v, int):
        return [(v, v)] * n
    if n == 1 and len(v) == 2 and all(isinstance(p, int) for p in v):
        return [tuple(v)]
    return [tuple(p) if isinstance(p, (list, tuple)) else (p, p) for p in v]


def spatial_axes(cfg, n):
    if n > 1 and cfg.get('data_format', 'channels_last') == 'channels_first':
        return list(range(2, n + 2))
    return list(range(1, n + 1))


def zero_padding(cfg, n, x):
    p = pairs(cfg['padding'], n)
    widths = [(0, 0)] * x.ndim
    for a, pr in zip(spatial_axes(cfg, n), p):
        widths[a] = pr
    return np.pad(x, widths)


def cropping(cfg, n, x):
    p = pairs(cfg['cropping'], n)
    idx = [slice(None)] * x.ndim
    for a, (b, e) in zip(spatial_axes(cfg, n), p):
        idx[a] = slice(b, x.shape[a] - e)
    return x[tuple(idx)]


def upsampling(cfg, n, x):
    size = [cfg['size']] if n == 1 else tup(cfg['size'], n)
    axes = spatial_axes(cfg, n)
    interp = cfg.get('interpolation', 'nearest')
    if interp == 'nearest':
        for a, s in zip(axes, size):
            x = np.repeat(x, s, axis=a)
        return x
    xc, back = to_cf(x, 2, cfg)
    out = [xc.shape[2] * size[0], xc.shape[3] * size[1]]
    # tf.image.resize bilinear: half-pixel centres, no antialiasing when upsampling.
    y = F.interpolate(xc, size=out, mode='bilinear', align_corners=False)
    return from_cf(y, 2, back)


def global_pool(cfg, n, x, fn):
    axes = tuple(spatial_axes(dict(cfg, data_format=cfg.get('data_format', 'channels_last')), n) if n > 1 else
                 ([2] if cfg.get('data_format') == 'channels_first' else [1]))
    return fn(x, axis=axes, keepdims=bool(cfg.get('keepdims', False)))


def normalization(cfg, w, x):
    axis = cfg.get('axis', -1)
    if axis is None:
        axes = []
    else:
        axes = [axis] if isinstance(axis, int) else list(axis)
    if cfg.get('mean') is not None:
        mean = np.asarray(cfg['mean'], dtype=np.float64)
        var = np.asarray(cfg['variance'], dtype=np.float64)
    else:
        mean, var = w[0], w[1]
    shape = [1] * x.ndim
    keep = [a % x.ndim for a in axes]
    for a in keep:
        shape[a] = x.shape[a]
    if mean.size == 1:
        shape = [1] * x.ndim
    mean = mean.reshape(shape)
    var = var.reshape(shape)
    std = np.maximum(np.sqrt(var), 1e-7)
    if cfg.get('invert', False):
        return mean + x * std
    return (x - mean) / std


def layer_norm(cfg, w, x):
    axis = cfg.get('axis', -1)
    axes = tuple(a % x.ndim for a in ([axis] if isinstance(axis, int) else axis))
    eps = cfg.get('epsilon', 1e-3)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    k = 0
    if cfg.get('scale', True):
        y = y * w[k].reshape(shape)
        k += 1
    if cfg.get('center', True):
        y = y + w[k].reshape(shape)
    return y


def keras_relu(cfg, x):
    slope = cfg.get('negative_slope', 0.0) or 0.0
    maxv = cfg.get('max_value')
    thr = cfg.get('threshold', 0.0) or 0.0
    if slope != 0 and maxv is None and thr == 0:
        return np.where(x >= 0, x, slope * x)
    neg = np.maximum(-x + thr, 0) if thr != 0 else np.maximum(-x, 0)
    if thr != 0:
        y = x * (x > thr)
    else:
        y = np.maximum(x, 0)
    if maxv is not None:
        y = np.clip(y, 0, maxv)
    if slope != 0:
        y = y - slope * neg
    return y


# ---- recurrent ---------------------------------------------------------------------------------

def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def rnn(kind, cfg, w, x, mask=None, keras_major=2, zero_output_for_mask=False, init=None):
    """Keras RNN loop (keras.backend.rnn) for SimpleRNN/LSTM/GRU, float64, with masks."""
    if cfg.get('time_major', False):
        res = rnn(kind, dict(cfg, time_major=False), w, np.swapaxes(x, 0, 1), mask, keras_major, zero_output_for_mask, init)
        if cfg.get('return_sequences', False):
            res[0] = np.swapaxes(res[0], 0, 1)
        return res
    units = cfg['units']
    act = lambda v: activation(cfg.get('activation', 'tanh'), v, keras_major)
    ract = lambda v: activation(cfg.get('recurrent_activation', 'sigmoid'), v, keras_major)
    use_bias = cfg.get('use_bias', True)
    K, R = w[0], w[1]
    B = w[2] if use_bias else None
    N, T, _ = x.shape
    h = np.zeros((N, units)) if not init else init[0]
    c = np.zeros((N, units)) if not init or len(init) < 2 else init[1]
    steps = list(range(T))
    if cfg.get('go_backwards', False):
        steps = steps[::-1]
    outs = []
    prev_out = np.zeros((N, units))
    reset_after = B is not None and B.ndim == 2
    for t in steps:
        xt = x[:, t, :]
        if kind == 'SimpleRNN':
            hn = act(xt @ K + (B if B is not None else 0) + h @ R)
            cn = c
        elif kind == 'LSTM':
            z = xt @ K + h @ R + (B if B is not None else 0)
            i, f, cc, o = np.split(z, 4, axis=1)
            cn = ract(f) * c + ract(i) * act(cc)
            hn = ract(o) * act(cn)
        else:
            if reset_after:
                xz = xt @ K + B[0]
                hz = h @ R + B[1]
                xz_, xr_, xh_ = np.split(xz, 3, axis=1)
                hz_, hr_, hh_ = np.split(hz, 3, axis=1)
                zg = ract(xz_ + hz_)
                rg = ract(xr_ + hr_)
                hh = act(xh_ + rg * hh_)
            else:
                xz = xt @ K + (B if B is not None else 0)
                xz_, xr_, xh_ = np.split(xz, 3, axis=1)
                zg = ract(xz_ + h @ R[:, :units])
                rg = ract(xr_ + h @ R[:, units:2 * units])
                hh = act(xh_ + (rg * h) @ R[:, 2 * units:])
            hn = zg * h + (1 - zg) * hh
            cn = c
        out = hn
        if mask is not None:
            m = mask[:, t][:, None]
            hn = np.where(m, hn, h)
            cn = np.where(m, cn, c)
            out = np.where(m, out, 0 if zero_output_for_mask else prev_out)
        h, c, prev_out = hn, cn, out
        outs.append(out)
    seq = np.stack(outs, axis=1)
    y = seq if cfg.get('return_sequences', False) else outs[-1]
    res = [y]
    if cfg.get('return_state', False):
        res += [h, c] if kind == 'LSTM' else [h]
    return res


def torch_gru(cfg, w, x):
    """GRU with reset_after=True through torch.nn.GRU (the same cell; gates r, z, n in torch)."""
    units = cfg['units']
    K, R, B = w
    g = torch.nn.GRU(K.shape[0], units, batch_first=True)

    def reorder(m):  # Keras z, r, h -> torch r, z, n (rows)
        z, r, h = np.split(m, 3, axis=0)
        return torch.as_tensor(np.concatenate([r, z, h], axis=0))

    with torch.no_grad():
        g.weight_ih_l0.copy_(reorder(K.T))
        g.weight_hh_l0.copy_(reorder(R.T))
        g.bias_ih_l0.copy_(reorder(B[0]))
        g.bias_hh_l0.copy_(reorder(B[1]))
        xs = torch.as_tensor(x)
        if cfg.get('go_backwards', False):
            xs = torch.flip(xs, [1])
        y, h = g(xs)
    seq = y.numpy()
    out = [seq if cfg.get('return_sequences', False) else h[0].numpy()]
    if cfg.get('return_state', False):
        out.append(h[0].numpy())
    return out


# ---- dispatch ---------------------------------------------------------------------------------

def run(case):
    cls = case['class_name']
    cfg = case['config']
    major = 3 if str(case.get('keras_version', '2')).startswith('3') else 2
    w = [arr(p) for p in case.get('weights', [])]
    xs = [arr(p) for p in case['inputs']]
    x = xs[0]
    if cls in ('Conv1D', 'Conv2D', 'Conv3D'):
        n = int(cls[4])
        return [activation(cfg.get('activation'), conv(cfg, n, w, x), major)]
    if cls in ('DepthwiseConv1D', 'DepthwiseConv2D'):
        n = int(cls[13])
        return [activation(cfg.get('activation'), depthwise(cfg, n, w, x), major)]
    if cls in ('SeparableConv1D', 'SeparableConv2D'):
        n = int(cls[13])
        return [activation(cfg.get('activation'), separable(cfg, n, w, x), major)]
    if cls in ('Conv1DTranspose', 'Conv2DTranspose', 'Conv3DTranspose'):
        n = int(cls[4])
        return [activation(cfg.get('activation'), conv_transpose(cfg, n, w, x), major)]
    if cls.startswith('ZeroPadding'):
        return [zero_padding(cfg, int(cls[11]), x)]
    if cls.startswith('Cropping'):
        return [cropping(cfg, int(cls[8]), x)]
    if cls.startswith('UpSampling'):
        return [upsampling(cfg, int(cls[10]), x)]
    if cls == 'GlobalAveragePooling1D' and case.get('mask') is not None:
        m = arr(case['mask'])[:, :, None]
        return [(x * m).sum(axis=1) / m.sum(axis=1)]
    if cls.startswith('GlobalAveragePooling'):
        return [global_pool(cfg, int(cls[20]), x, np.mean)]
    if cls.startswith('GlobalMaxPooling'):
        return [global_pool(cfg, int(cls[16]), x, np.max)]
    if cls == 'Normalization':
        return [normalization(cfg, w, x)]
    if cls == 'UnitNormalization':
        axis = cfg.get('axis', -1)
        axes = tuple([axis] if isinstance(axis, int) else axis)
        return [x / np.sqrt(np.maximum((x * x).sum(axis=axes, keepdims=True), 1e-12))]
    if cls == 'BatchNormalization':
        axis = cfg.get('axis', -1)
        axis = axis[0] if isinstance(axis, list) else axis
        shape = [1] * x.ndim
        shape[axis % x.ndim] = x.shape[axis % x.ndim]
        k = 0
        gamma = beta = None
        if cfg.get('scale', True):
            gamma = w[k]; k += 1
        if cfg.get('center', True):
            beta = w[k]; k += 1
        mean, var = w[k], w[k + 1]
        y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + cfg.get('epsilon', 1e-3))
        if gamma is not None:
            y = y * gamma.reshape(shape)
        if beta is not None:
            y = y + beta.reshape(shape)
        return [y]
    if cls == 'Softmax':
        axis = cfg.get('axis', -1)
        axes = tuple([axis] if isinstance(axis, int) else axis)
        e = np.exp(x - x.max(axis=axes, keepdims=True))
        return [e / e.sum(axis=axes, keepdims=True)]
    if cls == 'LeakyReLU':
        a = cfg.get('negative_slope', cfg.get('alpha', 0.3))
        return [np.where(x >= 0, x, a * x)]
    if cls == 'Dense':
        y = x @ w[0] + (w[1] if cfg.get('use_bias', True) else 0)
        return [activation(cfg.get('activation'), y, major)]
    if cls == 'ELU':
        a = cfg.get('alpha', 1.0)
        return [np.where(x > 0, x, a * np.expm1(x))]
    if cls == 'LayerNormalization':
        return [layer_norm(cfg, w, x)]
    if cls == 'Activation':
        return [activation(cfg['activation'], x, major)]
    if cls == 'ReLU':
        return [keras_relu(cfg, x)]
    if cls in ('Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout',
               'AlphaDropout', 'ActivityRegularization', 'Identity'):
        return [x]
    if cls == 'Subtract':
        return [xs[0] - xs[1]]
    if cls in ('SimpleRNN', 'LSTM', 'GRU'):
        if cls == 'GRU' and len(w) == 3 and w[2].ndim == 2 and case.get('use_torch'):
            return torch_gru(cfg, w, x)
        mask = None
        if case.get('mask') is not None:
            mask = arr(case['mask']).astype(bool)
        return rnn(cls, cfg, w, x, mask, major, init=xs[1:])
    if cls == 'Bidirectional':
        inner = cfg['layer']
        kind = inner['class_name']
        icfg = dict(inner['config'])
        mask = arr(case['mask']).astype(bool) if case.get('mask') is not None else None
        half = len(w) // 2
        seqs = icfg.get('return_sequences', False)
        fw = rnn(kind, dict(icfg, return_state=True), w[:half], x, mask, major, zero_output_for_mask=seqs)
        bw = rnn(kind, dict(icfg, return_state=True, go_backwards=True), w[half:], x, mask, major, zero_output_for_mask=seqs)
        yf, yb = fw[0], bw[0]
        if seqs:
            yb = yb[:, ::-1]
        mode = cfg.get('merge_mode', 'concat')
        if mode == 'concat':
            outs = [np.concatenate([yf, yb], axis=-1)]
        elif mode == 'sum':
            outs = [yf + yb]
        elif mode == 'mul':
            outs = [yf * yb]
        elif mode == 'ave':
            outs = [(yf + yb) / 2]
        else:
            outs = [yf, yb]
        if icfg.get('return_state', False):
            outs += fw[1:] + bw[1:]
        return outs
    raise ValueError('no reference for ' + cls)


def main():
    req = json.load(sys.stdin)
    outs = []
    for case in req['cases']:
        res = run(case)
        outs.append([[list(np.shape(r)), np.asarray(r, dtype=np.float64).ravel().tolist()] for r in res])
    json.dump({'outputs': outs}, sys.stdout)


if __name__ == '__main__':
    main()
