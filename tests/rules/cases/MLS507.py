"""MLS507 reduce-to-global-pooling."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder


def _head(with_convolution: bool):
    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 2, 2))], [("out", datatypes.Array(3, 1, 1))])
    source = "x"
    if with_convolution:
        builder.add_convolution("conv", 3, 3, 1, 1, 1, 1, "valid", groups=1, W=np.ones((1, 1, 3, 3)), b=None,
                                has_bias=False, input_name="x", output_name="y")
        source = "y"
    builder.add_reduce("mean_hw", source, "out", axis="HW", mode="avg")
    builder.spec.specificationVersion = 4
    return builder.spec


def bad_mean_over_h_and_w_after_a_convolution():
    return _head(with_convolution=True)


def good_mean_with_nothing_trainable_before_it():
    return _head(with_convolution=False)
