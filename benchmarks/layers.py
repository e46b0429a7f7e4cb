"""Layer speed: forward plus backward time of Linear and Conv2d, chainrule against PyTorch (CPU).

Two layers, each run as a hidden layer would be (the gradients of the input, the weight and
the bias are all computed, for a fixed random upstream gradient):

* Linear(784, 256) on a batch of (128, 784);
* Conv2d(16, 32, 3, padding=1) on a batch of (64, 16, 28, 28).

Both libraries use the same number of threads: NumPy's BLAS takes its count from
OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) when set, else uses every core this process may
use (``--threads N`` sets it), and PyTorch is set to the same count. The contenders alternate round by round and the
medians over rounds are printed, in ms per step, with the ratio to PyTorch.

    python -m benchmarks.layers [--rounds 7] [--reps 0 (auto)] [--threads N] [--quick]
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.layers     # one thread each (steadier on a busy machine)
"""

import argparse
import time

import numpy as np

from .common import add_threads_argument, blas_threads, table, threads_text, use_threads


def _threads():
    """The thread count of NumPy's BLAS now (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS when NumPy was imported,
    else every core this process may use, unless limited since by threadpoolctl)."""
    return blas_threads()


def _time_ms(step, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t0) / reps * 1e3


def _case(name, cr_layer, torch_layer, x_shape, reps, rounds, seed=0):
    import torch

    import chainrule as cr

    torch_layer.load_state_dict({k: torch.tensor(v) for k, v in cr_layer.state_dict().items()})
    rng = np.random.default_rng(seed)
    xn = rng.standard_normal(x_shape).astype(np.float32)
    x, xt = cr.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    with cr.no_grad():
        out_shape = cr_layer(x).shape
    gn = rng.standard_normal(out_shape).astype(np.float32)
    gt = torch.tensor(gn)
    cr_params, torch_params = [x, *cr_layer.parameters()], [xt, *torch_layer.parameters()]

    def cr_step():
        cr_layer(x).backward(gn)
        for p in cr_params:
            p.grad = None

    def torch_step():
        torch_layer(xt).backward(gt)
        for p in torch_params:
            p.grad = None

    # the same result first: a benchmark of a wrong computation is worthless
    cr_layer(x).backward(gn)
    torch_layer(xt).backward(gt)
    for p, q in zip(cr_params, torch_params):  # float32 sums over the batch: errors scale with the largest value
        want = q.grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-3, atol=1e-5 * np.abs(want).max())
        p.grad = q.grad = None

    contenders = {"chainrule": cr_step, "pytorch": torch_step}
    for f in contenders.values():  # warm up
        _time_ms(f, 3)
    if reps <= 0:  # about 0.2 s per contender and round
        slowest = max(min(_time_ms(f, 1) for _ in range(3)) for f in contenders.values())
        reps = max(1, int(200 / slowest))
    results = {k: [] for k in contenders}
    for r in range(rounds):
        order = list(contenders.items())
        if r % 2:
            order.reverse()  # alternate who goes first
        for k, f in order:
            results[k].append(_time_ms(f, reps))
    med = {k: float(np.median(v)) for k, v in results.items()}
    print(f"{name}: input {x_shape}, forward + backward (input, weight, bias), {rounds} rounds x {reps} reps, medians")
    for k, m in med.items():
        print(f"  {k:10s} {m:8.3f} ms/step   ({m / med['pytorch']:.2f}x PyTorch's time)", flush=True)
    return {"name": name, "input": x_shape, "reps": reps, "ms": med}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 7; quick 3)")
    parser.add_argument("--reps", type=int, default=0, help="steps per round and contender (0: about 0.2 s)")
    parser.add_argument("--quick", action="store_true", help="a short run: fewer rounds")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 7)

    import torch

    import chainrule as cr
    from chainrule import nn

    threads = use_threads(args.threads)
    print(f"{threads_text(threads)} (PyTorch {torch.__version__}, NumPy {np.__version__}), float32")
    cr.manual_seed(0)
    results = {
        "linear": _case(
            "Linear(784, 256)", nn.Linear(784, 256), torch.nn.Linear(784, 256), (128, 784), args.reps, args.rounds
        ),
        "conv2d": _case(
            "Conv2d(16, 32, 3, padding=1)",
            nn.Conv2d(16, 32, 3, padding=1),
            torch.nn.Conv2d(16, 32, 3, padding=1),
            (64, 16, 28, 28),
            args.reps,
            args.rounds,
        ),
    }
    return {"threads": threads, "rounds": args.rounds, "cases": results}


def markdown(results):
    rows = []
    for r in results["cases"].values():
        ms = r["ms"]
        rows.append(
            (
                f"{r['name']}, input {r['input']}",
                f"{ms['chainrule']:.3f} ms",
                f"{ms['pytorch']:.3f} ms",
                f"{ms['pytorch'] / ms['chainrule']:.2f}x",
            )
        )
    return (
        f"Forward + backward (gradients of the input, the weight and the bias) of one layer; "
        f"{threads_text(results['threads'])}; median of {results['rounds']} rounds of about 0.2 s each.\n\n"
        + table(["layer", "chainrule", "PyTorch", "chainrule's speed vs PyTorch"], rows)
    )


if __name__ == "__main__":
    main()
