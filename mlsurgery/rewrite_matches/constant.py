"""Where adding or multiplying by a per-channel constant can become a frozen 1 × 1 convolution (MLS506).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/constant.py."""

from __future__ import annotations

import numpy as np

from ..weights import float_values
from .base import Match, NetworkFacts, channels_of

CODE = "MLS506"
ADDS = ("add", "addBroadcastable")
_MULTIPLIES = ("multiply", "multiplyBroadcastable")
_CONSTANTS = ("loadConstant", "loadConstantND")


def constant_operation(facts: NetworkFacts, layer):
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
    for layer in facts.layers_of(*ADDS, *_MULTIPLIES):
        if len(layer.outputs) != 1:
            continue
        if len(layer.inputs) == 2 and not any(
                facts.graph.blob_producer.get(blob) is not None and facts.graph.blob_producer[blob].kind
                in _CONSTANTS for blob in layer.inputs):
            continue  # two computed inputs: not a constant operation
        if not facts.trains_upstream(layer):
            continue
        plan = constant_operation(facts, layer)
        if isinstance(plan, str):
            matches.append(Match(CODE, layer.name, False, plan))
            continue
        operation = "adds" if layer.kind in ADDS else "multiplies by"
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} {operation} a per-channel constant "
                             "and stops gradients: a frozen 1 × 1 convolution computes the same and passes them"))
    return matches
