"""Principal reasons for an adverse decision (reason codes), from any attribution.

US Regulation B (12 CFR 1002.9(b)(2)) asks a lender for the specific principal reasons of an adverse action:
the factors actually scored, rarely more than four (commentary 9(b)(2)-2, -4). One accepted method ranks the
factors by how far the applicant fell below the applicants just above the approval cutoff (9(b)(2)-5):
explaining the score against ``near_cutoff_background`` (those applicants) with a method whose values add up
to the score's difference, and keeping the factors that pushed toward the adverse side, gives exactly that.

    background = near_cutoff_background(model, X_train, target=good, threshold=0.5)
    e = deeplift_shap(model, X_row, target=good, background=background, groups=pre, output="probability")
    print(reasons(e, k=4, adverse="decrease"))     # what lowered the approval probability, largest first
"""

import numpy as np

from ..errors import ArgumentError
from ._core import as_inputs, check_output, forward, row_targets

ADVERSE = ("increase", "decrease")


def near_cutoff_background(model, X, threshold=0.5, target=None, output="probability", approve="above", n=50,
                           batch_size=4096):
    """The ``n`` rows of ``X`` (training applicants) whose score lies closest to ``threshold`` on the approving
    side: the baseline of Regulation B's method 9(b)(2)-5. ``approve="above"``: a score at or above the threshold
    is approved (the score is the probability of the good outcome); ``"below"``: the score is a risk."""
    check_output(output, "near_cutoff_background")
    if approve not in ("above", "below"):
        raise ArgumentError(f"near_cutoff_background: approve must be 'above' or 'below', got {approve!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ArgumentError(f"near_cutoff_background: n must be a positive int, got {n!r}")
    X = as_inputs(X, "near_cutoff_background")
    scores = np.concatenate([forward(model, X[i : i + batch_size], row_targets(target, slice(i, i + batch_size)),
                                     output, "near_cutoff_background") for i in range(0, len(X), batch_size)])
    side = scores >= threshold if approve == "above" else scores < threshold
    if not side.any():
        raise ArgumentError(f"near_cutoff_background: no row of X is approved at the threshold {threshold} (scores "
                            f"from {scores.min():.3g} to {scores.max():.3g})")
    approved = np.flatnonzero(side)
    order = approved[np.argsort(np.abs(scores[approved] - threshold), kind="stable")]
    return X[np.sort(order[:n])]


class Reason:
    """One principal reason: the feature (a CSV column with a Preprocessor), the applicant's value (in original
    units where known) and its contribution to the explained output."""

    def __init__(self, name, value, contribution):
        self.name, self.value, self.contribution = name, value, float(contribution)

    def __str__(self):
        return f"{self.name} = {_show(self.value)} ({self.contribution:+.2f})" if self.value is not None else \
            f"{self.name} ({self.contribution:+.2f})"

    def __repr__(self):
        return f"Reason({self})"

    def to_dict(self):
        value = self.value.item() if isinstance(self.value, np.generic) else self.value
        return {"name": self.name, "value": value, "contribution": self.contribution}


class Reasons:
    """The principal reasons of one row, largest first, with the record of how they were found: the method, the
    baseline, the explained output and its base value, and the completeness error (``delta``)."""

    def __init__(self, items, *, row, adverse, k, method, output, base_value, delta, baseline, info):
        self.items = list(items)
        self.row, self.adverse, self.k = row, adverse, k
        self.method, self.output, self.base_value, self.delta = method, output, base_value, delta
        self.baseline, self.info = baseline, info

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def __str__(self):
        if not self.items:
            return f"no factor pushed the output toward the adverse side ({self.adverse}s)"
        return "\n".join(f"{i + 1}. {r}" for i, r in enumerate(self.items))

    def __repr__(self):
        return f"Reasons(row {self.row}: {'; '.join(map(str, self.items)) or 'none'})"

    def to_dict(self):
        def plain(v):
            return v.item() if isinstance(v, np.generic) else v

        return {"row": self.row, "reasons": [r.to_dict() for r in self.items], "adverse": self.adverse, "k": self.k,
                "method": self.method, "output": plain(self.output), "base_value": plain(self.base_value),
                "delta": plain(self.delta), "baseline": self.baseline}


def reasons(explanation, k=4, adverse="increase", row=None):
    """The principal reasons for an adverse decision: only the features whose contribution pushed the explained
    output toward the adverse side, largest first, at most ``k`` (4 by default, as Regulation B's commentary).

    ``adverse="increase"``: the explained output is a risk (a higher score is adverse: the positive
    contributions are the reasons); ``"decrease"``: it is the approval score (the negative ones are).
    ``row``: which row of the explanation (default: its only row; for several rows, a list of ``Reasons``,
    one per row). Ties in size keep the features' order, so the reasons are the same on every run.
    """
    if adverse not in ADVERSE:
        raise ArgumentError(f"reasons: adverse must be 'increase' (a risk score) or 'decrease' (an approval score), "
                            f"got {adverse!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ArgumentError(f"reasons: k must be a positive int, got {k!r}")
    n = len(explanation)
    if row is None:
        return _row_reasons(explanation, 0, k, adverse) if n == 1 else [
            _row_reasons(explanation, i, k, adverse) for i in range(n)]
    if not isinstance(row, int | np.integer) or not -n <= row < n:
        raise ArgumentError(f"reasons: row {row!r} is out of range for an explanation of {n} rows")
    return _row_reasons(explanation, int(row) % n, k, adverse)


def _row_reasons(e, row, k, adverse):
    values = e.values[row].reshape(-1)
    if e.values.ndim > 2:
        raise ArgumentError("reasons: the explanation is of an image; reason codes need a table's features")
    names = e.names or [f"x{j}" for j in range(values.size)]
    data = None if e.data is None else np.asarray(e.data, dtype=object)[row].reshape(-1)
    push = values if adverse == "increase" else -values
    order = [j for j in np.argsort(-push, kind="stable") if push[j] > 0][:k]
    items = [Reason(names[j], None if data is None else data[j], values[j]) for j in order]
    delta = e.delta
    return Reasons(items, row=row, adverse=adverse, k=k, method=e.method,
                   output=None if e.outputs is None else float(e.outputs[row]),
                   base_value=None if e.base_values is None else float(e.base_values[row]),
                   delta=None if delta is None else float(delta[row]),
                   baseline=e.info.get("baseline"), info=e.info)


def _show(value):
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return str(round(v)) if abs(v - round(v)) <= 1e-4 * max(1.0, abs(v)) else f"{v:.4g}"
    return str(value)
