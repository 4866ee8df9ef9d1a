"""batchedMatMul with a constant weight, against NumPy: the weight is given to coremltools' builder as the
[X1, X2] matrix of NeuralNetwork.proto (stored column-major), so the layer computes x @ W + b."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from mlsurgery.engine import build_model


def test_constant_weight_product_is_x_times_w_plus_b():
    rng = np.random.default_rng(3)
    weight, bias = rng.standard_normal((4, 3)), rng.standard_normal(3)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 4))], [("y", None)], disable_rank5_shape_mapping=True)
    builder.add_batched_mat_mul("matmul", ["x"], "y", weight_matrix_rows=4, weight_matrix_columns=3, W=weight,
                                bias=bias)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    y = build_model(builder.spec).predict({"x": x})["y"]
    np.testing.assert_allclose(y, x @ weight + bias, rtol=1e-5, atol=1e-5)
