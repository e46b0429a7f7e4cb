"""Conformance entries of the vision layers: Conv1d, ConvTranspose2d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d,
Dropout2d, the upsampling layers, GroupNorm, PReLU, ReLU6, Hardtanh and Mish. Dropout2d takes a ``seed`` (its masks
are its own generator's, so that two layers built alike drop alike), which torch's does not: its PyTorch parity is
in tests/nn/test_vision_layers.py."""

import numpy as np
import torch
from test_conformance import T, _x
from test_conformance import tol as TOL

N = torch.nn


def _group_norm_rule(num_groups, eps=1e-5):
    """GroupNorm's magnitudes: layer-style normalisation of x (N, C, *) seen as (N, S, G, C / G), over the axes
    (1, 3), with weight and bias of shape (G, C / G) (``tolerance.normalization``'s rule)."""

    def rule(torch_fn, arrays, upstreams=None):
        x = np.asarray(arrays[0], dtype=np.float64)
        n, c = x.shape[:2]

        def grouped(a):
            return np.moveaxis(a.reshape(n, num_groups, c // num_groups, -1), 3, 1)

        def back(a):
            return np.moveaxis(a, 1, 3).reshape(x.shape)

        params = [np.asarray(a).reshape(num_groups, c // num_groups) for a in arrays[1:]]
        ups = None if upstreams is None else [grouped(np.asarray(upstreams[0], dtype=np.float64))]
        (mag,), grads = TOL.normalization((1, 3), eps=eps)(None, [grouped(x), *params], ups)
        if ups is None:
            return [back(mag)], []
        return [back(mag)], [back(grads[0])] + [g.reshape(c) for g in grads[1:]]

    return rule


def _prelu_rule(torch_fn, arrays, upstreams=None):
    """PReLU is x or w * x by the sign of x: ``linear`` with the real signs (on absolute values alone every element
    would take the x branch and the weight's gradient would look exactly zero)."""
    x, w = arrays
    positive = torch.tensor(np.asarray(x) > 0)
    shape = (-1,) + (1,) * (x.ndim - 2)

    def fn(a, b):
        return torch.where(positive, a, a * b.reshape(shape))

    return TOL.linear(fn, arrays, upstreams)


def _spread(*shape, scale):
    """Normal values times ``scale``: relu6's and hardtanh's inputs reach past both of their bounds."""

    def make(rng):
        return [(scale * rng.standard_normal(shape)).astype(np.float32)]

    return make


TABLE = {
    "conv1d": ({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "padding": 1, "groups": 2}, _x(2, 4, 7),
               T.Conv1d),
    "conv_transpose2d": ({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                          "output_padding": 1}, _x(2, 2, 3, 4), T.ConvTranspose2d),
    "max_pool1d": ({"kernel_size": 3, "stride": 2, "padding": 1}, _x(2, 3, 8), T.MaxPool1d),
    "avg_pool1d": ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                   _x(2, 3, 8), T.AvgPool1d),
    "adaptive_avg_pool1d": ({"output_size": 3}, _x(2, 3, 8), T.AdaptiveAvgPool1d),
    "dropout2d": ({"p": 0.3, "seed": 0}, _x(2, 3, 4, 4), None),
    "upsample": ({"scale_factor": 2, "mode": "bilinear"}, _x(2, 2, 3, 4), T.Upsample),
    "upsampling_nearest2d": ({"size": [5, 6]}, _x(2, 2, 3, 4), T.UpsamplingNearest2d),
    "upsampling_bilinear2d": ({"scale_factor": 1.5}, _x(2, 2, 3, 4), T.UpsamplingBilinear2d),
    "group_norm": ({"num_groups": 2, "num_channels": 4}, _x(2, 4, 3, 3), T.GroupNorm),
    "prelu": ({"num_parameters": 3}, _x(2, 3, 4), T.PReLU),
    "relu6": ({}, _spread(4, 5, scale=5.0), T.ReLU6),
    "hardtanh": ({"min_val": -0.5, "max_val": 0.8}, _x(4, 5), T.Hardtanh),
    "mish": ({}, _spread(4, 5, scale=3.0), T.Mish),
}

RULES = {
    **dict.fromkeys(["conv1d", "conv_transpose2d", "avg_pool1d", "adaptive_avg_pool1d", "upsample",
                     "upsampling_nearest2d", "upsampling_bilinear2d"], TOL.linear),
    "max_pool1d": TOL.exact,
    "group_norm": _group_norm_rule(2),
    "prelu": _prelu_rule,
    **dict.fromkeys(["relu6", "hardtanh", "mish"], TOL.elementwise),
}
