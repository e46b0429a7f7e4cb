"""Run every benchmark and write one Markdown file of results.

    python -m benchmarks                      # everything: 3-4 minutes on 2 idle cores, longer when busy
    python -m benchmarks --quick              # a short run (fewer samples and rounds), under a minute
    python -m benchmarks --only mlp,cnn       # some cases only (names: see --help)
    python -m benchmarks --threads 1          # NumPy's BLAS and PyTorch both on 1 thread
    python -m benchmarks --output PATH        # default benchmarks/RESULTS.md

Each case prints as it goes; the file, rewritten after each case, starts with the machine and the
libraries (versions, BLAS library and thread counts), then one section per case. NumPy's BLAS and
PyTorch use the same number of threads: ``--threads`` sets both, else NumPy's BLAS's own count
(OPENBLAS_NUM_THREADS, or every core) is used for PyTorch too.
"""

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from .common import ROOT, environment, environment_markdown, use_threads

# name -> (module, title, whether it takes --threads)
CASES = {
    "op_overhead": ("op_overhead", "Per-op overhead (tiny tensors)", False),
    "layers": ("layers", "Single layers: Linear and Conv2d, forward + backward", True),
    "mlp": ("train_mlp", "MLP training: SGD with momentum and Adam", True),
    "cnn": ("cnn", "CNN training: LeNet-5-like on MNIST-shaped data", True),
    "german_credit": ("german_credit", "German credit: a one-hidden-layer network on a real table", True),
    "dataloader": ("dataloader", "Data loading alone", True),
    "sklearn_digits": ("sklearn_digits", "scikit-learn API: NeuralNetClassifier vs MLPClassifier on digits", True),
    "explain": ("explain", "Explanations: chainrule.explain vs Captum (and SHAP's exact Shapley values)", True),
}

READING = """How to read these tables: every case runs its contenders side by side in one process (peak memory:
one fresh process per contender), on the same data, alternating them round by round (the order reversed
every other round), and reports medians over rounds. "Speed vs PyTorch" is PyTorch's time divided by the
contender's (samples/s divided by PyTorch's samples/s): above 1 is faster than PyTorch. "chainrule's speed /
this" compares chainrule with each contender the same way. The machine is shared and noisy: compare ratios
within one run rather than absolute numbers across runs. The hand-written NumPy contenders (no autograd, no
framework) show what plain NumPy allows on this machine; chainrule is always trained through its public API
(Trainer, DataLoader, nn, optim). See benchmarks/README.md for the cases."""


def _load():
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "?"


def _busy_warning(threads):
    """A note when other processes keep the cores busy and this run has a thread per core: the results will swing."""
    try:
        usable = len(os.sched_getaffinity(0))
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return ""
    if threads < usable or load < 1.0:
        return ""
    return (
        f"the machine was busy (load average {load:.2f} over the last minute) and this run uses {threads} threads "
        f"on {usable} cores: every parallel region can wait for a core another process holds, and times may swing "
        "by 10x or more. `--threads 1` gives steadier numbers on a shared machine."
    )


def _write(path, header, sections):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([header, *sections]) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer samples and rounds")
    parser.add_argument("--only", default="", help=f"comma-separated cases, of: {', '.join(CASES)}")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="the Markdown file")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads for NumPy's BLAS and PyTorch (default: NumPy's BLAS's own count)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; the cases are {', '.join(CASES)}")
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except AttributeError:
        pass

    threads = use_threads(args.threads)
    env = environment()
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
    load_start = _load()
    print(
        f"{env['date']}: {env['machine']}\nPython {env['python']}, NumPy {env['numpy']} ({env['numpy_blas']}), "
        f"PyTorch {env['torch']} ({env['torch_threads']}), scikit-learn {env['sklearn']}; load average "
        f"{load_start}\ncases: {', '.join(names)}{' (quick)' if args.quick else ''}\n"
    )
    warning = _busy_warning(threads)
    if warning:
        print(f"note: {warning}\n")
    output = Path(args.output)
    sections, failed = [], []
    started = time.perf_counter()

    def header(done):
        timing = f"Load average (1, 5, 15 min) at the start: {load_start}" + (
            f"; at the end: {_load()}; wall time {time.perf_counter() - started:.0f} s."
            if done
            else "; the run is still going."
        )
        return "\n\n".join(
            [
                "# chainrule benchmark results" + (" (quick run)" if args.quick else ""),
                environment_markdown(env, command),
                timing + (f" Note: {warning}" if warning else ""),
                READING,
            ]
        )

    for name in names:
        module_name, title, takes_threads = CASES[name]
        print(f"=== {name}: {title}", flush=True)
        case_argv = (["--quick"] if args.quick else []) + (["--threads", str(threads)] if takes_threads else [])
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{module_name}")
            results = module.main(case_argv)
            body = module.markdown(results)
        except Exception:  # report it, and go on with the other cases
            traceback.print_exc()
            failed.append(name)
            body = "**Failed:**\n\n```\n" + traceback.format_exc(limit=5).strip() + "\n```"
        seconds = time.perf_counter() - t0
        print(f"    ({seconds:.0f} s)\n", flush=True)
        command_line = f"python -m benchmarks.{module_name} {' '.join(case_argv)}".strip()
        sections.append(f"## {title}\n\n`{command_line}` ({seconds:.0f} s)\n\n{body}")
        _write(output, header(False), sections)
    _write(output, header(True), sections)
    print(f"wrote {output} ({time.perf_counter() - started:.0f} s in all)")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
