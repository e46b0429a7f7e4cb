"""Explanations: what each input feature contributed to a model's output, on chainrule's own autograd tape.

Every attribution method takes a model (a Module or any callable on Tensors), inputs ``X`` (a batch),
``target`` (the output to explain; None for a single output) and returns an ``Explanation`` (``values``,
``names``, ``data``, ``outputs``, ``base_values``, ``delta``, plots); ``groups=`` (a Preprocessor, a dict or a
list) gives one value per original column. See ``_core`` for what they share.

* gradients: ``saliency``, ``input_x_gradient``, ``integrated_gradients`` (Captum's quadratures, and
  ``method="exact"`` for piecewise-linear networks), ``smoothgrad``, ``gradient_shap``;
* DeepLIFT's rescale rule, defined per primitive in ``ops/``: ``deeplift``, ``deeplift_shap``;
* perturbations: ``occlusion``, ``feature_ablation``, ``permutation_importance``;
* Shapley values: ``shapley`` (exact, up to 20 features or groups), ``shapley_sampling``, ``kernel_shap``,
  ``summarize_background``;
* decisions: ``reasons`` (principal reasons of an adverse decision), ``near_cutoff_background`` (Regulation
  B's baseline), ``counterfactuals``, ``applicant_reports``; checks: ``sanity_check``.
"""

from ._core import Explanation
from .counterfactuals import Counterfactual, Counterfactuals, counterfactuals
from .deeplift import deeplift, deeplift_shap
from .gradients import gradient_shap, input_x_gradient, integrated_gradients, saliency, smoothgrad
from .perturbation import PermutationImportance, feature_ablation, occlusion, permutation_importance
from .reasons import Reason, Reasons, near_cutoff_background, reasons
from .report import applicant_reports, format_report
from .sanity import SanityCheck, sanity_check
from .shapley import kernel_shap, shapley, shapley_sampling, summarize_background

__all__ = [
    "Counterfactual", "Counterfactuals", "Explanation", "PermutationImportance", "Reason", "Reasons",
    "SanityCheck", "applicant_reports", "counterfactuals", "deeplift", "deeplift_shap", "feature_ablation",
    "format_report", "gradient_shap", "input_x_gradient", "integrated_gradients", "kernel_shap",
    "near_cutoff_background", "occlusion", "permutation_importance", "reasons", "saliency", "sanity_check",
    "shapley", "shapley_sampling", "smoothgrad", "summarize_background",
]
