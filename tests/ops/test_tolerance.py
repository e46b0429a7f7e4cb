"""The shared tolerance (``tests/tolerance.py``) admits every correct float32 summation order and still fails a
real bug: a missing, a doubled or a sign-flipped term, a wrong derivative."""


import numpy as np
import pytest
import tolerance as T
import torch


def _product(seed=0):
    """The case that failed on a fresh CI machine: (3, 300) @ (300, 8), terms of size ~1."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 300)).astype(np.float32), rng.standard_normal((300, 8)).astype(np.float32)


def _exact(a, b):
    return a.astype(np.float64) @ b.astype(np.float64)


@pytest.mark.parametrize("order", ["blas", "forward", "backward", "pairwise", "torch"])
def test_any_summation_order_is_within_the_bound(order):
    a, b = _product()
    if order == "blas":
        got = a @ b
    elif order == "torch":
        got = (torch.tensor(a) @ torch.tensor(b)).numpy()
    else:
        terms = a[:, :, None] * b[None, :, :]  # (3, 300, 8) float32 products
        if order == "pairwise":
            got = terms.sum(axis=1)  # NumPy sums pairwise
        else:
            got = np.zeros((3, 8), np.float32)
            for k in range(300) if order == "forward" else reversed(range(300)):
                got += terms[:, k]  # one float32 rounding per term
    (mag,), _ = T.linear(lambda x, y: x @ y, [a, b])
    T.assert_close(got, _exact(a, b), mag, order)


def test_the_old_fixed_tolerance_did_not_follow_the_terms():
    # the same element summed in two orders differs by more than the atol=2e-6 the suite used to allow,
    # well inside C * eps * (|a| @ |b|)
    a, b = _product()
    terms = a[:, :, None] * b[None, :, :]
    forward, backward = np.zeros((3, 8), np.float32), np.zeros((3, 8), np.float32)
    for k in range(300):
        forward += terms[:, k]
        backward += terms[:, 299 - k]
    (mag,), _ = T.linear(lambda x, y: x @ y, [a, b])
    assert np.abs(forward - backward).max() > 2e-6
    T.assert_close(forward, backward, mag, "two orders")


@pytest.mark.parametrize("bug", ["missing", "doubled", "sign"])
def test_one_wrong_term_fails_at_every_element(bug):
    """Take out, double or negate one term of typical size (the median |a_ik b_kj|) of each element: every
    element then fails the bound."""
    a, b = _product()
    terms = a.astype(np.float64)[:, :, None] * b.astype(np.float64)[None, :, :]
    k = np.argsort(np.abs(terms), axis=1)[:, 150:151, :]  # the median term of each element
    term = np.take_along_axis(terms, k, axis=1)[:, 0, :]
    wrong = _exact(a, b) + {"missing": -1, "doubled": 1, "sign": -2}[bug] * term
    (mag,), _ = T.linear(lambda x, y: x @ y, [a, b])
    assert (np.abs(wrong.astype(np.float32) - _exact(a, b)) > T.bound(mag)).all()
    with pytest.raises(AssertionError, match="24 of 24 elements"):
        T.assert_close(wrong.astype(np.float32), _exact(a, b), mag, bug)


def test_a_wrong_derivative_fails_and_the_right_one_passes():
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32) * 2
    g = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    (_,), (mag,) = T.elementwise(torch.tanh, [x], [g])
    t = np.tanh(x)
    right = g - g * t * t  # chainrule's formula, in float32
    T.assert_close(right, g * (1 - np.tanh(x.astype(np.float64)) ** 2), mag, "right")
    for wrong in (g * (1 + t * t), g * (1 - t), g * t * t - g):  # a sign, a missing square, the whole sign
        with pytest.raises(AssertionError):
            T.assert_close(wrong, right, mag, "wrong")


def test_nan_inf_and_vacuous_magnitudes():
    T.assert_close(np.array([np.nan, np.inf, 1.0]), np.array([np.nan, np.inf, 1.0]), np.ones(3))
    with pytest.raises(AssertionError):
        T.assert_close(np.array([np.nan]), np.array([1.0]), np.ones(1))
    with pytest.raises(AssertionError):
        T.assert_close(np.array([np.inf]), np.array([-np.inf]), np.ones(1))
    with pytest.raises(AssertionError, match="rule is wrong"):  # an infinite bound would accept anything
        T.assert_close(np.array([1.0]), np.array([2.0]), np.array([np.inf]))


def test_float64_uses_its_own_epsilon():
    a, b = _product()
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    (mag,), _ = T.linear(lambda x, y: x @ y, [a64, b64])
    T.assert_close(a64 @ b64, _exact(a, b), mag, "float64")
    with pytest.raises(AssertionError):  # a float32 result is far outside float64's bound
        T.assert_close((a @ b).astype(np.float64), _exact(a, b), mag, "float32 as float64")
