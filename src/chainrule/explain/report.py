"""Decisions explained applicant by applicant: the decision, the principal reasons, and what would change it.

``applicant_reports`` is what ``chainrule explain`` and the main job print: for a binary classifier on a table
(a model and its fitted ``Preprocessor``), each row's decision (approved when the probability of the favourable
class reaches ``threshold``), and for a refused applicant the principal reasons, found against the approved
applicants nearest the cutoff (Regulation B's method 9(b)(2)-5), and a few counterfactuals.
"""

import numpy as np

from ..errors import ArgumentError
from ._core import forward
from .counterfactuals import counterfactuals
from .deeplift import deeplift_shap
from .gradients import integrated_gradients
from .perturbation import feature_ablation
from .reasons import near_cutoff_background, reasons
from .shapley import kernel_shap, shapley, shapley_sampling

FAVOURABLE = ("good", "approved", "approve", "accepted", "yes", "true", "1")


def _ig(model, X, target, background, groups, output, seed):
    return integrated_gradients(model, X, target, baselines=background, groups=groups, output=output)


def _deeplift(model, X, target, background, groups, output, seed):
    return deeplift_shap(model, X, target, background=background, groups=groups, output=output)


def _shapley(model, X, target, background, groups, output, seed):
    return shapley(model, X, target, background=background, groups=groups, output=output)


def _sampling(model, X, target, background, groups, output, seed):
    return shapley_sampling(model, X, target, background=background, groups=groups, output=output, seed=seed)


def _kernel(model, X, target, background, groups, output, seed):
    return kernel_shap(model, X, target, background=background, groups=groups, output=output, seed=seed)


def _ablation(model, X, target, background, groups, output, seed):
    return feature_ablation(model, X, target, baselines=background.mean(axis=0), groups=groups, output=output)


# the methods a report can use, by the names the command takes; each explains rows against a background table
METHODS = {"deeplift": _deeplift, "ig": _ig, "shapley": _shapley, "shapley_sampling": _sampling,
           "kernel_shap": _kernel, "feature_ablation": _ablation}
# exact Shapley values over 20 groups cost 2^20 evaluations per background row: a small background for it
SHAPLEY_BACKGROUND = 5


def favourable_class(classes, favourable=None):
    """The index of the favourable (approving) class: ``favourable`` (a label), else the first label named like
    an approval ("good", "approved", "yes", ...), else the last class."""
    labels = [str(c) for c in classes]
    if favourable is not None:
        if str(favourable) not in labels:
            raise ArgumentError(f"the favourable class {favourable!r} is not one of the model's classes {labels}")
        return labels.index(str(favourable))
    for name in FAVOURABLE:
        if name in (lab.lower() for lab in labels):
            return [lab.lower() for lab in labels].index(name)
    return len(labels) - 1


def applicant_reports(model, preprocessor, table, rows, background=None, method="deeplift", k=4,
                      n_counterfactuals=0, immutable=(), monotone=None, threshold=0.5, favourable=None,
                      data=None, seed=0, background_size=50):
    """One report (a dict) per row of ``table`` (original units) given in ``rows``: decision, probability, and
    for a refused applicant the principal reasons and ``n_counterfactuals`` counterfactuals.

    ``background``: the table (or feature matrix) whose approved applicants nearest the cutoff are the baseline
    (default ``data``, else ``table``); ``data``: the table (or matrix) of ranges for counterfactuals (default
    ``background``)."""
    if method not in METHODS:
        raise ArgumentError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    classes = list(preprocessor.classes_ or [])
    if preprocessor.task_ != "classification" or len(classes) != 2:
        raise ArgumentError("explaining decisions needs a binary classifier on a table (two classes); this model "
                            f"is a {preprocessor.task_} model" + (f" with {len(classes)} classes" if classes else ""))
    good = favourable_class(classes, favourable)
    reference = background if background is not None else data if data is not None else table
    X = preprocessor.transform_features(table.select(list(rows)))
    Xref = reference if isinstance(reference, np.ndarray) else preprocessor.transform_features(reference)
    proba = forward(model, X, good, "probability", "explain")
    refused = [i for i in range(len(rows)) if proba[i] < threshold]
    reports = [{"row": int(r), "decision": "approved" if proba[i] >= threshold else "refused",
                "probability": float(proba[i]), "favourable": str(classes[good]), "threshold": threshold}
               for i, r in enumerate(rows)]
    if not refused:
        return reports
    size = min(background_size, SHAPLEY_BACKGROUND) if method == "shapley" else background_size
    base = near_cutoff_background(model, Xref, threshold=threshold, target=good, n=size)
    e = METHODS[method](model, X[refused], good, base, preprocessor, "probability", seed)
    e.info["baseline"] = f"the {len(base)} approved applicants nearest the cutoff (Regulation B 9(b)(2)-5)"
    for j, i in enumerate(refused):
        r = reasons(e, k=k, adverse="decrease", row=j)
        rep = reports[i]
        rep.update({"method": e.method, "baseline": e.info["baseline"], "base_value": r.base_value,
                    "delta": r.delta, "reasons": [x.to_dict() for x in r], "reasons_text": [str(x) for x in r],
                    "contributions": [{"name": name, "value": _plain(d), "contribution": float(v)}
                                      for name, v, d in zip(e.names, e.values[j], e.data[j])]})
        if n_counterfactuals:
            found = counterfactuals(model, table.select([rows[i]]), preprocessor,
                                        data=data if data is not None else reference, n=n_counterfactuals,
                                        immutable=immutable, monotone=monotone, threshold=threshold, seed=seed,
                                        target=good, outcome_names=["refused", "approved"])
            rep["counterfactuals"] = [c.to_dict() for c in found]
            rep["counterfactuals_text"] = [
                c.sentence + ("" if c.probability is None else f" (P({rep['favourable']}) = {c.probability:.3f})")
                for c in found] or [found.message]
    return reports


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def format_report(rep):
    """A report as a few readable lines."""
    lines = [f"row {rep['row']}: {rep['decision']}, P({rep['favourable']}) = {rep['probability']:.2f} "
             f"(cutoff {rep['threshold']:.2f})"]
    if rep["decision"] == "refused":
        lines.append(f"  principal reasons, by {rep['method']} against {rep['baseline']} (completeness error "
                     f"{abs(rep['delta']):.0e}):")
        lines += [f"    {n + 1}. {text}" for n, text in enumerate(rep["reasons_text"])] or ["    (none)"]
        for text in rep.get("counterfactuals_text", []):
            lines.append(f"  {text}")
    return "\n".join(lines)


__all__ = ["METHODS", "applicant_reports", "favourable_class", "format_report"]
