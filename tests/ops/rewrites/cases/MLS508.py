"""MLS508 upsample-to-deconvolution: nearest upsampling repeats each pixel fH × fW times (UpsampleLayerParams)."""

import numpy as np

from .common import C, front


def before_nearest_upsample_2x2():
    builder, conv = front((C, 8, 12))
    builder.add_upsample("upsample", 2, 2, "y", "out", mode="NN")
    return builder.spec, lambda x: np.repeat(np.repeat(conv(x), 2, axis=1), 2, axis=2)


def before_nearest_upsample_3x1():
    builder, conv = front((C, 12, 6))
    builder.add_upsample("upsample", 3, 1, "y", "out", mode="NN")
    return builder.spec, lambda x: np.repeat(conv(x), 3, axis=1)
