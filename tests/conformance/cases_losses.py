"""Conformance entries for SmoothL1Loss, KLDivLoss and CosineSimilarity (see test_conformance.py).

CosineSimilarity's PyTorch parity, forward and backward, is in tests/nn/test_losses_more.py (its magnitude
rule lives there), so its torch class here is None."""

import torch.nn.functional as TF
from test_conformance import T, _pair, tol

TABLE = {
    "smooth_l1": ({"beta": 0.5}, _pair(4, 3), T.SmoothL1Loss),
    "kl_div": ({"reduction": "sum"}, _pair(4, 3), T.KLDivLoss),  # 'mean' (the default) makes PyTorch warn
    "cosine_similarity": ({"dim": 1, "eps": 1e-6}, _pair(4, 3), None),
}

RULES = {
    "smooth_l1": tol.reduced(lambda a, b: TF.smooth_l1_loss(a, b, reduction="none", beta=0.5), "mean"),
    "kl_div": tol.reduced(lambda a, b: TF.kl_div(a, b, reduction="none"), "sum"),
}
