"""MLS501 batched-matmul-to-inner-product: y = x·W + b with a constant W (BatchedMatMulLayerParams)."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from .common import RNG


def before_batched_matmul_with_constant_weight():
    weights, bias = RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(1, 4))], [("out", datatypes.Array(1, 3))],
                                   disable_rank5_shape_mapping=True)
    builder.add_batched_mat_mul("dense", ["x"], "out", weight_matrix_rows=4, weight_matrix_columns=3, W=weights,
                                bias=bias)
    return builder.spec, lambda x: np.asarray(x, np.float64).reshape(1, 4) @ weights + bias, "dense"
