"""Per-op overhead: forward plus backward time per op on tiny (4, 4) tensors.

A chain of 16 elementwise ops (mul, add, tanh, subtract a scalar; four times over)
ending in a sum is run forward and backward, by chainrule and by PyTorch (CPU,
one thread), alternating the contenders round by round. The arrays are tiny, so
the time is almost all per-op overhead: building the graph, walking it back and
calling into NumPy or ATen. The plain-NumPy line is the same arithmetic (forward
and hand-written backward) with no autograd at all: a floor for a NumPy library.

    python -m benchmarks.op_overhead [--rounds 7] [--reps 2000] [--quick]

Prints microseconds per op (medians over rounds) and the ratio to PyTorch. PyTorch runs with one
thread here whatever the other benchmarks use (the tensors are tiny); its thread count is restored after.
"""

import argparse
import time

import numpy as np

from .common import table

N_BLOCKS = 4  # each block: mul, add, tanh, sub  -> 16 elementwise ops, plus the final sum
N_OPS = 4 * N_BLOCKS + 1


def chain(x, w):
    y = x
    for _ in range(N_BLOCKS):
        y = y * w
        y = y + w
        y = y.tanh()
        y = y - 0.5
    return y.sum()


def numpy_step(x, w):
    """The same chain with the backward written by hand: no graph, no per-op objects."""
    ys, ts = [], []
    y = x
    for _ in range(N_BLOCKS):
        ys.append(y)
        t = np.tanh(y * w + w)
        ts.append(t)
        y = t - 0.5
    y.sum()
    g = np.ones_like(y)
    gw = np.zeros_like(w)
    for y_in, t in zip(reversed(ys), reversed(ts)):
        g = g * (1 - t * t)
        gw += g * y_in + g
        g = g * w
    return gw


def time_per_op(step, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t0) / reps / N_OPS * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 7; quick 5)")
    parser.add_argument(
        "--reps", type=int, default=0, help="forward + backward passes per round (default 2000; quick 500)"
    )
    parser.add_argument("--quick", action="store_true", help="a short run: fewer rounds and passes")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (5 if args.quick else 7)
    args.reps = args.reps or (500 if args.quick else 2000)

    import torch

    threads = torch.get_num_threads()
    try:
        return _main(args)
    finally:
        torch.set_num_threads(threads)


def _main(args):
    import torch

    import chainrule as cr

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    xn = rng.standard_normal((4, 4)).astype(np.float32)
    wn = rng.standard_normal((4, 4)).astype(np.float32)
    x, w = cr.tensor(xn), cr.tensor(wn, requires_grad=True)
    xt, wt = torch.tensor(xn), torch.tensor(wn, requires_grad=True)

    def cr_step():
        chain(x, w).backward()
        w.grad = None

    def torch_step():
        chain(xt, wt).backward()
        wt.grad = None

    def np_step():
        numpy_step(xn, wn)

    # same result first: a benchmark of a wrong computation is worthless
    cr_step_grad = (chain(x, w).backward(), w.grad.numpy())[1]
    w.grad = None
    chain(xt, wt).backward()
    assert np.allclose(cr_step_grad, wt.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert np.allclose(cr_step_grad, numpy_step(xn, wn), rtol=1e-4, atol=1e-5)
    wt.grad = None

    contenders = {"chainrule": cr_step, "pytorch": torch_step, "numpy (hand-written)": np_step}
    for f in contenders.values():  # warm up
        time_per_op(f, args.reps // 10)
    results = {k: [] for k in contenders}
    for r in range(args.rounds):
        order = list(contenders.items())
        if r % 2:
            order.reverse()  # alternate who goes first
        for name, f in order:
            results[name].append(time_per_op(f, args.reps))
    med = {k: float(np.median(v)) for k, v in results.items()}
    print(
        f"Per-op overhead, forward + backward, (4, 4) float32, chain of {N_OPS} ops "
        f"({args.rounds} rounds x {args.reps} reps, medians)"
    )
    for name, m in med.items():
        print(f"  {name:22s} {m:6.2f} us/op   ({m / med['pytorch']:.2f}x PyTorch's time)")
    print(f"  chainrule is {med['pytorch'] / med['chainrule']:.2f}x faster than PyTorch per op", flush=True)
    return {"rounds": args.rounds, "reps": args.reps, "us_per_op": med}


NAMES = {"chainrule": "chainrule", "pytorch": "PyTorch", "numpy (hand-written)": "NumPy, hand-written backward"}


def markdown(results):
    med = results["us_per_op"]
    rows = [(NAMES.get(k, k), f"{m:.2f}", f"{med['pytorch'] / m:.2f}x") for k, m in med.items()]
    return (
        f"Forward + backward of a chain of {N_OPS} ops (mul, add, tanh, subtract a number, four times; then a "
        f"sum) on (4, 4) float32 tensors, time per op; PyTorch on one thread; median of {results['rounds']} "
        f"rounds x {results['reps']} passes. The NumPy line is the same arithmetic with the backward written "
        "by hand (no graph): the floor for any NumPy library.\n\n"
        + table(["contender", "us per op", "speed vs PyTorch"], rows)
    )


if __name__ == "__main__":
    main()
