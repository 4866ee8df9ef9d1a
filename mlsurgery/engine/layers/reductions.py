"""Reductions (legacy reduce on C/H/W, reduceSum … reduceLogSumExp on any axes), argMax/argMin, topK, and the
index-valued argSort and whereNonZero."""

from __future__ import annotations

import torch

from ...coreml import LEGACY_REDUCE_AXES
from .base import Stateless, Translator, example_rank, shared_integers, tensor_axis


def reduce_legacy(layer, context):
    params = layer.reduce
    mode = type(params).ReduceOperation.Name(params.mode)
    axes = LEGACY_REDUCE_AXES[params.axis]
    epsilon = params.epsilon or 1e-6

    def function(x):
        if mode == "ARGMAX":
            return x.argmax(dim=axes[0], keepdim=True).to(x.dtype)
        return _reduce(mode, x, axes, True, epsilon)

    return Stateless(layer, function)


def _reduce(mode: str, x, dims, keep: bool, epsilon: float = 1e-6):
    dims = tuple(dims)
    if mode == "SUM":
        return x.sum(dim=dims, keepdim=keep)
    if mode in ("AVG", "MEAN"):
        return x.mean(dim=dims, keepdim=keep)
    if mode == "PROD":
        y = x
        for dim in sorted((d % x.dim() for d in dims), reverse=True):
            y = y.prod(dim=dim, keepdim=True)
        return y if keep else y.squeeze(dims)
    if mode == "LOGSUM":
        return torch.log(x + epsilon).sum(dim=dims, keepdim=keep)
    if mode == "LOGSUM_ND":
        return torch.log(x.sum(dim=dims, keepdim=keep))
    if mode == "SUMSQUARE":
        return x.square().sum(dim=dims, keepdim=keep)
    if mode == "L1":
        return x.abs().sum(dim=dims, keepdim=keep)
    if mode == "L2":
        return x.square().sum(dim=dims, keepdim=keep).sqrt()
    if mode == "MAX":
        return x.amax(dim=dims, keepdim=keep)
    if mode == "MIN":
        return x.amin(dim=dims, keepdim=keep)
    if mode == "LOGSUMEXP":
        return torch.logsumexp(x, dim=dims, keepdim=keep)
    raise ValueError(mode)


# ND reductions: y = f(x) over ``axes`` (or all axes with reduceAll); keepDims keeps them as 1 (NeuralNetwork.proto).
_ND_REDUCTIONS = {
    "reduceSum": "SUM", "reduceMean": "MEAN", "reduceProd": "PROD", "reduceMax": "MAX", "reduceMin": "MIN",
    "reduceL1": "L1", "reduceL2": "L2", "reduceSumSquare": "SUMSQUARE", "reduceLogSum": "LOGSUM_ND",
    "reduceLogSumExp": "LOGSUMEXP",
}


def _nd_reduction(kind: str, mode: str):
    def translate(layer, context):
        params = getattr(layer, kind)
        axes, keep, everything = [int(a) for a in params.axes], params.keepDims, params.reduceAll

        def function(x):
            rank = example_rank(x)
            dims = list(range(1, rank + 1)) if everything or not axes else [tensor_axis(a, rank) for a in axes]
            y = _reduce(mode, x, dims, keep)
            return y if y.dim() > 1 else y.reshape(-1, 1)  # a full reduction is a rank-1 [1] tensor

        return Stateless(layer, function)

    return translate


def _arg(layer, context, kind: str):
    params = getattr(layer, kind)
    axis, remove = int(params.axis), params.removeDim

    def function(x):
        dim = tensor_axis(axis, example_rank(x))
        indices = (x.argmax if kind == "argMax" else x.argmin)(dim=dim, keepdim=not remove).to(x.dtype)
        return indices if indices.dim() > 1 else indices.reshape(-1, 1)

    return Stateless(layer, function)


def arg_sort(layer, context):
    """ArgSortLayerParams: the indices that sort ``axis``, ascending or descending. Equal values keep their input
    order (a stable sort), so the indices are one definite answer where the proto names none."""
    params = layer.argSort
    axis, descending = int(params.axis), params.descending

    def function(x):
        dim = tensor_axis(axis, example_rank(x))
        return torch.argsort(x, dim=dim, descending=descending, stable=True).to(x.dtype)

    return Stateless(layer, function)


def where_non_zero(layer, context):
    """WhereNonZeroLayerParams: ``[count, rank]`` multi-indices of the non-zero elements in row-major order
    (numpy.nonzero stacked). The count sets the output's shape, so every example must have the same count."""

    def function(x):
        counts = (x != 0).reshape(x.shape[0], -1).sum(dim=1, keepdim=True)
        shared_integers(counts, "numbers of non-zero elements")
        return torch.stack([torch.nonzero(example) for example in x]).to(x.dtype)

    return Stateless(layer, function)


def top_k(layer, context):
    params = layer.topK
    axis, bottom = int(params.axis), params.useBottomK

    def function(x, k=None):
        count = int(params.K) if k is None else shared_integers(k, "values of K")[0]
        values, indices = torch.topk(x, count, dim=tensor_axis(axis, example_rank(x)), largest=not bottom)
        return [values, indices.to(x.dtype)]

    return Stateless(layer, function)


def cum_sum(layer, context):
    params = layer.cumSum

    def function(x, axis_input=None):
        axis = int(params.axis) if axis_input is None else shared_integers(axis_input, "axes")[0]
        dim = tensor_axis(axis, example_rank(x))
        y = x.flip(dim) if params.reverse else x
        total = y.cumsum(dim)
        if params.excludeFinalSum:
            total = total - y
        return total.flip(dim) if params.reverse else total

    return Stateless(layer, function)


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "reduce": reduce_legacy,
    "topK": top_k,
    "cumSum": cum_sum,
    **{kind: _nd_reduction(kind, mode) for kind, mode in _ND_REDUCTIONS.items()},
    "argMax": lambda layer, context: _arg(layer, context, "argMax"),
    "argMin": lambda layer, context: _arg(layer, context, "argMin"),
    "argSort": arg_sort,
    "whereNonZero": where_non_zero,
}
