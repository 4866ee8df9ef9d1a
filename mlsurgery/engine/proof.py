"""The proof that a rewrite keeps predictions: run the model before and after on the same inputs.

``mlsurgery.ops.fix.fix`` takes it as its ``prove`` callable (operations sit below the engine and never import
it); the jobs (``mlsurgery.jobs``, recipes) pass it in.
"""

from __future__ import annotations

from ..ops.fix import TOLERANCE, Proof
from .compare import compare_predictions
from .errors import EngineRuntimeError, UnsupportedModelError


def prove_with_engine(before, after, count: int = 8) -> Proof:
    """Run ``before`` and ``after`` on the same ``count`` seeded random inputs; they agree when every output
    value differs by at most ``TOLERANCE`` relative to its size (absolute below 1: an image output of 0–255
    rounds differently in its last bits when an affine becomes a convolution)."""
    try:
        comparison = compare_predictions(before, after, seed=0, count=count, atol=TOLERANCE, relative=True)
    except (UnsupportedModelError, EngineRuntimeError) as cannot:
        return Proof(False, f"the engine cannot run the model to prove it ({cannot})")
    return Proof(comparison.agree, comparison.detail)
