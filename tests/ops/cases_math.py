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

# ---- products over dimensions, the error function, more products and moves -------------------------------------

section(T.linear)  # a product is multilinear: the op on absolute values bounds what it multiplies

for tag, fn, tfn in [
    ("all", F.prod, torch.prod),
    ("dim1", lambda x: F.prod(x, 1), lambda x: torch.prod(x, 1)),
    ("dim0_keepdim", lambda x: F.prod(x, 0, keepdim=True), lambda x: torch.prod(x, 0, keepdim=True)),
    ("method_neg_dim", lambda x: x.prod(-1), lambda x: x.prod(-1)),
]:
    case(f"math_prod_{tag}", fn, tfn, inputs=[I(3, 4)])
case("math_prod_tuple_dims", lambda x: F.prod(x, (0, 2)), lambda x: x.prod(2).prod(0), inputs=[I(2, 3, 4)])
case("math_prod_0d", F.prod, torch.prod, inputs=[I()])
case("math_prod_empty", lambda x: F.prod(x, 1), lambda x: torch.prod(x, 1), inputs=[I(2, 0)])
# zeros: one in a row, two in a row, at either end, none: the gradient is the product of the other factors
_PROD_ZEROS = [[2.0, 0.0, -1.5, 3.0], [0.0, 1.5, 0.0, 2.0], [0.0, 1.5, -2.0, 0.5], [1.5, -0.5, 2.0, 0.0],
               [1.5, -0.5, 2.0, 3.0]]
case("math_prod_zeros_dim1", lambda x: F.prod(x, 1), lambda x: torch.prod(x, 1),
     inputs=[I(5, 4, domain=fixed(_PROD_ZEROS))])
case("math_prod_zeros_dim0", lambda x: F.prod(x, 0), lambda x: torch.prod(x, 0),
     inputs=[I(5, 4, domain=fixed(_PROD_ZEROS))])
case("math_prod_zero_all", F.prod, torch.prod, inputs=[I(2, 3, domain=fixed([[1.5, 0.0, 2.0], [-1.0, 0.5, 3.0]]))])

case("math_dot", F.dot, torch.dot, inputs=[I(5), I(5)])
case("math_mv", F.mv, torch.mv, inputs=[I(3, 4), I(4)])
case("math_outer", F.outer, torch.outer, inputs=[I(3), I(4)])
case("math_outer_method", lambda a, b: a.outer(b), lambda a, b: a.outer(b), inputs=[I(2), I(3)])
case("math_addmm", F.addmm, torch.addmm, inputs=[I(3, 5), I(3, 4), I(4, 5)])
case("math_addmm_bias_row_scaled", lambda b, x, w: F.addmm(b, x, w, beta=0.5, alpha=2.0),
     lambda b, x, w: torch.addmm(b, x, w, beta=0.5, alpha=2.0), inputs=[I(5), I(3, 4), I(4, 5)])
case("math_addmm_beta0", lambda b, x, w: F.addmm(b, x, w, beta=0), lambda b, x, w: torch.addmm(b, x, w, beta=0),
     inputs=[I(5), I(3, 4), I(4, 5)])
case("math_addmv", F.addmv, torch.addmv, inputs=[I(3), I(3, 4), I(4)])
case("math_baddbmm", lambda i, a, b: F.baddbmm(i, a, b, alpha=0.5),
     lambda i, a, b: torch.baddbmm(i, a, b, alpha=0.5), inputs=[I(1, 3, 5), I(2, 3, 4), I(2, 4, 5)])

case("math_diag_vector", F.diag, torch.diag, inputs=[I(3)])
case("math_diag_vector_above", lambda x: F.diag(x, 2), lambda x: torch.diag(x, 2), inputs=[I(3)])
case("math_diag_vector_below", lambda x: F.diag(x, -1), lambda x: torch.diag(x, -1), inputs=[I(3)])
case("math_diag_matrix", F.diag, torch.diag, inputs=[I(3, 4)])
case("math_diag_matrix_offset", lambda x: x.diag(-1), lambda x: x.diag(-1), inputs=[I(3, 4)])
case("math_diagonal_3d", lambda x: F.diagonal(x, 1, 2, 0), lambda x: torch.diagonal(x, 1, 2, 0), inputs=[I(2, 3, 4)])
case("math_diagonal_negative", lambda x: x.diagonal(-1, -1, -2), lambda x: x.diagonal(-1, -1, -2),
     inputs=[I(2, 3, 4)])
case("math_diagonal_empty", lambda x: F.diagonal(x, 5), lambda x: torch.diagonal(x, 5), inputs=[I(3, 4)])
case("math_trace", F.trace, torch.trace, inputs=[I(3, 4)])
case("math_narrow", lambda x: F.narrow(x, 1, 1, 2), lambda x: torch.narrow(x, 1, 1, 2), inputs=[I(3, 4)])
case("math_narrow_negative_start", lambda x: x.narrow(0, -2, 2), lambda x: x.narrow(0, -2, 2), inputs=[I(3, 4)])
case("math_meshgrid_ij", lambda a, b, c: F.meshgrid(a, b, c, indexing="ij"),
     lambda a, b, c: torch.meshgrid(a, b, c, indexing="ij"), inputs=[I(2), I(3), I(4)])
case("math_meshgrid_xy", lambda a, b, c: F.meshgrid([a, b, c], indexing="xy"),
     lambda a, b, c: torch.meshgrid([a, b, c], indexing="xy"), inputs=[I(2), I(3), I()])
case("math_masked_select", lambda x: F.masked_select(x, _FILL), lambda x: torch.masked_select(x, _t(_FILL)),
     inputs=[I(3, 4)])
case("math_masked_select_broadcast", lambda x: F.masked_select(x, _FILL), lambda x: torch.masked_select(x, _t(_FILL)),
     inputs=[I(4)])
_TAKE = np.array([[5, 0, -1], [5, 11, 2]])  # repeats and a negative index
case("math_take", lambda x: F.take(x, _TAKE), lambda x: torch.take(x, _t(_TAKE)), inputs=[I(3, 4)])
_ALONG = np.array([[2, 0, 2]])  # broadcast over the rows
case("math_take_along_dim", lambda x: F.take_along_dim(x, _ALONG, 1), lambda x: torch.take_along_dim(x, _t(_ALONG), 1),
     inputs=[I(3, 4)])
case("math_take_along_dim_flat", lambda x: x.take_along_dim(_TAKE[:, :2] % 7),
     lambda x: x.take_along_dim(_t(_TAKE[:, :2] % 7)), inputs=[I(3, 4)])


def _cross_terms(a, b, dim=-1):
    """The two products whose difference is each component of the cross product, added: its magnitude."""
    def pick(t, order):
        return torch.index_select(t, dim, torch.tensor(order))

    return pick(a, [1, 2, 0]) * pick(b, [2, 0, 1]) + pick(a, [2, 0, 1]) * pick(b, [1, 2, 0])


case("math_cross", lambda a, b: F.cross(a, b, dim=1), lambda a, b: torch.cross(a, b, dim=1),
     inputs=[I(4, 3), I(4, 3)],
     magnitude=lambda fn, arrays, ups: T.linear(lambda a, b: _cross_terms(a, b, 1), arrays, ups))
case("math_cross_broadcast_dim0", lambda a, b: F.cross(a, b, dim=0), lambda a, b: torch.linalg.cross(a, b, dim=0),
     inputs=[I(3, 2), I(3, 1)],
     magnitude=lambda fn, arrays, ups: T.linear(lambda a, b: _cross_terms(a, b, 0), arrays, ups))

section(T.elementwise)

case("math_square", F.square, torch.square, inputs=[I(3, 4)])
case("math_square_method", lambda x: x.square(), lambda x: x.square(), inputs=[I()])
case("math_erf", F.erf, torch.erf, inputs=[I(3, 4)])
case("math_erf_0d", F.erf, torch.erf, inputs=[I()])
case("math_erfinv", F.erfinv, torch.erfinv, inputs=[I(3, 4, domain=unit)])
case("math_erfinv_tails", F.erfinv, torch.erfinv,
     inputs=[I(6, domain=fixed([-0.999, -0.99, 0.95, 0.99, 0.999, 0.9999]))])
case("math_erfinv_0d", lambda x: x.erfinv(), lambda x: x.erfinv(), inputs=[I(domain=unit)])
case("math_lerp_number", lambda a, b: F.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), inputs=[I(3, 4), I(3, 4)])
case("math_lerp_number_high", lambda a, b: F.lerp(a, b, 0.8), lambda a, b: torch.lerp(a, b, 0.8),
     inputs=[I(3, 4), I(4)])
case("math_lerp_tensor", F.lerp, torch.lerp,
     inputs=[I(3, 4), I(3, 4), I(3, 4, domain=lambda r, s: r.uniform(-0.5, 1.5, s))])
case("math_lerp_method_broadcast", lambda a, b, w: a.lerp(b, w), lambda a, b, w: a.lerp(b, w),
     inputs=[I(3, 1), I(4), I(3, 4, domain=lambda r, s: r.uniform(0, 1, s))])
case("math_clamp_min_number", lambda x: F.clamp_min(x, 0.25), lambda x: torch.clamp_min(x, 0.25), inputs=[I(3, 4)])
case("math_clamp_max_number", lambda x: x.clamp_max(-0.25), lambda x: x.clamp_max(-0.25), inputs=[I(3, 4)])
case("math_clamp_min_tensor", F.clamp_min, torch.clamp_min, inputs=[I(3, 4), I(3, 4)])
case("math_clamp_max_tensor_broadcast", F.clamp_max, torch.clamp_max, inputs=[I(3, 4), I(4)])
# the first operand is b * q with q at least 0.1 from an integer: the quotient stays off the jumps of mod
case("math_remainder", lambda q, b: F.remainder(q * b, b), lambda q, b: torch.remainder(q * b, b),
     inputs=[I(3, 4, domain=off_integer), I(4, domain=nonzero)])
case("math_remainder_operator_number", lambda q: (q * 1.5) % 1.5, lambda q: (q * 1.5) % 1.5,
     inputs=[I(3, 4, domain=off_integer)])
case("math_fmod", lambda q, b: F.fmod(q * b, b), lambda q, b: torch.fmod(q * b, b),
     inputs=[I(3, 4, domain=off_integer), I(3, 4, domain=nonzero)])
case("math_addcmul", lambda x, a, b: F.addcmul(x, a, b, value=0.5), lambda x, a, b: torch.addcmul(x, a, b, value=0.5),
     inputs=[I(3, 4), I(3, 1), I(4)])
case("math_addcdiv", lambda x, a, b: x.addcdiv(a, b, value=-2), lambda x, a, b: x.addcdiv(a, b, value=-2),
     inputs=[I(3, 4), I(3, 4), I(3, 4, domain=nonzero)])
case("math_index_add", lambda x, s: F.index_add(x, 0, cr.tensor([2, 0, 2]), s, alpha=1.5),
     lambda x, s: torch.index_add(x, 0, torch.tensor([2, 0, 2]), s, alpha=1.5), inputs=[I(3, 4), I(3, 4)],
     magnitude=T.linear)
case("math_index_fill", lambda x: F.index_fill(x, 1, cr.tensor([0, 3]), -1.0),
     lambda x: torch.index_fill(x, 1, torch.tensor([0, 3]), -1.0), inputs=[I(3, 4)], magnitude=T.linear)
case("math_sin_in_place", lambda x: (x * 1).sin_(), lambda x: (x * 1).sin_(), inputs=[I(3, 4)])
case("math_scatter_in_place", lambda x, s: (x * 1).scatter_(1, cr.tensor([[0, 2], [1, 3], [3, 0]]), s),
     lambda x, s: (x * 1).scatter_(1, torch.tensor([[0, 2], [1, 3], [3, 0]]), s), inputs=[I(3, 4), I(3, 2)],
     magnitude=T.linear)


def _cdist_rule(p):
    """cdist = ||x1_i - x2_j||_p: each difference is rounded relative to |x1| + |x2|, so the distance carries
    eps * M with M = || |x1_i| + |x2_j| ||_p (the norm's own rounding is inside); its gradient (x1 - x2)^(p-1) /
    d^(p-1) times g, for p = 2 (x1 - x2) g / d, is off by eps (|x1| + |x2|) / d + eps |x1 - x2| M / d^2 per term."""

    def rule(fn, arrays, ups):
        a, b = (np.asarray(v, np.float64) for v in arrays)
        diff = a[..., :, None, :] - b[..., None, :, :]
        total = np.abs(a)[..., :, None, :] + np.abs(b)[..., None, :, :]
        d = np.linalg.norm(diff, ord=p, axis=-1)
        m = np.linalg.norm(total, ord=p, axis=-1)
        if ups is None:
            return [m + d], []
        g = np.abs(np.asarray(ups[0], np.float64))[..., None]
        per = g * (total / d[..., None] + np.abs(diff) * (m / d**2)[..., None])  # (..., P, R, M)
        ga = T.sum_to(per.sum(axis=-2), a.shape)
        gb = T.sum_to(per.sum(axis=-3), b.shape)
        return [m + d], [ga, gb]

    return rule


case("math_cdist", F.cdist, torch.cdist, inputs=[I(4, 3), I(5, 3)], magnitude=_cdist_rule(2))
case("math_cdist_batch_broadcast", F.cdist, torch.cdist, inputs=[I(2, 3, 2), I(1, 4, 2)], magnitude=_cdist_rule(2))
case("math_cdist_p1", lambda a, b: F.cdist(a, b, p=1), lambda a, b: torch.cdist(a, b, p=1), inputs=[I(3, 2), I(2, 2)],
     magnitude=_cdist_rule(1))


def _moments_rule(std):
    """(std or var, mean): the variance's terms (tests/tolerance.py) for the first, the sum's for the mean; the
    gradient adds both parts."""

    def rule(fn, arrays, ups):
        (x,) = arrays
        fwd, gvar = T.variance_terms(x, None if ups is None else ups[0], axis=1, ddof=1, std=std)
        (mean_mag,), gmean = T.linear(lambda t: t.mean(1), [x], None if ups is None else [ups[1]])
        return [fwd, mean_mag], ([] if ups is None else [gvar + gmean[0]])

    return rule


case("math_var_mean", lambda x: F.var_mean(x, 1), lambda x: torch.var_mean(x, 1), inputs=[I(3, 5)],
     magnitude=_moments_rule(False))
case("math_std_mean", lambda x: F.std_mean(x, dim=1), lambda x: torch.std_mean(x, dim=1), inputs=[I(3, 5)],
     magnitude=_moments_rule(True))
