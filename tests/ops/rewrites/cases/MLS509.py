"""MLS509 clip-to-relu: clip → min(max(x, a), b); unary THRESHOLD → max(scale·x + shift, alpha)."""

import numpy as np

from .common import C, front


def before_clamp_to_0_1():
    builder, conv = front((C, 4, 6))
    builder.add_clip("clamp", "y", "out", min_value=0.0, max_value=1.0)
    return builder.spec, lambda x: np.clip(conv(x), 0.0, 1.0)


def before_relu6_threshold_part():
    builder, conv = front((C, 4, 6))
    builder.add_unary("threshold", "y", "out", mode="threshold", alpha=-0.5, shift=0.25, scale=2.0)
    return builder.spec, lambda x: np.maximum(2.0 * conv(x) + 0.25, -0.5)
