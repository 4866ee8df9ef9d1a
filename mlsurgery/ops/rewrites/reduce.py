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
from ...rewrite_matches.base import Match, NetworkFacts, channels_of
from ...rewrite_matches.reduce import CODE, find, reduction
from .base import Rewrite, diagonal_weights, frozen_convolution


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
    operation = reduction(facts, layer)
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
