"""MLS508 upsample-to-deconvolution."""

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder


def _head(with_convolution: bool, mode="NN"):
    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 2, 2))], [("out", datatypes.Array(3, 4, 4))])
    source = "x"
    if with_convolution:
        builder.add_convolution("conv", 3, 3, 1, 1, 1, 1, "valid", groups=1, W=np.ones((1, 1, 3, 3)), b=None,
                                has_bias=False, input_name="x", output_name="y")
        source = "y"
    builder.add_upsample("upsample", 2, 2, source, "out", mode=mode)
    builder.spec.specificationVersion = 4
    return builder.spec


def bad_nearest_upsample_after_a_convolution():
    return _head(with_convolution=True)


def bad_bilinear_upsample_is_reported_as_not_rewritten():
    return _head(with_convolution=True, mode="BILINEAR")


def good_upsample_with_nothing_trainable_before_it():
    return _head(with_convolution=False)
