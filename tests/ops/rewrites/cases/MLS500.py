"""MLS500 softmax-nd-to-softmax: softmaxND over the last axis of [1, K] logits (SoftmaxNDLayerParams)."""

import numpy as np

from mlsurgery.coreml import LossKind

from .common import dense_front


def before_softmax_nd_over_the_class_axis():
    builder, dense = dense_front()
    builder.add_softmax_nd("softmax", "y", "out", axis=-1)

    def reference(x):
        logits = dense(x)
        e = np.exp(logits - logits.max())
        return e / e.sum()

    return builder.spec, reference, "dense", LossKind.CROSS_ENTROPY  # cross-entropy needs a softmax layer
