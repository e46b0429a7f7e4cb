"""Helpers shared by the benchmarks: thread counts, alternating timing, the machine's description and Markdown.

Nothing here imports chainrule or PyTorch at module level, so that a memory-measuring subprocess
(``benchmarks.memory``) loads only the library it measures.
"""

import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent  # the repository: ``python -m benchmarks...`` runs from here


# ---- threads ---------------------------------------------------------------------------------------


def numpy_blas():
    """threadpoolctl's record of NumPy's own BLAS library (a dict), or None when threadpoolctl finds none."""
    from threadpoolctl import threadpool_info

    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # make sure NumPy's BLAS is loaded
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    own = [i for i in blas if "numpy" in i.get("filepath", "")]
    return (own or blas or [None])[0]


def blas_threads():
    """The number of threads NumPy's BLAS uses now (its environment variables and any threadpool_limits)."""
    try:
        info = numpy_blas()
    except ImportError:
        info = None
    if info is not None:
        return int(info["num_threads"])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit() and int(os.environ[var]) > 0:
            return int(os.environ[var])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_blas_threads(n):
    """Limit every BLAS library loaded in this process (NumPy's, SciPy's) to ``n`` threads from now on.

    The same call as ``chainrule.set_num_threads(n)``, made directly so that a process need not import chainrule.
    """
    from threadpoolctl import threadpool_limits

    np.dot(np.ones((2, 2)), np.ones((2, 2)))
    threadpool_limits(limits=int(n), user_api="blas")


def add_threads_argument(parser):
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for NumPy's BLAS and for PyTorch (0: NumPy's BLAS's own count)"
    )


def use_threads(n=0, torch=True):
    """Set NumPy's BLAS to ``n`` threads (when n > 0), PyTorch to the same count as NumPy's BLAS; return it."""
    if n and n > 0:
        set_blas_threads(n)
    threads = blas_threads()
    if torch:
        import torch as _torch

        _torch.set_num_threads(threads)
    return threads


# ---- timing ----------------------------------------------------------------------------------------


def alternate(contenders, rounds):
    """Run each ``contenders[name](round)`` once per round, the order reversed every other round.

    Returns ``{name: [seconds per round]}``.
    """
    names = list(contenders)
    times = {k: [] for k in names}
    for r in range(rounds):
        for k in names if r % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            contenders[k](r)
            times[k].append(time.perf_counter() - t0)
    return times


def median(values):
    return float(np.median(values))


# ---- the machine -----------------------------------------------------------------------------------


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git():
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}{' with uncommitted changes' if dirty else ''}" if commit else None


def environment():
    """The machine and the libraries as this process sees them now (a dict of strings)."""
    import sklearn
    import torch

    import chainrule

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    blas = numpy_blas() or {}
    config = torch.__config__.show()
    torch_blas = re.search(r"BLAS_INFO=(\w+)", config)
    torch_cpu = re.search(r"CPU capability usage: (\w+)", config)
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores ({usable} usable by this process), "
        f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "numpy": np.__version__,
        "numpy_blas": f"{blas.get('internal_api', '?')} {blas.get('version') or ''} "
        f"({blas.get('architecture', '?')}, {blas.get('threading_layer', '?')}), "
        f"{threads_text(blas.get('num_threads', '?'))}",
        "torch": torch.__version__,
        "torch_threads": f"{threads_text(torch.get_num_threads())} (interop {torch.get_num_interop_threads()}), "
        f"MKL {'yes' if torch.backends.mkl.is_available() else 'no'}"
        f"{f', BLAS_INFO={torch_blas[1]}' if torch_blas else ''}"
        f"{f', CPU capability {torch_cpu[1]}' if torch_cpu else ''}, "
        f"oneDNN {'yes' if torch.backends.mkldnn.is_available() else 'no'}",
        "sklearn": sklearn.__version__,
        "chainrule": f"{getattr(chainrule, '__version__', '?')}" + (f", git {g}" if (g := _git()) else ""),
    }


def environment_markdown(env, command):
    rows = [
        ("date", env["date"]),
        ("command", f"`{command}`"),
        ("machine", env["machine"]),
        ("Python", env["python"]),
        ("NumPy", f"{env['numpy']}; BLAS: {env['numpy_blas']}"),
        ("PyTorch", f"{env['torch']}; {env['torch_threads']}"),
        ("scikit-learn", f"{env['sklearn']} (its matrix products go through NumPy's BLAS)"),
        ("chainrule", env["chainrule"]),
    ]
    return table(["", ""], rows)


# ---- formatting ------------------------------------------------------------------------------------


def table(header, rows):
    """A Markdown table (every cell is str()-ed; '|' inside a cell is escaped)."""

    def cell(v):
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def rate(x):
    """Samples per second, short: 812, 40.1k, 1.23M."""
    if x is None or not np.isfinite(x):
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"


def ratio(x):
    return "-" if x is None or not np.isfinite(x) else f"{x:.2f}x"


def threads_text(n):
    return f"{n} thread{'' if n == 1 else 's'}"


def mib(n):
    return "-" if n is None else f"{n / 2**20:,.1f} MiB"


def command_line():
    return " ".join(["python", "-m", "benchmarks", *sys.argv[1:]])


def torch_training(model, opt, loss_fn, X, y):
    """The usual PyTorch loop over ``randperm`` batches, as the (epoch, step) pair the training cases time:
    ``epoch(batch_size, seed)`` runs one shuffled epoch over (X, y); ``step(xb, yb)`` one update, returning
    the weights (NumPy copies) for the check that the contenders compute the same thing."""
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def one(xb, yb):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    def epoch(batch_size, seed):
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(Xt), generator=g)
        for s in range(0, len(Xt), batch_size):
            idx = order[s : s + batch_size]
            one(Xt[idx], yt[idx])

    def step(xb, yb):
        one(torch.from_numpy(xb), torch.from_numpy(yb))
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}

    return epoch, step
