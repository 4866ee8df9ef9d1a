"""A small rank-5 network front: image-like input x [C, H, W] → 1 × 1 convolution (known weights) → tail."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

RNG = np.random.default_rng(19)
C, H, W = 3, 4, 6


def front(output_shape, channels_out=C, exact=False):
    """(builder, reference of the convolution's output ``y`` from ``x``) for x → conv1x1 → "y"."""
    shape = (1, C, H, W) if exact else (C, H, W)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(*shape))], [("out", datatypes.Array(*output_shape))],
                                   disable_rank5_shape_mapping=exact)
    weights = RNG.standard_normal((channels_out, C)).astype(np.float32)
    bias = RNG.standard_normal(channels_out).astype(np.float32)
    builder.add_convolution("conv", C, channels_out, 1, 1, 1, 1, "valid", groups=1,
                            W=weights.T.reshape(1, 1, C, channels_out), b=bias, has_bias=True,
                            input_name="x", output_name="y")

    def convolution(x):
        x = np.asarray(x, np.float64).reshape(C, H, W)
        return np.einsum("oc,chw->ohw", weights, x) + bias[:, None, None]

    return builder, convolution


def dense_front():
    """(builder, reference of ``y`` from ``x``) for an exact-rank x [1, 4] → innerProduct "dense" (4 → 3) → "y"."""
    weights, bias = RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(1, 4))], [("out", datatypes.Array(1, 3))],
                                   disable_rank5_shape_mapping=True)
    builder.add_inner_product("dense", weights, bias, 4, 3, True, "x", "y")
    return builder, lambda x: (weights @ np.asarray(x, np.float64).reshape(4) + bias).reshape(1, 3)
