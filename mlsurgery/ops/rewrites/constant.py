"""Adding or multiplying by a per-channel or scalar constant → a frozen 1 × 1 convolution.

Converters write "x + mean" / "x · 255" as an ``add`` / ``multiply`` with one input and ``alpha`` (AddLayerParams,
MultiplyLayerParams: one input adds or multiplies ``alpha``), or with a second input a ``loadConstant`` /
``loadConstantND`` writes; the broadcasting forms (``addBroadcastable``, ``multiplyBroadcastable``) likewise.
Core ML does not backpropagate through any of them (NeuralNetworkValidatorGraph.hpp). When the constant is the
same over H and W (shape ``[C, 1, 1]``, ``[1, 1, 1]`` or, ND, ``[..., C, 1, 1]`` with leading ones), a 1 × 1
convolution with diagonal weights (the factor, or 1) and bias (the addend, or 0) computes the same and passes
gradients; it is never marked updatable. The layer keeps its name and output; the constant layer is removed
when nothing else reads it.
"""

from __future__ import annotations

import numpy as np

from ...changes import Changes
from ...edit import remove_unread_layer, replace_layer
from ...weights import float_values
from .base import Match, NetworkFacts, Rewrite, channels_of, diagonal_weights, frozen_convolution, trains_upstream

CODE = "MLS506"
_ADDS = ("add", "addBroadcastable")
_MULTIPLIES = ("multiply", "multiplyBroadcastable")
_CONSTANTS = ("loadConstant", "loadConstantND")


def _plan(facts: NetworkFacts, layer):
    """``(source, per-channel constant, constant layer or None)``, or a string saying why not."""
    graph = facts.graph
    if len(layer.inputs) == 1 and layer.kind in ("add", "multiply"):
        channels, why = channels_of(facts, layer.inputs[0])
        if channels is None:
            return why
        return layer.inputs[0], np.full(channels, layer.params.alpha, np.float32), None
    if len(layer.inputs) != 2:
        return f"it has {len(layer.inputs)} inputs"
    producers = [graph.blob_producer.get(blob) for blob in layer.inputs]
    constant_sides = [i for i, producer in enumerate(producers) if producer is not None
                      and producer.kind in _CONSTANTS]
    if len(constant_sides) != 1:
        return "neither or both of its inputs are constants"
    side = constant_sides[0]
    source, constant = layer.inputs[1 - side], producers[side]
    if source not in graph.blob_producer or not facts.written_once(layer.inputs[side]):
        return f"{source!r} is a model input or the constant's blob is written more than once"
    channels, why = channels_of(facts, source)
    if channels is None:
        return why
    try:
        values = float_values(constant.params.data)
    except ValueError:
        return f"the constant {constant.name!r} is quantized"
    dims = [int(d) for d in constant.params.shape]
    if not dims or any(d != 1 for d in dims[:-3]) or any(d != 1 for d in dims[-2:]) or (
            len(dims) >= 3 and dims[-3] not in (1, channels)) or (len(dims) < 3 and any(d != 1 for d in dims)):
        return (f"the constant {constant.name!r} has shape {dims}, which is not one value per channel "
                f"(its shape must be [{channels}, 1, 1] or all ones)")
    if facts.exact_ranks and len(dims) > len(facts.shape(source)):
        return f"the constant {constant.name!r} has a higher rank than {source!r}"
    return source, np.broadcast_to(values, (channels,)).astype(np.float32), constant


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.graph.layers:
        if layer.kind not in _ADDS + _MULTIPLIES or len(layer.outputs) != 1:
            continue
        if len(layer.inputs) == 2 and not any(
                facts.graph.blob_producer.get(blob) is not None and facts.graph.blob_producer[blob].kind
                in _CONSTANTS for blob in layer.inputs):
            continue  # two computed inputs: not a constant operation
        if not trains_upstream(facts.graph, layer):
            continue
        plan = _plan(facts, layer)
        if isinstance(plan, str):
            matches.append(Match(CODE, layer.name, False, plan))
            continue
        operation = "adds" if layer.kind in _ADDS else "multiplies by"
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} {operation} a per-channel constant "
                             "and stops gradients: a frozen 1 × 1 convolution computes the same and passes them"))
    return matches


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    source, values, constant = _plan(facts, layer)
    channels = len(values)
    if layer.kind in _ADDS:
        weights, bias = diagonal_weights(np.ones(channels, np.float32), channels), values
    else:
        weights, bias = diagonal_weights(values, channels), None
    changes = Changes("constant operation → frozen convolution")
    changes.extend(replace_layer(spec, layer.name, frozen_convolution(layer.proto, layer.name, weights, bias,
                                                                       source, layer.outputs[0])))
    if constant is not None:
        changes.extend(remove_unread_layer(spec, constant.name))
    return changes


REWRITE = Rewrite(CODE, "constant-to-convolution", find, apply)
