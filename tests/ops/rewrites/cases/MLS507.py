"""MLS507 reduce-to-global-pooling: mean or sum over H and W (ReduceLayerParams, ReduceMeanLayerParams)."""

from .common import C, front


def before_reduce_mean_hw():
    builder, conv = front((C, 1, 1))
    builder.add_reduce("mean_hw", "y", "out", axis="HW", mode="avg")
    return builder.spec, lambda x: conv(x).mean(axis=(1, 2), keepdims=True)


def before_reduce_sum_hw():
    builder, conv = front((C, 1, 1))
    builder.add_reduce("sum_hw", "y", "out", axis="HW", mode="sum")
    return builder.spec, lambda x: conv(x).sum(axis=(1, 2), keepdims=True)


def before_reduce_mean_nd_keepdims():
    builder, conv = front((1, C, 1, 1), exact=True)
    builder.add_reduce_mean("mean_hw", "y", "out", axes=[-2, -1], keepdims=True)
    return builder.spec, lambda x: conv(x).mean(axis=(1, 2), keepdims=True)[None]
