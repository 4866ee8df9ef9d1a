"""Where a mean or sum over H and W can become global average pooling (MLS507).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/reduce.py."""

from __future__ import annotations

from .base import Match, NetworkFacts

CODE = "MLS507"
_HW = 1  # ReduceLayerParams.ReduceAxis.HW
_SUM, _AVG = 0, 1  # ReduceLayerParams.ReduceOperation
_MODES = {0: "SUM", 1: "AVG", 2: "PROD", 3: "LOGSUM", 4: "SUMSQUARE", 5: "L1", 6: "L2", 7: "MAX", 8: "MIN",
          9: "ARGMAX"}


def reduction(facts: NetworkFacts, layer):
    """``"mean"`` or ``"sum"``, or a string saying why the layer is not a mean/sum over H and W."""
    params = layer.params
    if layer.kind == "reduce":
        if params.axis != _HW or params.mode not in (_SUM, _AVG):
            return f"it reduces ({_MODES.get(params.mode, params.mode)}) over other axes than H and W only"
        operation = "mean" if params.mode == _AVG else "sum"
    else:
        shape = facts.shape(layer.inputs[0])
        if shape is None:
            return "the shape of its input cannot be inferred"
        axes = sorted(axis % len(shape) for axis in params.axes)
        if params.reduceAll or len(shape) < 4 or axes != [len(shape) - 2, len(shape) - 1]:
            return "it does not reduce exactly the last two axes (H, W) of a rank-4 or rank-5 blob"
        if not params.keepDims:
            return "keepDims is false, so the rank changes, which pooling does not do"
        operation = "mean" if layer.kind == "reduceMean" else "sum"
    if operation == "sum":
        shape = facts.shape(layer.inputs[0])
        if shape is None:
            return "the shape of its input cannot be inferred, so the H·W a sum multiplies by is unknown"
    return operation


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.layers_of("reduce", "reduceMean", "reduceSum"):
        if len(layer.inputs) != 1:
            continue
        if not facts.trains_upstream(layer):
            continue
        plan = reduction(facts, layer)
        if plan not in ("mean", "sum"):
            matches.append(Match(CODE, layer.name, False, plan))
            continue
        extra = ", then a frozen 1 × 1 convolution multiplies by H·W" if plan == "sum" else ""
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} takes the {plan} over H and W and "
                             f"stops gradients: global average pooling{extra} computes the same and passes them"))
    return matches
