"""What a network classifier (innerProduct + softmax) can reproduce of a GLM classifier's predictions.

Analysis, not an operation: ``inspect`` reports it for every GLM, and ``ops.glm_head`` replaces a GLM only as
this says (the table in that module's docstring gives the math).
"""

from __future__ import annotations

from dataclasses import dataclass

from .coreml import GLM_PROBIT, GLM_REFERENCE_CLASS

PROBABILITIES = "probabilities"
PREDICTED_CLASS = "predicted class"


@dataclass(frozen=True)
class Equivalence:
    """What the replacement keeps of the GLM's predictions, and why."""

    preserves: str  # PROBABILITIES or PREDICTED_CLASS
    reason: str


def equivalence(glm) -> Equivalence:
    """What replacing ``glm`` (a GLMClassifier message) by innerProduct + softmax preserves."""
    rows = len(glm.weights)
    if glm.postEvaluationTransform == GLM_PROBIT:
        return Equivalence(PREDICTED_CLASS, "Probit: the softmax's σ(1.702 z) is within 0.01 of the GLM's Φ(z)")
    if rows == 1 or glm.classEncoding == GLM_REFERENCE_CLASS:
        return Equivalence(PROBABILITIES, "Logit with a reference class (or two classes) is exactly a softmax")
    return Equivalence(PREDICTED_CLASS, "OneVsRest normalizes per-class sigmoids, which a softmax does not; the "
                                        "largest score still wins")
