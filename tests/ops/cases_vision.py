"""Op-table cases of chainrule.functional.vision: the conv_transpose2d primitive (ops/conv_transpose.py) and the
composites conv1d, the 1-d pools, interpolate, group_norm, prelu, relu6, hardtanh and mish, each against torch in
float32 (test_parity.py) and by finite differences in float64 (test_gradcheck.py). Names start with ``vision_``.
Their modules, options, errors and edge cases (kinks, ties, torch's coordinate rules): tests/nn/test_vision_layers.py.
"""

import numpy as np
import tolerance as T
import torch
import torch.nn.functional as TF
from op_cases import I, case, distinct, nonzero, normal, section

import chainrule.functional as F


def group_norm_rule(num_groups, eps=1e-5):
    """The magnitudes of group norm: layer-style normalisation of x (N, C, *) seen as (N, S, G, C / G), over the
    spatial and in-group axes (1, 3), with weight and bias of shape (G, C / G) (``T.normalization``'s rule)."""

    def rule(torch_fn, arrays, upstreams=None):
        x = np.asarray(arrays[0], dtype=np.float64)
        n, c = x.shape[:2]

        def grouped(a):
            return np.moveaxis(a.reshape(n, num_groups, c // num_groups, -1), 3, 1)

        def back(a):
            return np.moveaxis(a, 1, 3).reshape(x.shape)

        params = [np.asarray(a).reshape(num_groups, c // num_groups) for a in arrays[1:]]
        ups = None if upstreams is None else [grouped(np.asarray(upstreams[0], dtype=np.float64))]
        (mag,), grads = T.normalization((1, 3), eps=eps)(None, [grouped(x), *params], ups)
        if ups is None:
            return [back(mag)], []
        return [back(mag)], [back(grads[0])] + [g.reshape(c) for g in grads[1:]]

    return rule


def prelu_rule(torch_fn, arrays, upstreams=None):
    """prelu is x or w * x by the sign of x: linear in each input, so ``T.linear`` with the real signs (on absolute
    values alone every element would take the x branch and w's gradient would look exactly zero)."""
    x, w = arrays
    positive = torch.tensor(np.asarray(x) > 0)
    shape = (-1,) + (1,) * (x.ndim - 2) if x.ndim >= 2 and w.size > 1 else (-1,) if w.ndim else ()

    def fn(a, b):
        return torch.where(positive, a, a * b.reshape(shape))

    return T.linear(fn, arrays, upstreams)


def off_kinks(*kinks):
    """Values in [-8, 8] at least 0.1 away from each of ``kinks`` (hardtanh's and relu6's bounds)."""

    def gen(rng, shape):
        v = rng.uniform(-8.0, 8.0, shape)
        for k in kinks:  # the kinks are more than 0.4 apart: a value moved off one stays off the others
            v = np.where(np.abs(v - k) < 0.1, v + np.where(v >= k, 0.2, -0.2), v)
        return v

    return gen


# ---- conv_transpose2d: the primitive -----------------------------------------------------------------------------

section(T.linear)
case("vision_conv_transpose2d",
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     inputs=[I(2, 3, 4, 5), I(3, 2, 3, 3), I(2)])
case("vision_conv_transpose2d_groups_dilation",
     lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), padding=(1, 0), groups=2, dilation=(2, 1)),
     lambda x, w: TF.conv_transpose2d(x, w, stride=(1, 2), padding=(1, 0), groups=2, dilation=(2, 1)),
     inputs=[I(2, 4, 3, 4), I(4, 3, 2, 3)])
case("vision_conv_transpose2d_unbatched_gaps",  # stride above the kernel: some output cells get nothing but bias
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=3, output_padding=2),
     lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=3, output_padding=2),
     inputs=[I(3, 3, 2), I(3, 2, 2, 2), I(2)])

# ---- conv1d, avg_pool1d, interpolate: linear in each input -------------------------------------------------------

case("vision_conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, groups=2),
     lambda x, w, b: TF.conv1d(x, w, b, stride=2, padding=1, groups=2), inputs=[I(2, 4, 9), I(6, 2, 3), I(6)])
case("vision_conv1d_same_dilation", lambda x, w: F.conv1d(x, w, padding="same", dilation=2),
     lambda x, w: TF.conv1d(x, w, padding="same", dilation=2), inputs=[I(2, 3, 8), I(4, 3, 3)])
case("vision_conv1d_unbatched", lambda x, w: F.conv1d(x, w, stride=3), lambda x, w: TF.conv1d(x, w, stride=3),
     inputs=[I(3, 10), I(2, 3, 2)])
case("vision_avg_pool1d", lambda x: F.avg_pool1d(x, 2), lambda x: TF.avg_pool1d(x, 2), inputs=[I(2, 3, 7)])
case("vision_avg_pool1d_ceil_exclude_pad",
     lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     lambda x: TF.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), inputs=[I(2, 3, 8)])
case("vision_avg_pool1d_ceil_include_pad", lambda x: F.avg_pool1d(x, 4, 3, 2, ceil_mode=True),
     lambda x: TF.avg_pool1d(x, 4, 3, 2, ceil_mode=True), inputs=[I(3, 9)])
case("vision_interpolate_nearest_size", lambda x: F.interpolate(x, size=(5, 7)),
     lambda x: TF.interpolate(x, size=(5, 7)), inputs=[I(2, 2, 3, 4)])
case("vision_interpolate_nearest_scale", lambda x: F.interpolate(x, scale_factor=(2.5, 0.6)),
     lambda x: TF.interpolate(x, scale_factor=(2.5, 0.6)), inputs=[I(1, 2, 3, 5)])
case("vision_interpolate_bilinear", lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear"),
     lambda x: TF.interpolate(x, scale_factor=1.7, mode="bilinear"), inputs=[I(2, 2, 3, 4)])
case("vision_interpolate_bilinear_align_corners",
     lambda x: F.interpolate(x, size=(6, 3), mode="bilinear", align_corners=True),
     lambda x: TF.interpolate(x, size=(6, 3), mode="bilinear", align_corners=True), inputs=[I(1, 3, 4, 5)])
case("vision_interpolate_linear", lambda x: F.interpolate(x, size=8, mode="linear"),
     lambda x: TF.interpolate(x, size=8, mode="linear"), inputs=[I(2, 2, 5)])

# ---- max_pool1d selects ------------------------------------------------------------------------------------------

section(T.exact)
case("vision_max_pool1d_ceil", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True),
     lambda x: TF.max_pool1d(x, 3, 2, 1, ceil_mode=True), inputs=[I(2, 3, 8, domain=distinct)])
case("vision_max_pool1d_dilation", lambda x: F.max_pool1d(x, 2, 1, dilation=2),
     lambda x: TF.max_pool1d(x, 2, 1, dilation=2), inputs=[I(3, 7, domain=distinct)])

# ---- group_norm and the activations ------------------------------------------------------------------------------

case("vision_group_norm", lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: TF.group_norm(x, 3, w, b),
     inputs=[I(2, 6, 3, 2), I(6), I(6)], magnitude=group_norm_rule(3))
case("vision_group_norm_no_affine", lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2),
     inputs=[I(3, 4, 5)], magnitude=group_norm_rule(2))
case("vision_prelu_channels", F.prelu, TF.prelu, inputs=[I(2, 3, 4, domain=nonzero), I(3)], magnitude=prelu_rule)
case("vision_prelu_single", F.prelu, TF.prelu, inputs=[I(3, 4, domain=nonzero), I(1)], magnitude=prelu_rule)

section(T.elementwise)
case("vision_relu6", F.relu6, TF.relu6, inputs=[I(4, 6, domain=off_kinks(0.0, 6.0))])
case("vision_hardtanh", F.hardtanh, TF.hardtanh, inputs=[I(4, 6, domain=off_kinks(-1.0, 1.0))])
case("vision_hardtanh_bounds", lambda x: F.hardtanh(x, -0.5, 3.0), lambda x: TF.hardtanh(x, -0.5, 3.0),
     inputs=[I(4, 6, domain=off_kinks(-0.5, 3.0))])
case("vision_mish", F.mish, TF.mish, inputs=[I(3, 4, domain=lambda r, s: 3 * normal(r, s))])
case("vision_mish_wide", F.mish, TF.mish, inputs=[I(12, domain=lambda r, s: r.uniform(-30, 30, s))])
