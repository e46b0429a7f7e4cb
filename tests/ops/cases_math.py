"""Op-table cases of chainrule.functional.math: the primitives of ops/math.py and ops/indexing.py and the main
composites built on them, each against torch in float32 (test_parity.py) and, where differentiable, by finite
differences in float64 (test_gradcheck.py). Names start with ``math_``. Comparisons, dtypes, errors, ties and
indices: tests/test_math_functions.py."""

import numpy as np
import tolerance as T
import torch
from op_cases import I, _t, case, distinct, fixed, nonzero, normal, positive, section, small

import chainrule as cr
import chainrule.functional as F


def unit(rng, shape):
    """Inside (-0.9, 0.9): the domain of asin and acos, away from their infinite slopes at +-1."""
    return rng.uniform(-0.9, 0.9, shape)


def off_integer(rng, shape):
    """At least 0.1 from an integer: floor, ceil and trunc are flat there."""
    return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape)


def off_half(rng, shape):
    """At least 0.1 from a half-integer: round is flat there."""
    return rng.integers(-3, 3, shape) + rng.uniform(-0.4, 0.4, shape)


# ---- elementwise -------------------------------------------------------------------------------------------------

section(T.elementwise)

UNARY = [
    ("sin", normal),
    ("cos", normal),
    ("tan", lambda r, s: r.uniform(-1.2, 1.2, s)),
    ("asin", unit),
    ("acos", unit),
    ("atan", normal),
    ("sinh", small),
    ("cosh", small),
    ("log1p", lambda r, s: r.uniform(-0.5, 2.0, s)),
    ("expm1", small),
    ("log2", positive),
    ("log10", positive),
    ("rsqrt", positive),
    ("reciprocal", nonzero),
    ("sign", nonzero),
    ("floor", off_integer),
    ("ceil", off_integer),
    ("trunc", off_integer),
    ("round", off_half),
]
for name, dom in UNARY:
    case(f"math_{name}", getattr(F, name), getattr(torch, name), inputs=[I(3, 4, domain=dom)])
    case(f"math_{name}_0d", getattr(F, name), getattr(torch, name), inputs=[I(domain=dom)])
case("math_sin_empty", F.sin, torch.sin, inputs=[I(0, 3)])
case("math_round_decimals", lambda x: F.round(x, decimals=2), lambda x: torch.round(x, decimals=2),
     inputs=[I(5, domain=fixed([0.1234, -1.5678, 2.3449, 10.0, -0.0071]))])
case("math_round_negative_decimals", lambda x: F.round(x, decimals=-1), lambda x: torch.round(x, decimals=-1),
     inputs=[I(5, domain=fixed([12.0, -27.0, 143.0, 3.5, -0.5]))])

section(T.exact)  # a selection: values pass or are replaced by constants
_SPECIAL = [1.5, np.nan, np.inf, -np.inf, -2.0, 0.0]
case("math_nan_to_num", F.nan_to_num, torch.nan_to_num, inputs=[I(6, domain=fixed(_SPECIAL))])
case("math_nan_to_num_values", lambda x: F.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0),
     lambda x: torch.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0),
     inputs=[I(2, 3, domain=fixed([_SPECIAL[:3], _SPECIAL[3:]]))])

# ---- products ----------------------------------------------------------------------------------------------------

section(T.linear)

case("math_mm", F.mm, torch.mm, inputs=[I(3, 4), I(4, 5)])
case("math_mm_empty_inner", F.mm, torch.mm, inputs=[I(2, 0), I(0, 3)])
case("math_bmm", F.bmm, torch.bmm, inputs=[I(2, 3, 4), I(2, 4, 5)])

EINSUMS = [
    ("matmul", "ij,jk->ik", [(3, 4), (4, 5)]),
    ("implicit", "ij,jk", [(3, 4), (4, 5)]),
    ("transpose_implicit", "ji", [(3, 4)]),
    ("diagonal", "ii->i", [(3, 3)]),
    ("trace", "ii", [(3, 3)]),
    ("partial_diagonal", "iij->ij", [(3, 3, 2)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("sum_rows", "ij->j", [(3, 4)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("batch_matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ellipsis_broadcast", "...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("ellipsis_size1", "...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 2)]),
    ("ellipsis_summed", "...i->i", [(2, 3, 4)]),
    ("ellipsis_middle", "i...j,j->...i", [(2, 3, 4), (4,)]),
    ("size1_label", "i,i->", [(1,), (3,)]),
    ("size1_both", "ab,ab->ab", [(2, 1), (1, 3)]),
    ("chain_of_three", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("uppercase", "bA,AB->bB", [(2, 3), (3, 4)]),
    ("spaces", " i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("scalar", "->", [()]),
]
for tag, eq, shapes in EINSUMS:
    case(f"math_einsum_{tag}", lambda *x, eq=eq: F.einsum(eq, *x), lambda *x, eq=eq: torch.einsum(eq, *x),
         inputs=[I(*s) for s in shapes])
case("math_einsum_list", lambda a, b: F.einsum("ij,jk->ik", [a, b]), lambda a, b: torch.einsum("ij,jk->ik", [a, b]),
     inputs=[I(2, 3), I(3, 2)])

_INF = float("inf")
for tag, p in [("2", 2), ("1", 1), ("3", 3), ("half", 0.5), ("inf", _INF), ("neg_inf", -_INF), ("fro", "fro"),
               ("neg", -1.5)]:
    case(f"math_norm_{tag}_dim1", lambda x, p=p: F.norm(x, p, dim=1), lambda x, p=p: torch.norm(x, p, dim=1),
         inputs=[I(3, 4, domain=nonzero)])
case("math_norm_all", F.norm, torch.norm, inputs=[I(2, 3, 4)])
case("math_norm_keepdim_tuple", lambda x: F.norm(x, 3, (0, 2), True), lambda x: torch.norm(x, 3, (0, 2), True),
     inputs=[I(2, 3, 4, domain=nonzero)])
case("math_norm_axis_alias", lambda x: F.norm(x, axis=-1, keepdims=True), lambda x: torch.norm(x, dim=-1, keepdim=True),
     inputs=[I(3, 4)])
case("math_norm_0d", F.norm, torch.norm, inputs=[I(domain=nonzero)])
# a zero row: the gradient there is 0, as torch's (a central difference of the norm at 0 is 0 too)
_ZERO_ROW = [[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]]
for tag, p in [("2", 2), ("1", 1), ("3", 3), ("half", 0.5), ("inf", _INF)]:
    case(f"math_norm_{tag}_zero_row", lambda x, p=p: F.norm(x, p, dim=1), lambda x, p=p: torch.norm(x, p, dim=1),
         inputs=[I(2, 3, domain=fixed(_ZERO_ROW))])
case("math_norm_0", lambda x: F.norm(x, 0, dim=1), lambda x: torch.norm(x, 0, dim=1),
     inputs=[I(2, 3, domain=fixed(_ZERO_ROW))], differentiable=False)  # torch gives p=0 no gradient at all

# ---- shapes ------------------------------------------------------------------------------------------------------

case("math_t_2d", F.t, torch.t, inputs=[I(3, 4)])
case("math_t_1d", F.t, torch.t, inputs=[I(4)])
case("math_view_as", lambda x: F.view_as(x, cr.zeros(6, 2)), lambda x: x.view_as(torch.zeros(6, 2)), inputs=[I(3, 4)])
case("math_clone", F.clone, torch.clone, inputs=[I(3, 4)])
case("math_clone_0d", F.clone, torch.clone, inputs=[I()])
case("math_repeat", lambda x: F.repeat(x, 2, 3), lambda x: x.repeat(2, 3), inputs=[I(2, 3)])
case("math_repeat_new_dims", lambda x: F.repeat(x, (2, 1, 3)), lambda x: x.repeat(2, 1, 3), inputs=[I(2, 3)])
case("math_repeat_zero", lambda x: F.repeat(x, 2, 0), lambda x: x.repeat(2, 0), inputs=[I(2, 3)])
case("math_repeat_0d", lambda x: F.repeat(x, 3), lambda x: x.repeat(3), inputs=[I()])
case("math_tile_short", lambda x: F.tile(x, (2,)), lambda x: torch.tile(x, (2,)), inputs=[I(2, 3)])
case("math_tile_long", lambda x: F.tile(x, (2, 1, 2)), lambda x: torch.tile(x, (2, 1, 2)), inputs=[I(2, 3)])
case("math_flip", lambda x: F.flip(x, (0, 2)), lambda x: torch.flip(x, (0, 2)), inputs=[I(2, 3, 4)])
case("math_flip_varargs_negative", lambda x: F.flip(x, -1), lambda x: x.flip(-1), inputs=[I(3, 4)])
case("math_roll_flat", lambda x: F.roll(x, 5), lambda x: torch.roll(x, 5), inputs=[I(3, 4)])
case("math_roll_dim", lambda x: F.roll(x, -1, 0), lambda x: torch.roll(x, -1, 0), inputs=[I(3, 4)])
case("math_roll_dims", lambda x: F.roll(x, (1, 7), (0, -1)), lambda x: torch.roll(x, (1, 7), (0, -1)),
     inputs=[I(2, 3, 4)])
for tag, diag in [("", 0), ("_above", 1), ("_below", -2)]:
    case(f"math_tril{tag}", lambda x, d=diag: F.tril(x, d), lambda x, d=diag: torch.tril(x, d), inputs=[I(2, 3, 4)])
    case(f"math_triu{tag}", lambda x, d=diag: F.triu(x, d), lambda x, d=diag: torch.triu(x, d), inputs=[I(4, 3)])
case("math_chunk", lambda x: F.chunk(x, 3), lambda x: torch.chunk(x, 3), inputs=[I(5, 2)])
case("math_chunk_fewer", lambda x: F.chunk(x, 4, dim=1), lambda x: torch.chunk(x, 4, dim=1), inputs=[I(2, 6)])

# ---- scans -------------------------------------------------------------------------------------------------------

for d in (0, 1, -1):
    case(f"math_cumsum_dim{d}", lambda x, d=d: F.cumsum(x, d), lambda x, d=d: torch.cumsum(x, d), inputs=[I(3, 4)])
    case(f"math_cumprod_dim{d}", lambda x, d=d: F.cumprod(x, d), lambda x, d=d: torch.cumprod(x, d),
         inputs=[I(3, 4)])
case("math_cumsum_0d", lambda x: F.cumsum(x, 0), lambda x: torch.cumsum(x, 0), inputs=[I()])
case("math_cumsum_3d", lambda x: F.cumsum(x, dim=1), lambda x: torch.cumsum(x, dim=1), inputs=[I(2, 3, 4)])
# zeros: one, two, at the start, at the end, and a row of them; the gradient at and after each first zero
_ZEROS = [[1.5, 0.0, 2.0, -3.0, 0.5], [0.0, 2.0, 0.0, 1.5, -1.0], [2.0, -0.5, 1.5, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
case("math_cumprod_zeros", lambda x: F.cumprod(x, 1), lambda x: torch.cumprod(x, 1),
     inputs=[I(4, 5, domain=fixed(_ZEROS))])
case("math_cumprod_zeros_dim0", lambda x: F.cumprod(x, 0), lambda x: torch.cumprod(x, 0),
     inputs=[I(4, 5, domain=fixed(_ZEROS))])

# ---- indexing ----------------------------------------------------------------------------------------------------

_GATHER = np.array([[2, 0, 1, 1, 2], [0, 0, 0, 1, 2]])  # larger than the input along dim 1, smaller along dim 0
case("math_gather_dim1", lambda x: F.gather(x, 1, _GATHER), lambda x: torch.gather(x, 1, _t(_GATHER)),
     inputs=[I(3, 3)])
_GATHER0 = np.array([[1, 0, 1], [1, 1, 0]])
case("math_gather_dim0", lambda x: F.gather(x, 0, _GATHER0), lambda x: torch.gather(x, 0, _t(_GATHER0)),
     inputs=[I(2, 4)])
_SCATTER = np.array([[0, 2, 1], [1, 0, 2]])  # no position twice: torch leaves the winner of a repeat undefined
case("math_scatter_src", lambda x, s: F.scatter(x, 0, _SCATTER, s), lambda x, s: torch.scatter(x, 0, _t(_SCATTER), s),
     inputs=[I(3, 3), I(2, 3)])
case("math_scatter_dim1", lambda x, s: F.scatter(x, 1, _SCATTER, s), lambda x, s: torch.scatter(x, 1, _t(_SCATTER), s),
     inputs=[I(2, 4), I(2, 3)])
case("math_scatter_value", lambda x: F.scatter(x, 0, _SCATTER, 1.5), lambda x: torch.scatter(x, 0, _t(_SCATTER), 1.5),
     inputs=[I(3, 3)])
_SCATTER_ADD = np.array([[0, 2, 2], [2, 0, 2]])  # repeats accumulate
case("math_scatter_add", lambda x, s: F.scatter_add(x, 0, _SCATTER_ADD, s),
     lambda x, s: torch.scatter_add(x, 0, _t(_SCATTER_ADD), s), inputs=[I(3, 3), I(2, 3)])
case("math_scatter_add_dim1", lambda x, s: F.scatter_add(x, 1, _SCATTER_ADD, s),
     lambda x, s: torch.scatter_add(x, 1, _t(_SCATTER_ADD), s), inputs=[I(2, 4), I(2, 3)])
_SELECT = np.array([3, 0, 3, 1])
case("math_index_select", lambda x: F.index_select(x, 1, _SELECT), lambda x: torch.index_select(x, 1, _t(_SELECT)),
     inputs=[I(2, 4)])
case("math_index_select_dim0", lambda x: F.index_select(x, 0, _SELECT[:2]),
     lambda x: torch.index_select(x, 0, _t(_SELECT[:2])), inputs=[I(4, 3)])
_FILL = np.random.default_rng(17).random((3, 4)) < 0.5
case("math_masked_fill", lambda x: F.masked_fill(x, _FILL, -1.0), lambda x: torch.masked_fill(x, _t(_FILL), -1.0),
     inputs=[I(3, 4)])
case("math_masked_fill_tensor_value", lambda x, v: F.masked_fill(x, _FILL, v),
     lambda x, v: torch.masked_fill(x, _t(_FILL), v), inputs=[I(3, 4), I()])
case("math_masked_fill_broadcast", lambda x: F.masked_fill(x, _FILL[:1], 2.0),
     lambda x: torch.masked_fill(x, _t(_FILL[:1]), 2.0), inputs=[I(3, 4)])

section(T.exact)  # sort and topk select; distinct values keep the order clear
case("math_sort", lambda x: F.sort(x).values, lambda x: torch.sort(x).values, inputs=[I(3, 4, domain=distinct)])
case("math_sort_descending_dim0", lambda x: F.sort(x, 0, descending=True)[0],
     lambda x: torch.sort(x, 0, descending=True)[0], inputs=[I(4, 3, domain=distinct)])
case("math_topk", lambda x: F.topk(x, 2).values, lambda x: torch.topk(x, 2).values, inputs=[I(3, 5, domain=distinct)])
case("math_topk_smallest_dim0", lambda x: F.topk(x, 3, dim=0, largest=False)[0],
     lambda x: torch.topk(x, 3, dim=0, largest=False)[0], inputs=[I(4, 3, domain=distinct)])
