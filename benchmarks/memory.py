"""Peak memory of one training epoch, each contender measured alone in a fresh process.

    python -m benchmarks.memory [--quick] [--threads N]         # every case and contender, then a table
    python -m benchmarks.memory CONTENDER CASE [--samples N] [--threads N]   # one measurement, as JSON

CASE is ``mlp`` (784-256-128-10 of ``benchmarks.train_mlp``, SGD with momentum, batch 128, 60,000
MNIST-shaped samples) or ``cnn`` (the LeNet-5-like net of ``benchmarks.cnn``, batch 64, 6,400 samples).
CONTENDER is ``chainrule`` (``Trainer.fit``), ``pytorch``, ``numpy`` (the hand-written loop) or
``sklearn`` (``MLPClassifier.partial_fit``, MLP only): the same code the speed benchmarks time.

The process imports only what its contender needs, creates the data and the model, and records its
resident set size (VmRSS); then it resets the kernel's peak-RSS mark (``/proc/self/clear_refs``) and
trains one epoch. Two figures come back:

* peak RSS: the largest resident size of the whole process (libraries, data, model and the epoch;
  VmHWM, since a child's ru_maxrss starts at its parent's peak);
  importing PyTorch alone costs a few hundred MiB, so this says more about the library than the training;
* peak growth: the largest resident size during the epoch minus the size just before it: activations,
  gradients, optimizer state, batch copies and whatever the library's allocator keeps. This is the fair
  figure for comparing the training loops.

Where the peak mark cannot be reset (not Linux), the growth is ru_maxrss after the epoch minus the size
before it, which reads 0 if importing peaked higher than the epoch.
"""

import argparse
import gc
import json
import resource
import subprocess
import sys

from .common import ROOT, add_threads_argument, blas_threads, mib, set_blas_threads, table, threads_text

CASES = ("mlp", "cnn")
CONTENDERS = {"mlp": ("chainrule", "pytorch", "numpy", "sklearn"), "cnn": ("chainrule", "pytorch", "numpy")}
DEFAULT_SAMPLES = {"mlp": 60_000, "cnn": 6_400}
QUICK_SAMPLES = {"mlp": 6_000, "cnn": 640}
BATCH_SIZE = {"mlp": 128, "cnn": 64}


def _status():
    """VmRSS and VmHWM of this process, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) * 1024
    return out


def _maxrss():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024  # bytes on macOS, KiB elsewhere


def _worker(contender, case, samples, threads):
    if threads:
        set_blas_threads(threads)
    if contender == "pytorch":
        import torch

        torch.set_num_threads(blas_threads())
    if case == "mlp":
        from . import train_mlp as m
    else:
        from . import cnn as m
    if contender not in CONTENDERS[case]:
        raise SystemExit(f"benchmarks.memory: no contender {contender!r} for {case} (one of {CONTENDERS[case]})")
    X, y = m.make_data(samples, seed=0)
    epoch = m.make_epoch(contender, X, y, m.init_weights(0), BATCH_SIZE[case], "sgd")
    gc.collect()
    try:
        # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (fork, then exec)
        status = _status()
        peak_before, baseline = status["VmHWM"], status["VmRSS"]
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
        method = "VmHWM, reset before the epoch"
    except OSError:
        peak_before = baseline = _maxrss()  # no /proc: an upper bound of the RSS before the epoch
        method = "ru_maxrss (peak mark not reset)"
    epoch(BATCH_SIZE[case], 0)
    peak_epoch = _status()["VmHWM"] if method.startswith("VmHWM") else _maxrss()
    result = {
        "contender": contender,
        "case": case,
        "samples": samples,
        "batch_size": BATCH_SIZE[case],
        "threads": blas_threads(),
        "baseline_rss": baseline,
        "peak_rss": max(peak_before, peak_epoch),
        "peak_growth": max(0, peak_epoch - baseline),
        "method": method,
    }
    print(json.dumps(result))
    return result


def measure(contender, case, samples=None, threads=0, timeout=900):
    """Run one measurement in a fresh ``python -m benchmarks.memory CONTENDER CASE`` process; return its dict."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        contender,
        case,
        "--samples",
        str(samples or DEFAULT_SAMPLES[case]),
    ]
    if threads:
        cmd += ["--threads", str(threads)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_case(case, contenders=None, samples=None, threads=0):
    """``{contender: result}`` for every contender of ``case``, each in its own process; printed as it goes."""
    out = {}
    for c in contenders or CONTENDERS[case]:
        r = out[c] = measure(c, case, samples, threads)
        print(
            f"  memory, {case} {c:10s} peak RSS {mib(r['peak_rss']):>12s}, peak growth during the epoch "
            f"{mib(r['peak_growth']):>12s}  (RSS before the epoch {mib(r['baseline_rss'])})",
            flush=True,
        )
    return out


def columns(mem, contender):
    """The two table cells (peak RSS, peak growth) for ``contender``, '-' where not measured."""
    r = (mem or {}).get(contender)
    return (mib(r["peak_rss"]), mib(r["peak_growth"])) if r else ("-", "-")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", nargs="?", help="measure this contender only (worker mode), prints JSON")
    parser.add_argument("case", nargs="?", choices=CASES)
    parser.add_argument("--samples", type=int, default=0, help="samples in the epoch (0: the case's default)")
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    if args.contender is not None:
        if args.case is None:
            parser.error("give CONTENDER and CASE, or neither")
        return _worker(args.contender, args.case, args.samples or DEFAULT_SAMPLES[args.case], args.threads)
    threads = args.threads or blas_threads()
    results = {}
    for case in CASES:
        samples = args.samples or (QUICK_SAMPLES if args.quick else DEFAULT_SAMPLES)[case]
        print(
            f"{case}: one epoch of {samples:,} samples, batch {BATCH_SIZE[case]}, {threads_text(threads)}, "
            "each contender in a fresh process",
            flush=True,
        )
        results[case] = {
            "samples": samples,
            "batch_size": BATCH_SIZE[case],
            "threads": threads,
            "contenders": measure_case(case, samples=samples, threads=threads),
        }
    return results


def markdown(results):
    rows = [(case, c, *columns(r["contenders"], c)) for case, r in results.items() for c in r["contenders"]]
    return table(["case", "contender", "peak RSS", "peak growth during the epoch"], rows)


if __name__ == "__main__":
    main()
