"""``chainrule explain MODEL DATA``: each applicant's decision, principal reasons and what would change it."""

import json
import sys

from ..errors import ArgumentError, DataError
from .commands import _add_reading, _check_output, _names, _read_for, _tabular, _typed

IMAGE_METHODS = ("ig", "saliency", "input_x_gradient", "deeplift", "occlusion")


def _rows_spec(text):
    """``--rows 0:10`` (a half-open range) or ``--rows 3,7,9``."""
    try:
        if ":" in text:
            start, stop = text.split(":", 1)
            start, stop = int(start or 0), int(stop)
            if start < 0 or stop <= start:
                raise ValueError
            return list(range(start, stop))
        rows = [int(t) for t in text.split(",")]
        if not rows or min(rows) < 0:
            raise ValueError
        return rows
    except ValueError:
        raise ArgumentError(f"--rows: expected START:STOP or N,N,... of row numbers from 0, got {text!r}") from None


def _count(option, least=0):
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise ArgumentError(f"{option}: expected a whole number, got {text!r}") from None
        if value < least:
            raise ArgumentError(f"{option}: must be at least {least}, got {value}")
        return value

    return convert


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(f"--threshold: expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise ArgumentError(f"--threshold: must lie strictly between 0 and 1, got {value}")
    return value


def add_explain(sub):
    from ..explain.report import METHODS

    p = sub.add_parser("explain", help="each applicant's decision, principal reasons and what would change it "
                                       "(image models: heat maps of what each prediction rests on)")
    p.add_argument("model", help="model file written by `chainrule train` (a binary classifier on a table, or an "
                                 "image model trained with --dataset)")
    p.add_argument("data", help="CSV (or Parquet) file of applicants, with the training columns; for an image "
                                "model, the folder of the dataset's IDX files (its test split is explained)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--row", type=_typed(_count("--row")), help="the row to explain (from 0; default 0)")
    which.add_argument("--rows", type=_typed(_rows_spec), help="rows to explain: START:STOP or N,N,...")
    which.add_argument("--all", action="store_true", help="explain every row")
    p.add_argument("--method", choices=list(METHODS) + [m for m in IMAGE_METHODS if m not in METHODS],
                   help="attribution method (tables: default deeplift, exact for the ReLU networks `train` makes; "
                        f"images: {', '.join(IMAGE_METHODS)}, default ig)")
    p.add_argument("--reasons", type=_typed(_count("--reasons", 1)), default=4,
                   help="at most this many principal reasons per refused applicant (default 4)")
    p.add_argument("--counterfactuals", type=_typed(_count("--counterfactuals")), default=None,
                   help="changes that would reverse a refusal, per refused applicant (default 1; 0: none)")
    p.add_argument("--immutable", type=_typed(_names("--immutable")), metavar="COL,...", default=[],
                   help="columns a counterfactual must not change (age, ...)")
    p.add_argument("--background", metavar="CSV",
                   help="the applicants whose approved ones nearest the cutoff are the baseline, and whose ranges "
                        "bound counterfactuals (default: the training applicants `train` kept in the model file, "
                        "else DATA itself)")
    p.add_argument("--threshold", type=_typed(_probability), default=0.5,
                   help="approve when the probability of the favourable class reaches this (default 0.5)")
    p.add_argument("--favourable", "--favorable", dest="favourable",
                   help="the favourable (approving) class label (default: 'good', 'yes', ..., else the last class)")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="also write every figure as JSON to OUT")
    p.add_argument("--plot", metavar="OUT.png", help="bar chart of the first refused applicant's contributions "
                                                     "(image models: the heat maps; default explain.png)")
    p.add_argument("--check", action="store_true",
                   help="also run the sanity checks (parameter randomisation, deletion and insertion curves)")
    p.add_argument("--seed", type=_typed(_count("--seed")), default=0, help="seed of the sampling methods")
    _add_reading(p)
    p.set_defaults(run=run_explain)


def run_explain(args):
    from ..explain.report import METHODS, applicant_reports, format_report
    from ..io import read_model_file

    for option, path in (("--json", args.json_out), ("--plot", args.plot)):
        if path:
            _check_output(path, option)
    model, meta = read_model_file(args.model)
    if meta and meta.get("dataset"):
        return _explain_images(model.eval(), meta, args)
    if args.method not in (None, *METHODS):
        raise ArgumentError(f"--method {args.method} is for image models; for a table: {', '.join(METHODS)}")
    args.method = args.method or "deeplift"
    model, meta, pre = _tabular(args.model, model, meta)
    table, names = _read_for(args, meta, pre)
    n = len(table)
    rows = list(range(n)) if args.all else args.rows if args.rows is not None else [args.row or 0]
    bad = [r for r in rows if r >= n]
    if bad:
        raise ArgumentError(f"row {bad[0]} is out of range: {args.data} has {n} rows (0 to {n - 1})")
    unknown = [c for c in args.immutable if c not in {s["name"] for s in pre.columns_}]
    if unknown:
        raise DataError(f"--immutable: {unknown[0]!r} is not a column the model uses; they are "
                        f"{', '.join(s['name'] for s in pre.columns_)}"[:600])
    background = None
    stored = (meta.get("explain") or {}).get("background")
    if not args.background and stored:  # the approved training applicants nearest the cutoff, kept by `train`
        import numpy as np

        background = np.asarray(stored, dtype=np.float32)
    if args.background:
        from types import SimpleNamespace

        background, _ = _read_for(SimpleNamespace(data=args.background, sep=args.sep, na_values=args.na_values),
                                  meta, pre)
    reports = applicant_reports(model, pre, table, rows, background=background, method=args.method,
                                k=args.reasons, n_counterfactuals=1 if args.counterfactuals is None else
                                args.counterfactuals,
                                immutable=args.immutable, threshold=args.threshold, favourable=args.favourable,
                                data=table if len(table) >= 20 or background is None else background,
                                seed=args.seed)
    for rep in reports:
        print(format_report(rep))
    refused = [rep for rep in reports if rep["decision"] == "refused"]
    print(f"{len(reports)} applicant{'s' if len(reports) != 1 else ''} explained: {len(refused)} refused, "
          f"{len(reports) - len(refused)} approved")
    result = {"model": str(args.model), "data": str(args.data), "reports": reports}
    if args.check:
        result["checks"] = _checks(model, pre, table, args)
        for name, check in result["checks"].items():
            print(f"check {name}: {'passed' if check['passed'] else 'FAILED'} ({check['summary']})")
    if args.plot:
        print(_plot(model, pre, table, refused, args))
    if args.json_out:
        from ..io import write_atomic

        write_atomic(args.json_out, json.dumps(result, indent=2, default=_plain).encode())
        print(f"Figures written to {args.json_out}")
    sys.stdout.flush()
    return 0


def _explain_images(model, meta, args):
    """Heat maps of what each prediction of an image model rests on: the test images' attributions for the
    predicted class, written as a grid (image, heat map) to --plot."""
    import numpy as np

    from .. import explain
    from ..data import datasets
    from .commands import _outputs

    for option, given in (("--counterfactuals", args.counterfactuals), ("--immutable", args.immutable),
                          ("--background", args.background), ("--check", args.check or None)):
        if given:
            raise ArgumentError(f"{option} needs a model of a table (applicants); {args.model} is an image model")
    method = args.method or "ig"
    if method not in IMAGE_METHODS:
        raise ArgumentError(f"--method {method} is for tables; for an image model: {', '.join(IMAGE_METHODS)}")
    X, _ = getattr(datasets, meta["dataset"])(args.data, split="test")
    n = len(X)
    rows = list(range(n)) if args.all else args.rows if args.rows is not None else list(range(args.row or 0,
                                                                                              (args.row or 0) + 1))
    bad = [r for r in rows if r >= n]
    if bad:
        raise ArgumentError(f"row {bad[0]} is out of range: the test split of {args.data} has {n} images")
    shape = (-1, 1, 28, 28) if meta.get("options", {}).get("model") == "cnn" else (-1, 28 * 28)
    images = X[rows].reshape(shape).astype(np.float32) / np.float32(255)
    predicted = _outputs(model, images).argmax(axis=1)
    run = {"ig": explain.integrated_gradients, "saliency": explain.saliency, "deeplift": explain.deeplift,
           "input_x_gradient": explain.input_x_gradient, "occlusion": explain.occlusion}[method]
    e = run(model, images, target=predicted)
    maps = e.values.reshape(len(rows), 28, 28)
    for i, r in enumerate(rows):
        print(f"image {r}: predicted {meta['classes'][predicted[i]]} ({method}: the largest |attribution| at "
              f"row {np.unravel_index(np.abs(maps[i]).argmax(), (28, 28))[0]}, column "
              f"{np.unravel_index(np.abs(maps[i]).argmax(), (28, 28))[1]})")
    plot = args.plot or "explain.png"
    _check_output(plot, "--plot")
    _heat_maps(images.reshape(-1, 28, 28), maps, [meta["classes"][p] for p in predicted], rows, method, plot)
    print(f"Heat maps of {len(rows)} image{'s' if len(rows) != 1 else ''} written to {plot}")
    if args.json_out:
        from ..io import write_atomic

        payload = {"model": str(args.model), "method": method, "rows": rows, "predicted": predicted.tolist(),
                   "attributions": maps.tolist()}
        write_atomic(args.json_out, json.dumps(payload).encode())
        print(f"Figures written to {args.json_out}")
    return 0


def _heat_maps(images, maps, labels, rows, method, path):
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import write_atomic

    n = min(len(rows), 16)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n + 0.4, 3.6), squeeze=False)
    for i in range(n):
        lim = float(abs(maps[i]).max()) or 1.0
        axes[0, i].imshow(images[i], cmap="gray_r")
        axes[0, i].set_title(f"#{rows[i]}: {labels[i]}", fontsize=8)
        axes[1, i].imshow(maps[i], cmap="bwr", vmin=-lim, vmax=lim)
        for ax in axes[:, i]:
            ax.set_axis_off()
    fig.suptitle(f"{method}: red pushes toward the predicted class, blue away", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def _plain(v):
    return v.item() if hasattr(v, "item") else str(v)


def _checks(model, pre, table, args):
    """The sanity checks of saliency on (up to) the first 100 rows of the data: {name: {"passed", "summary", ...}}."""
    from ..explain.gradients import saliency
    from ..explain.report import favourable_class
    from ..explain.sanity import sanity_check

    good = favourable_class(pre.classes_, args.favourable)
    res = sanity_check(model, pre.transform_features(table), saliency, target=good, seed=args.seed,
                       output="probability")
    r, d, i = res["randomisation"], res["deletion"], res["insertion"]
    return {
        "randomisation": {"passed": bool(r["passed"]), "final": float(r["final"]),
                          "summary": f"mean Spearman {r['final']:.3f} after re-initialising every layer, top first"},
        "deletion": {"passed": bool(d["passed"]), "auc_attribution": float(d["auc_attribution"]),
                     "auc_random": float(d["auc_random"]),
                     "summary": f"AUC {d['auc_attribution']:.3g} by attribution vs {d['auc_random']:.3g} random"},
        "insertion": {"passed": bool(i["passed"]), "auc_attribution": float(i["auc_attribution"]),
                      "auc_random": float(i["auc_random"]),
                      "summary": f"AUC {i['auc_attribution']:.3g} by attribution vs {i['auc_random']:.3g} random"},
    }


def _plot(model, pre, table, refused, args):
    if not refused:
        return f"No refused applicant among the rows: no plot written to {args.plot}"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..explain import Explanation

    rep = refused[0]
    parts = rep["contributions"]
    e = Explanation([[c["contribution"] for c in parts]], names=[c["name"] for c in parts],
                    data=[[c["value"] for c in parts]], outputs=[rep["probability"]],
                    base_values=[rep["base_value"]], method=rep["method"])
    ax = e.plot(0)
    ax.set_title(f"row {rep['row']}: refused, P({rep['favourable']}) = {rep['probability']:.2f}")
    import io

    from ..io import write_atomic

    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=110)
    plt.close(ax.figure)
    write_atomic(args.plot, buf.getvalue())
    return f"Contributions of row {rep['row']} plotted to {args.plot}"
