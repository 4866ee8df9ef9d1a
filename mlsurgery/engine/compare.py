"""Do two specs predict the same? Used to prove that a rewrite of a model changes none of its predictions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import random_inputs
from .models import build_model


@dataclass(frozen=True)
class Comparison:
    agree: bool
    max_abs_diff: float
    worst_output: str
    detail: str


def compare_predictions(spec_a, spec_b, *, seed: int = 0, count: int = 8, atol: float = 1e-5,
                        relative: bool = False) -> Comparison:
    """Run both specs on the same ``count`` seeded random inputs (of ``spec_a``'s declared inputs) and compare
    every output they share: arrays and probabilities by largest absolute difference (``relative``: divided by
    the larger of 1 and the value's size), labels exactly."""
    model_a, model_b = build_model(spec_a), build_model(spec_b)
    shared = [name for name in model_a.output_features if name in model_b.output_features]
    if not shared:
        return Comparison(False, math.inf, "", "the models have no output name in common")
    worst, worst_output, detail = 0.0, shared[0], ""
    for index, inputs in enumerate(random_inputs(spec_a, seed, count)):
        outputs_a, outputs_b = model_a.predict(inputs), model_b.predict(inputs)
        for name in shared:
            difference, why = _difference(outputs_a.get(name), outputs_b.get(name), relative)
            if difference > worst or (why and not detail):
                worst, worst_output = max(worst, difference), name
                detail = f"input set {index}, output {name!r}: {why}" if why else detail
    agree = worst <= atol
    if agree:
        detail = f"{count} random input sets agree on {', '.join(shared)} (max |difference| {worst:.3g})"
    elif not detail:
        detail = f"output {worst_output!r} differs by up to {worst:.3g} (tolerance {atol:g})"
    return Comparison(agree, float(worst), worst_output, detail)


def _difference(a, b, relative: bool = False) -> tuple[float, str]:
    """(largest absolute difference, reason when the values cannot be compared numerically)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return math.inf, "the probability dictionaries have different labels"
        return max((abs(a[key] - b[key]) for key in a), default=0.0), ""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape:
            if a.size != b.size:
                return math.inf, f"shapes differ: {list(a.shape)} vs {list(b.shape)}"
            b = b.reshape(a.shape)
        if not a.size:
            return 0.0, ""
        difference = np.abs(a.astype(np.float64) - b.astype(np.float64))
        if np.isnan(difference).any():
            same_nan = np.isnan(a) == np.isnan(b)
            if not same_nan.all():
                return math.inf, "one model gives NaN where the other does not"
            difference = np.nan_to_num(difference)
        if relative:
            difference = difference / np.maximum(1.0, np.abs(np.nan_to_num(a.astype(np.float64))))
        return float(difference.max()), ""
    if a is None or b is None:
        return math.inf, "one model does not produce it"
    return (0.0, "") if a == b else (math.inf, f"{a!r} vs {b!r}")
