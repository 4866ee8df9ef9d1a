"""MLS502 reshape-to-flatten: a reshapeStatic that only flattens [1, C, H, W] row-major (ReshapeStaticLayerParams)."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from .common import RNG


def before_flattening_reshape_between_convolution_and_dense():
    kernel = RNG.standard_normal((2, 2)).astype(np.float32)  # 1 × 1 convolution, 2 → 2 channels
    dense = RNG.standard_normal((3, 8)).astype(np.float32)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(1, 2, 2, 2))], [("out", datatypes.Array(1, 3))],
                                   disable_rank5_shape_mapping=True)
    builder.add_convolution("conv", 2, 2, 1, 1, 1, 1, "valid", groups=1, W=kernel.T.reshape(1, 1, 2, 2), b=None,
                            has_bias=False, input_name="x", output_name="features")
    builder.add_reshape_static("flat", "features", "flat", (1, 8))
    builder.add_inner_product("dense", dense, None, 8, 3, False, "flat", "out")

    def reference(x):
        features = np.einsum("oc,chw->ohw", kernel, np.asarray(x, np.float64).reshape(2, 2, 2))
        return (dense @ features.reshape(8)).reshape(1, 3)

    return builder.spec, reference, "conv"
