"""MLS505 affine-to-convolution."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder


def _tail(with_convolution: bool):
    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 2, 2))], [("out", datatypes.Array(3, 2, 2))])
    source = "x"
    if with_convolution:
        builder.add_convolution("conv", 3, 3, 1, 1, 1, 1, "valid", groups=1, W=np.ones((1, 1, 3, 3)), b=None,
                                has_bias=False, input_name="x", output_name="y")
        source = "y"
    builder.add_scale("deprocess", np.full(3, 2.0), np.full(3, 1.0), True, source, "out", shape_scale=[3],
                      shape_bias=[3])
    builder.spec.specificationVersion = 4
    return builder.spec


def bad_scale_after_a_convolution():
    return _tail(with_convolution=True)


def good_scale_with_nothing_trainable_before_it():
    return _tail(with_convolution=False)
