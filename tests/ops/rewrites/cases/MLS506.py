"""MLS506 constant-to-convolution: x + alpha, alpha·x, x + loadConstant[C,1,1] (Add/MultiplyLayerParams)."""

import numpy as np

from .common import C, front


def before_load_constant_add():
    builder, conv = front((C, 4, 6))
    mean = np.array([0.48, 0.46, 0.41], np.float32)
    builder.add_load_constant("mean", "mean", mean.reshape(C, 1, 1), [C, 1, 1])
    builder.add_elementwise("add_mean", ["y", "mean"], "out", "ADD")
    return builder.spec, lambda x: conv(x) + mean[:, None, None]


def before_load_constant_multiply_scalar():
    builder, conv = front((C, 4, 6))
    builder.add_load_constant("factor", "factor", np.array([3.0], np.float32).reshape(1, 1, 1), [1, 1, 1])
    builder.add_elementwise("times", ["factor", "y"], "out", "MULTIPLY")
    return builder.spec, lambda x: 3.0 * conv(x)


def before_multiply_by_alpha():
    builder, conv = front((C, 4, 6))
    builder.add_elementwise("times_255", ["y"], "out", "MULTIPLY", alpha=255.0)
    return builder.spec, lambda x: 255.0 * conv(x)


def before_add_alpha():
    builder, conv = front((C, 4, 6))
    builder.add_elementwise("plus", ["y"], "out", "ADD", alpha=-0.5)
    return builder.spec, lambda x: conv(x) - 0.5
