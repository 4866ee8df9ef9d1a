"""MLS505 affine-to-convolution: y = s[c]·x + b[c] (ScaleLayerParams, BiasLayerParams, ActivationLinear)."""

import numpy as np

from .common import C, front


def before_per_channel_scale_with_bias():
    builder, conv = front((C, 4, 6))
    builder.add_activation("tanh", "TANH", "y", "t")
    scale, bias = np.array([127.5, 100.0, 50.0], np.float32), np.array([127.5, 1.0, -2.0], np.float32)
    builder.add_scale("deprocess", scale, bias, True, "t", "out", shape_scale=[C], shape_bias=[C])
    return builder.spec, lambda x: np.tanh(conv(x)) * scale[:, None, None] + bias[:, None, None]


def before_scalar_scale():
    builder, conv = front((C, 4, 6))
    builder.add_activation("sigmoid", "SIGMOID", "y", "s")
    builder.add_scale("to_255", np.array([255.0], np.float32), None, False, "s", "out", shape_scale=[1])
    return builder.spec, lambda x: 255.0 / (1 + np.exp(-conv(x)))


def before_bias():
    builder, conv = front((C, 4, 6))
    bias = np.array([0.5, -0.25, 2.0], np.float32)
    builder.add_bias("shift", bias, "y", "out", shape_bias=[C])
    return builder.spec, lambda x: conv(x) + bias[:, None, None]


def before_linear_activation():
    builder, conv = front((C, 4, 6))
    builder.add_activation("affine", "LINEAR", "y", "out", params=[2.0, -1.0])
    return builder.spec, lambda x: 2.0 * conv(x) - 1.0


def before_scale_then_bias():
    """A deprocess split over two layers: the bias's input is the scale's output, whose shape is the scale's input
    (ScaleLayerParams: 'A blob with the same shape as the input'), so the bias is rewritten too."""
    builder, conv = front((C, 4, 6))
    scale, bias = np.array([127.5, 100.0, 50.0], np.float32), np.array([127.5, 1.0, -2.0], np.float32)
    builder.add_scale("multiply", scale, None, False, "y", "scaled", shape_scale=[C])
    builder.add_bias("shift", bias, "scaled", "out", shape_bias=[C])
    return builder.spec, lambda x: conv(x) * scale[:, None, None] + bias[:, None, None]
