"""Explanations: chainrule.explain against Captum (and SHAP for exact Shapley values): rows explained per second,
with the same weights and the same thread count, after checking that the attributions agree.

The cases (``--cases`` picks some):

* ``mlp_ig``, ``mlp_deeplift``: German credit (``chainrule.data.datasets.german_credit()``, all 1,000 rows,
  ``Preprocessor(target="credit_risk")``: 61 float32 features) through the network ``chainrule train`` builds for
  it, Linear(61, 64) - ReLU - Linear(64, 32) - ReLU - Linear(32, 2) (``nn.mlp(61, [64, 32], 2)``, random
  PyTorch-style initialisation, seed 0; ``train`` adds Dropout(0.1) after each ReLU, the identity in eval mode,
  left out here), target 1 ('good'), zero baseline. Integrated gradients: 50 Gauss-Legendre steps,
  ``integrated_gradients`` against Captum's ``IntegratedGradients`` at its default ``internal_batch_size=None``
  (all 50 x 1,000 points in one batch; chainrule sizes its batches itself). DeepLIFT: ``deeplift`` against
  Captum's ``DeepLift``.
* ``shapley``: exact Shapley values over the 20 CSV columns (``groups=`` the Preprocessor: 2^20 coalitions) of
  one applicant against one background row: the first pair of rows of the table that differ in every one of the
  20 columns (a column in which the two agree would be a null player and halve the work). Captum has nothing
  that computes exact Shapley values over groups (its ``ShapleyValues`` enumerates permutations, 20! of them);
  the contender is SHAP's ``ExactExplainer`` on the same game: 20 on/off players (an ``Independent`` masker
  over a row of zeros), each coalition turned into the row of the applicant's groups in play and the
  background's elsewhere and run through the PyTorch copy of the model. ``shapley_kmeans``: the same applicant
  against a background of 5 k-means centres (``summarize_background(X, 5, groups=pre)``, weighted by cluster
  size): up to 5x the model evaluations (a column in which every centre equals the applicant is a null player,
  left out: 2 of the 20 for this applicant, so 2^18 coalitions x 5 rows).
* ``cnn_ig``, ``cnn_deeplift``, ``cnn_occlusion``: the CNN ``chainrule train --model cnn`` builds
  (``chainrule.cli.commands.build_cnn(10)``: Conv2d(1, 32, 3, padding=1) - ReLU - MaxPool2d(2) - Conv2d(32, 64,
  3, padding=1) - ReLU - MaxPool2d(2) - Flatten - Linear(3136, 128) - ReLU - Dropout(0.25) - Linear(128, 10),
  random weights, seed 0, eval mode) on 100 MNIST test digits (../shared/data/mnist, scaled to [0, 1]; random
  images of that shape where the files are missing), target each image's predicted class, zero baseline.
  Integrated gradients as above, against Captum at its default (all 5,000 points in one batch) and at
  ``internal_batch_size`` = chainrule's own batch (the same points per forward); DeepLIFT; occlusion with a
  6 x 6 window, stride 3 (81 windows, the last ones cut at the edge) against Captum's ``Occlusion`` at its
  default ``perturbations_per_eval=1`` (the fastest setting here).

Before any timing each pair is checked on a few rows: the largest difference must be under 1e-4 of the largest
|attribution|. Two exceptions, both printed with their numbers: the CNN's integrated gradients are compared in
float64 (in float32 they differ by ~1e-3 of the largest value: at the first Gauss-Legendre point, alpha = 5.7e-4,
the activations of a max-pool window differ by less than float32's rounding of their common part, and the two
libraries' summation orders pick different maxima); and the CNN's DeepLIFT is compared with a layer-by-layer
DeepLIFT in float64 written here in PyTorch (rescale rule for ReLU, Captum's own max-pool rule, one multiplier
passed back), because Captum 0.9's ``DeepLift`` does not sum to delta on this network (two max-pools in a row):
its values differ from that reference by about 30% of the largest value.

Then the contenders alternate (one untimed call of each first, the order reversed every other round; a round
makes as many calls as keep it over 0.2 s, so the millisecond calls are not timed one by one) and the
median rows per second is printed with the ratio chainrule / contender. Unless ``--no-memory``, the peak memory
of one call is measured for each contender in a fresh process (``python -m benchmarks.explain --memory-of
CASE:CONTENDER``): the process builds the data and the model, resets the kernel's peak-RSS mark and makes the
call; the growth of the peak over the resident size just before it is reported (as ``benchmarks.memory``).

    python -m benchmarks.explain [--cases mlp_ig,shapley,...] [--rounds N] [--no-memory] [--threads N] [--quick]
"""

import argparse
import gc
import json
import subprocess
import sys
import time
import warnings

import numpy as np

from . import memory
from .common import (
    ROOT,
    add_threads_argument,
    alternate,
    median,
    mib,
    rate,
    ratio,
    set_blas_threads,
    table,
    threads_text,
    use_threads,
)

MNIST = ROOT.parent / "shared" / "data" / "mnist"
N_STEPS, METHOD = 50, "gausslegendre"
WINDOW, STRIDE = (1, 6, 6), 3
RTOL = 1e-4
KMEANS = 5
MEMORY_TARGET = 512 * 2**20
MIN_ROUND = 0.2  # seconds: cases faster than this make several calls per round

CASES = {  # name -> (contenders, title)
    "mlp_ig": (("chainrule", "captum"), "German credit MLP, integrated gradients (50 steps)"),
    "mlp_deeplift": (("chainrule", "captum"), "German credit MLP, DeepLIFT"),
    "shapley": (("chainrule", "shap"), "German credit MLP, exact Shapley over 20 columns, 1 background row"),
    "shapley_kmeans": (("chainrule", "shap"), f"the same, {KMEANS} k-means centres as background"),
    "cnn_ig": (("chainrule", "captum", "captum_batched"), "CNN, integrated gradients (50 steps)"),
    "cnn_deeplift": (("chainrule", "captum"), "CNN, DeepLIFT"),
    "cnn_occlusion": (("chainrule", "captum"), "CNN, occlusion 6x6 stride 3"),
}
NAMES = {"chainrule": "chainrule", "captum": "Captum", "captum_batched": "Captum, chainrule's batch",
         "shap": "SHAP ExactExplainer"}
TARGETS = {"mlp_ig": 2.0, "mlp_deeplift": 2.0, "cnn_ig": 1.0, "cnn_deeplift": 1.0}  # chainrule / contender speed
SHAPLEY_SECONDS = 5.0
ROUNDS = {"mlp": (9, 3), "shapley": (3, 1), "cnn": (5, 2)}  # (full, quick)


# ---- data and models ----------------------------------------------------------------------------------------


def credit():
    """(X float32 1000 x 61, the fitted Preprocessor)."""
    from chainrule.data import Preprocessor, datasets

    pre = Preprocessor(target="credit_risk")
    X, _ = pre.fit_transform(datasets.german_credit())
    return X.astype(np.float32), pre


def digits(n):
    """(n MNIST test digits (n, 1, 28, 28) float32 in [0, 1], where they came from); random ones without the files."""
    try:
        from chainrule.data import datasets

        images, _ = datasets.mnist(MNIST, "test")
        return (images[:n, None].astype(np.float32) / np.float32(255)), f"the first {n} MNIST test digits"
    except Exception:  # noqa: BLE001 - no files: the same shape at random
        X = np.random.default_rng(0).random((n, 1, 28, 28), dtype=np.float32)
        return X, f"{n} random (1, 28, 28) images (no MNIST files in {MNIST})"


def shapley_pair(X, pre):
    """(applicant row, background row): the first pair of rows that differ in every column group."""
    columns = [np.asarray(c) for c in pre.feature_groups().values()]
    differs = np.ones((len(X), len(X)), dtype=bool)
    for c in columns:
        differs &= (X[:, None, c] != X[None, :, c]).any(axis=2)
    i, j = np.argwhere(differs)[0]
    return int(i), int(j)


def chainrule_mlp(n_features):
    from chainrule import nn

    return nn.mlp(n_features, [64, 32], 2, generator=np.random.default_rng(0)).eval()


def chainrule_cnn():
    import chainrule as cr
    from chainrule.cli.commands import build_cnn

    cr.manual_seed(0)
    return build_cnn(10).eval()


def torch_copy(model, kind):
    """The same network in PyTorch with ``model``'s weights, in eval mode."""
    import torch
    from torch import nn

    if kind == "mlp":
        net = nn.Sequential(nn.Linear(61, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10),
        )
    net.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})
    return net.eval()


def setup(case, quick, with_torch=True):
    """What a case runs on: ``X``, ``target``, the chainrule ``model``, its PyTorch copy ``net`` (with_torch) and
    the case's own facts."""
    s = {"case": case}
    if case.startswith("cnn"):
        import chainrule as cr

        n = 20 if quick else 100
        s["X"], s["source"] = digits(n)
        s["model"] = chainrule_cnn()
        with cr.no_grad():
            s["target"] = s["model"](cr.tensor(s["X"])).numpy().argmax(axis=1)
        kind = "cnn"
    else:
        X, pre = credit()
        s["X"], s["pre"], s["target"], s["source"] = X, pre, 1, "German credit"
        s["model"] = chainrule_mlp(X.shape[1])
        kind = "mlp"
        if case.startswith("shapley"):
            from chainrule.explain import summarize_background

            i, j = shapley_pair(X, pre)
            s["applicant"], s["background_row"] = i, j
            s["x"] = X[i : i + 1]
            if case == "shapley":
                s["B"], s["w"] = X[j : j + 1], None
            else:
                s["B"], s["w"] = summarize_background(X, KMEANS, seed=0, groups=pre)
    if with_torch:
        s["net"] = torch_copy(s["model"], kind)
    return s


# ---- the contenders -----------------------------------------------------------------------------------------


def chainrule_batch(s):
    """The points per model call chainrule picks for this case's integrated gradients."""
    from chainrule import explain

    # the batch is sized from a forward and backward on the first 4 rows, so these 4 rows get the same one
    e = explain.integrated_gradients(s["model"], s["X"][:4], _rows(s["target"], slice(0, 4)), n_steps=2)
    return e.info["batch_size"]


def _rows(target, rows):
    return target if target is None or isinstance(target, int) else target[rows]


def runner(s, contender):
    """``run(rows)`` -> the attributions (a float64 array) of ``X[rows]`` by ``contender``; for the Shapley cases
    (one applicant) ``rows`` is ignored."""
    from chainrule import explain

    case, model = s["case"], s["model"]
    if contender == "chainrule":
        if case.endswith("_ig"):
            return lambda rows: explain.integrated_gradients(
                model, s["X"][rows], _rows(s["target"], rows), n_steps=N_STEPS, method=METHOD
            ).values
        if case.endswith("_deeplift"):
            return lambda rows: explain.deeplift(model, s["X"][rows], _rows(s["target"], rows)).values
        if case == "cnn_occlusion":
            return lambda rows: explain.occlusion(
                model, s["X"][rows], _rows(s["target"], rows), window=WINDOW, stride=STRIDE, baseline=0
            ).values
        return lambda rows: explain.shapley(
            model, s["x"], s["target"], background=s["B"], background_weights=s["w"], groups=s["pre"]
        ).values
    if contender == "shap":
        return _shap_runner(s)

    import torch
    from captum.attr import DeepLift, IntegratedGradients, Occlusion

    net, Xt = s["net"], torch.from_numpy(s["X"])
    tt = torch.from_numpy(s["target"]) if isinstance(s["target"], np.ndarray) else s["target"]

    def ig(batch):
        return lambda rows: IntegratedGradients(net).attribute(
            Xt[rows], target=_rows(tt, rows), n_steps=N_STEPS, method=METHOD, internal_batch_size=batch
        ).detach().numpy().astype(np.float64)

    if case.endswith("_ig"):
        return ig(chainrule_batch(s) if contender == "captum_batched" else None)
    if case.endswith("_deeplift"):
        return lambda rows: DeepLift(net).attribute(Xt[rows], target=_rows(tt, rows)).detach().numpy().astype(
            np.float64
        )
    return lambda rows: Occlusion(net).attribute(
        Xt[rows], target=_rows(tt, rows), sliding_window_shapes=WINDOW, strides=STRIDE, baselines=0
    ).detach().numpy().astype(np.float64)


def _shap_runner(s):
    """SHAP's ExactExplainer on the coalition game of the 20 groups: player j on takes group j from the applicant,
    off from the background row (averaged over the background rows with their weights)."""
    import shap
    import torch

    net, x, B = s["net"], s["x"][0], s["B"]
    w = np.ones(len(B)) if s["w"] is None else np.asarray(s["w"], dtype=np.float64)
    w = w / w.sum()
    groups = [np.asarray(c) for c in s["pre"].feature_groups().values()]
    owner = np.empty(x.shape[0], dtype=np.int64)
    for g, c in enumerate(groups):
        owner[c] = g
    k = len(groups)

    def game(M):
        on = np.asarray(M, dtype=bool)[:, owner]  # (m, 61)
        Z = np.where(on[:, None, :], x, B[None]).reshape(-1, x.shape[0]).astype(np.float32)
        with torch.no_grad():
            out = net(torch.from_numpy(Z))[:, s["target"]].numpy().astype(np.float64)
        return out.reshape(len(on), len(B)) @ w

    def run(rows=None):
        explainer = shap.explainers.Exact(game, shap.maskers.Independent(np.zeros((1, k)), max_samples=1))
        return np.asarray(explainer(np.ones((1, k)), max_evals=2**k + 2, silent=True).values, dtype=np.float64)

    return run


# ---- the checks ---------------------------------------------------------------------------------------------


def relative(a, b):
    """max |a - b| over max |b|."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _deeplift_reference(net, X, target):
    """DeepLIFT of a Sequential of Conv2d / Linear / ReLU / MaxPool2d(2) / Flatten / Dropout (eval) against a zero
    baseline, layer by layer in float64: the rescale rule for ReLU, Captum's max-pool rule (the larger of the two
    outputs M: M - y0 back through the maxima of x, y - M through those of x0), one multiplier passed back."""
    import copy

    import torch
    import torch.nn.functional as F
    from torch import nn

    net = copy.deepcopy(net).double()
    x = torch.from_numpy(X.astype(np.float64))
    acts, acts0 = [x], [torch.zeros_like(x)]
    with torch.no_grad():
        for layer in net:
            acts.append(layer(acts[-1]))
            acts0.append(layer(acts0[-1]))
    t = torch.from_numpy(np.asarray(target))
    m = F.one_hot(t, acts[-1].shape[1]).double()
    for i in reversed(range(len(net))):
        layer, a, a0, y, y0 = net[i], acts[i], acts0[i], acts[i + 1], acts0[i + 1]
        da = a - a0
        small = da.abs() < 1e-10
        if isinstance(layer, nn.ReLU):
            m = torch.where(small, m * (a > 0), m * (y - y0) / torch.where(small, 1, da))
        elif isinstance(layer, nn.MaxPool2d):
            top, size = torch.maximum(y, y0), a.shape[-2:]
            _, ix = F.max_pool2d(a, 2, 2, return_indices=True)
            _, ix0 = F.max_pool2d(a0, 2, 2, return_indices=True)
            u = F.max_unpool2d(m * (top - y0), ix, 2, 2, output_size=size) + F.max_unpool2d(
                m * (y - top), ix0, 2, 2, output_size=size
            )
            m = torch.where(small, F.max_unpool2d(m, ix, 2, 2, output_size=size), u / torch.where(small, 1, da))
        else:  # linear in its input: the multiplier goes back as the gradient does
            ai = a.clone().requires_grad_(True)
            m = torch.autograd.grad(layer(ai), ai, m)[0]
    return (m * x).numpy()


def check(s, runners, rows):
    """Compare the contenders' attributions on ``X[rows]`` (see the module docstring); raise if they disagree.
    Returns the figures printed."""
    case = s["case"]
    out = {}
    if case == "cnn_ig":
        import copy

        from captum.attr import IntegratedGradients

        ours32 = runners["chainrule"](rows)
        out["float32 difference"] = relative(ours32, runners["captum"](rows))
        net64 = copy.deepcopy(s["net"]).double()
        import torch

        from chainrule import explain

        X64 = s["X"][rows].astype(np.float64)
        ours = explain.integrated_gradients(s["model"], X64, s["target"][rows], n_steps=N_STEPS, method=METHOD)
        theirs = IntegratedGradients(net64).attribute(
            torch.from_numpy(X64), target=torch.from_numpy(s["target"][rows]), n_steps=N_STEPS, method=METHOD
        )
        out["float64 difference"] = err = relative(ours.values, theirs.detach().numpy())
        what = "Captum in float64"
    elif case == "cnn_deeplift":
        from chainrule import explain

        X64 = s["X"][rows].astype(np.float64)
        ours = explain.deeplift(s["model"], X64, s["target"][rows]).values
        ref = _deeplift_reference(s["net"], s["X"][rows], s["target"][rows])
        out["difference to the float64 reference"] = err = relative(ours, ref)
        out["Captum's difference to the reference"] = relative(runners["captum"](rows), ref)
        out["chainrule float32 vs Captum"] = relative(runners["chainrule"](rows), runners["captum"](rows))
        what = "the layer-by-layer DeepLIFT in float64"
    else:
        values = {k: f(rows) for k, f in runners.items()}
        others = [k for k in values if k != "chainrule"]
        err = max(relative(values["chainrule"], values[k]) for k in others) if others else 0.0
        if others:
            out["difference"] = err
        what = " and ".join(NAMES[k] for k in others)
        if case.startswith("shapley") and not others:  # quick: SHAP left out; completeness instead
            from chainrule import explain

            e = explain.shapley(s["model"], s["x"], s["target"], background=s["B"], background_weights=s["w"],
                                groups=s["pre"])
            out["completeness error"] = err = float(np.abs(e.delta).max() / np.abs(e.values).max())
            what = "its own completeness (values sum to output - base value)"
    if not err <= RTOL:
        raise AssertionError(f"explain benchmark, {case}: chainrule differs from {what} by {err:.3g} of the largest "
                             f"attribution (allowed {RTOL:g}): {out}")
    out["against"] = what
    return out


# ---- memory: one call in a fresh process --------------------------------------------------------------------


def _worker(spec, quick, threads):
    case, contender = spec.split(":")
    if threads:
        set_blas_threads(threads)
    if contender != "chainrule":
        import torch

        from .common import blas_threads

        torch.set_num_threads(blas_threads())
        import captum.attr  # noqa: F401 - imported before the baseline, as chainrule.explain is
        if contender == "shap":
            import shap  # noqa: F401
    import chainrule.explain  # noqa: F401

    warnings.simplefilter("ignore")
    s = setup(case, quick, with_torch=contender != "chainrule")
    run = runner(s, contender)
    rows = slice(None)
    gc.collect()
    status = memory._status()
    baseline, peak_before = status["VmRSS"], status["VmHWM"]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS mark to the current RSS
    run(rows)
    peak = memory._status()["VmHWM"]
    result = {"case": case, "contender": contender, "baseline_rss": baseline, "peak_rss": max(peak, peak_before),
              "peak_growth": max(0, peak - baseline), "torch_imported": "torch" in sys.modules}
    print(json.dumps(result))
    return result


def measure(case, contender, quick, threads, timeout=900):
    cmd = [sys.executable, "-m", "benchmarks.explain", "--memory-of", f"{case}:{contender}"]
    cmd += (["--quick"] if quick else []) + (["--threads", str(threads)] if threads else [])
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the run ------------------------------------------------------------------------------------------------


def _n(s):
    return 1 if s["case"].startswith("shapley") else len(s["X"])


def run_case(case, quick, rounds, threads, with_memory):
    contenders, title = CASES[case]
    if quick and case.startswith("shapley"):
        contenders = ("chainrule",)  # SHAP takes ~10 s per call: full runs only
    s = setup(case, quick)
    runners = {k: runner(s, k) for k in contenders}
    n = _n(s)
    checked = check(s, runners, slice(0, 8 if case.startswith("mlp") else 4))
    everything = slice(None)
    repeat = 1
    if not case.startswith("shapley"):  # (the check was the Shapley cases' warm-up: the same call)
        warm = []
        for f in runners.values():
            t0 = time.perf_counter()
            f(everything)
            warm.append(time.perf_counter() - t0)
        repeat = max(1, min(50, int(MIN_ROUND / min(warm))))  # calls per round: no round shorter than ~0.2 s

    def calls(f):
        for _ in range(repeat):
            f(everything)

    times = alternate({k: (lambda r, f=f: calls(f)) for k, f in runners.items()}, rounds)
    seconds = {k: median(v) / repeat for k, v in times.items()}
    result = {"case": case, "title": title, "rows": n, "rounds": rounds, "repeat": repeat, "seconds": seconds,
              "rates": {k: n / v for k, v in seconds.items()}, "check": checked, "source": s["source"],
              "memory": {}}
    if case.startswith("shapley"):
        from chainrule import explain

        e = explain.shapley(s["model"], s["x"], s["target"], background=s["B"], background_weights=s["w"],
                            groups=s["pre"])
        result.update(applicant=s["applicant"], background_row=s["background_row"], n_background=len(s["B"]),
                      evaluations=int(e.info["n_evaluations"]), coalitions=int(e.info["n_coalitions_evaluated"]))
    if case == "cnn_ig":
        result["chainrule_batch"] = chainrule_batch(s)
    facts = ", ".join(f"{k} {v:.2g}" if isinstance(v, float) else f"{k}: {v}" for k, v in checked.items())
    print(f"{case}: {title}; {n} row{'s' if n != 1 else ''} ({s['source']}), {threads_text(threads)}, "
          f"{rounds} rounds of {repeat} call{'s' if repeat != 1 else ''} each, medians; checked: {facts}", flush=True)
    for k, v in seconds.items():
        vs = f"chainrule {v / seconds['chainrule']:.2f}x this speed" if k != "chainrule" else ""
        print(f"  {NAMES[k]:26s} {v:8.3f} s per call, {n / v:10,.1f} rows/s   {vs}", flush=True)
    if with_memory:
        for k in contenders:
            m = result["memory"][k] = measure(case, k, quick, threads)
            print(f"  memory, {NAMES[k]:18s} peak growth during one call {mib(m['peak_growth']):>12s} (peak RSS "
                  f"{mib(m['peak_rss'])})", flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help=f"comma-separated, of: {', '.join(CASES)} (default all)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds per case (default 9 MLP / 3 Shapley / 5 CNN; "
                        "quick 3 / 1 / 2)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurements")
    parser.add_argument("--quick", action="store_true", help="20 CNN images, fewer rounds, no SHAP contender")
    parser.add_argument("--memory-of", default="", help=argparse.SUPPRESS)  # worker: CASE:CONTENDER
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    if args.memory_of:
        return _worker(args.memory_of, args.quick, args.threads)
    names = [c.strip() for c in args.cases.split(",") if c.strip()] or list(CASES)
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; the cases are {', '.join(CASES)}")

    import captum
    import torch

    threads = use_threads(args.threads)
    warnings.simplefilter("ignore")  # Captum's notes on hooks and on setting requires_grad
    print(f"explanations: chainrule.explain vs Captum {captum.__version__} (PyTorch {torch.__version__}), "
          f"{threads_text(threads)}", flush=True)
    try:
        import shap

        shap_version = shap.__version__
    except ImportError:
        shap_version = None
    results = {"threads": threads, "quick": args.quick, "captum": captum.__version__, "shap": shap_version,
               "cases": {}}
    for case in names:
        full, quick = ROUNDS[case.split("_")[0]]
        rounds = args.rounds or (quick if args.quick else full)
        results["cases"][case] = run_case(case, args.quick, rounds, threads, not args.no_memory)
    return results


def _speed(r, k):
    if r["case"].startswith("shapley"):
        return f"{r['seconds'][k]:.2f} s/applicant"
    return f"{rate(r['rates'][k])} rows/s"


def _target(r, k):
    """(target text, met text) for chainrule against contender ``k`` (or alone when k is None)."""
    case = r["case"]
    if case == "shapley":
        return f"< {SHAPLEY_SECONDS:g} s/applicant", "yes" if r["seconds"]["chainrule"] < SHAPLEY_SECONDS else "NO"
    if case in TARGETS and k is not None:
        t = TARGETS[case]
        return f">= {t:g}x", "yes" if r["rates"]["chainrule"] / r["rates"][k] >= t else "NO"
    return "-", "-"


def markdown(results):
    rows = []
    single = results["cases"].get("shapley")
    for case, r in results["cases"].items():
        others = [k for k in r["seconds"] if k != "chainrule"] or [None]
        mem = r["memory"]
        for k in others:
            label = r["title"]
            if case == "shapley_kmeans" and single:
                growth = r["seconds"]["chainrule"] / single["seconds"]["chainrule"]
                label += (f" (chainrule: {growth:.2f}x the time of 1 background row for "
                          f"{r['evaluations'] / single['evaluations']:.2f}x the model evaluations)")
            target, met = _target(r, k)
            rows.append((
                label, r["rows"], _speed(r, "chainrule"), NAMES.get(k, "-"), _speed(r, k) if k else "-",
                ratio(r["rates"]["chainrule"] / r["rates"][k]) if k else "-", target, met,
                mib(mem["chainrule"]["peak_growth"]) if "chainrule" in mem else "-",
                mib(mem[k]["peak_growth"]) if k in mem else "-",
            ))
    header = ["case", "rows", "chainrule", "contender", "contender's speed", "chainrule / contender", "target", "met",
              "chainrule peak growth", "contender peak growth"]
    notes = []
    for case, r in results["cases"].items():
        c = r["check"]
        figures = "; ".join(f"{k} {v:.2g}" for k, v in c.items() if isinstance(v, float))
        notes.append(f"* {case}: agrees with {c['against']} ({figures}, of the largest |attribution|)")
        if case.startswith("shapley"):
            players = int(np.log2(r["coalitions"]))
            notes[-1] += (f"; applicant row {r['applicant']} against "
                          + (f"row {r['background_row']}" if r["n_background"] == 1 else f"{r['n_background']} "
                             "k-means centres") + f": {players} of the 20 columns in play"
                          + ("" if players == 20 else " (in the others every background row equals the applicant: "
                             "null players, left out)")
                          + f", {r['coalitions']:,} coalitions, {r['evaluations']:,} model evaluations, "
                          f"chainrule {1e6 * r['seconds']['chainrule'] / r['evaluations']:.2f} us per evaluation")
            if "shap" in r["seconds"]:
                notes[-1] += (f"; SHAP evaluates every coalition against every background row: "
                              f"{2**20 * r['n_background']:,} evaluations")
        if case == "cnn_ig":
            notes[-1] += f"; chainrule's batch: {r['chainrule_batch']} points"
    mem_ok = [m["peak_growth"] < MEMORY_TARGET for r in results["cases"].values() for k, m in r["memory"].items()
              if k == "chainrule"]
    memory_line = (f"chainrule's peak growth under {mib(MEMORY_TARGET)} in every case: "
                   f"{'yes' if all(mem_ok) else 'NO'}." if mem_ok else "Memory not measured.")
    sources = sorted({r["source"] for r in results["cases"].values()})
    return (
        f"chainrule.explain against Captum {results['captum']} (and SHAP {results.get('shap') or '-'}'s "
        "ExactExplainer for exact Shapley values; left out of quick runs), "
        f"the same weights, {threads_text(results['threads'])}; data: {', '.join(sources)}; medians over rounds "
        "(the contenders alternating, each called once untimed first, a round repeating calls of a few "
        "milliseconds). \"chainrule / contender\" is chainrule's "
        "rows/s over the contender's (above 1: chainrule faster). Peak growth: one call in a fresh process, the "
        f"peak resident size during it minus the size just before. {memory_line}\n\n"
        + table(header, rows) + "\n\nChecks before timing (largest difference over the largest |attribution|):\n\n"
        + "\n".join(notes)
    )


if __name__ == "__main__":
    out = main()
    if isinstance(out, dict) and "cases" in out:
        print()
        print(markdown(out))
