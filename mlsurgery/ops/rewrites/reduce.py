"""A mean (or sum) over H and W → global average pooling (times H·W, a frozen 1 × 1 convolution, for a sum).

Quality, count and embedding heads end in ``reduce`` (axis HW, mode AVG or SUM) or, in exact-rank networks,
``reduceMean`` / ``reduceSum`` over the last two axes with ``keepDims``. Core ML does not backpropagate through
either (NeuralNetworkValidatorGraph.hpp), but it does through ``pooling``, and global average pooling computes
the mean over H and W of each channel, ``[C, H, W] → [C, 1, 1]`` (NeuralNetwork.proto: ReduceLayerParams,
ReduceMeanLayerParams, PoolingLayerParams). The layer keeps its name and output. Refused: other axes or modes,
``keepDims`` false (the rank would change), and a sum over an H·W that cannot be inferred.
"""

from __future__ import annotations

import numpy as np

from ...changes import Changes
from ...edit import free_name, insert_layers, names_in_use, replace_layer
from .base import Match, NetworkFacts, Rewrite, channels_of, diagonal_weights, frozen_convolution, trains_upstream

CODE = "MLS507"
_HW = 1  # ReduceLayerParams.ReduceAxis.HW
_SUM, _AVG = 0, 1  # ReduceLayerParams.ReduceOperation
_MODES = {0: "SUM", 1: "AVG", 2: "PROD", 3: "LOGSUM", 4: "SUMSQUARE", 5: "L1", 6: "L2", 7: "MAX", 8: "MIN",
          9: "ARGMAX"}


def _plan(facts: NetworkFacts, layer):
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
    for layer in facts.graph.layers:
        if layer.kind not in ("reduce", "reduceMean", "reduceSum") or len(layer.inputs) != 1:
            continue
        if not trains_upstream(facts.graph, layer):
            continue
        plan = _plan(facts, layer)
        if plan not in ("mean", "sum"):
            matches.append(Match(CODE, layer.name, False, plan))
            continue
        extra = ", then a frozen 1 × 1 convolution multiplies by H·W" if plan == "sum" else ""
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} takes the {plan} over H and W and "
                             f"stops gradients: global average pooling{extra} computes the same and passes them"))
    return matches


def _global_pooling(like, name: str, source: str, target: str):
    layer = type(like)()
    layer.name = name
    layer.input.append(source)
    layer.output.append(target)
    pooling = layer.pooling
    pooling.type = 1  # AVERAGE
    pooling.kernelSize.extend([1, 1])
    pooling.stride.extend([1, 1])
    pooling.valid.SetInParent()
    pooling.globalPooling = True
    return layer


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    operation = _plan(facts, layer)
    source, target = layer.inputs[0], layer.outputs[0]
    changes = Changes("reduce → global pooling")
    if operation == "mean":
        changes.extend(replace_layer(spec, layer.name, _global_pooling(layer.proto, layer.name, source, target)))
        return changes
    shape = facts.shape(source)
    channels, _ = channels_of(facts, source)
    taken = names_in_use(facts.graph.network) | {f.name for f in facts.graph.model.description.output}
    mean = free_name(taken, f"{target}_mean")
    times = free_name(taken, f"{layer.name}_times_hw")
    changes.extend(replace_layer(spec, layer.name, _global_pooling(layer.proto, layer.name, source, mean)))
    area = float(shape[-1] * shape[-2])
    changes.extend(insert_layers(spec, [frozen_convolution(
        layer.proto, times, diagonal_weights(np.full(channels, area, np.float32), channels), None, mean, target)],
        after=layer.name))
    return changes


REWRITE = Rewrite(CODE, "reduce-to-global-pooling", find, apply)
