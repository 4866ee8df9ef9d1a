"""MLS505 affine-to-convolution."""

import numpy as np
from rules import specs


def _tail(with_convolution: bool):
    def last_layer(builder, source):
        builder.add_scale("deprocess", np.full(3, 2.0), np.full(3, 1.0), True, source, "out", shape_scale=[3],
                          shape_bias=[3])

    return specs.after_optional_convolution(with_convolution, (3, 2, 2), last_layer)


def bad_scale_after_a_convolution():
    return _tail(with_convolution=True)


def good_scale_with_nothing_trainable_before_it():
    return _tail(with_convolution=False)
