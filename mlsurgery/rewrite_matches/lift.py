"""Which layers of a converted network can run on rank-4 ``[N, K, 1, 1]`` blobs, where Core ML's trainable layers
work: the plan ``mlsurgery.ops.rewrites.lift`` carries out.

Why: a PyTorch model converted with coremltools 9 keeps exact ranks, so its classifier head is a chain of rank-2
``[N, K]`` blobs ending in ``softmaxND``. Core ML's ``softmax`` normalises axis -3 and needs rank ≥ 3, and the
``reshapeStatic`` that flattens ``[N, C, H, W]`` into ``[N, C·H·W]`` does not pass gradients, while ``flatten``
(which does) keeps the rank: ``[N, C·H·W, 1, 1]``. Facts from NeuralNetwork.proto make the lifted network
compute the same numbers:

* innerProduct maps rank 2 ``(x1, C_in)`` to ``(x1, C_out)`` and rank 4 ``(x1, C_in, 1, 1)`` to
  ``(x1, C_out, 1, 1)`` (rank 1 ``(C_in)`` → ``(C_out)``; rank 3 ``(x1, x2, C_in)`` → ``(x1, x2, C_out)``, like rank 5
  ``(x1, x2, C_in, 1, 1)``); element-wise activations, same-shape add/multiply and copy do not care about rank;
* ``softmaxND`` over the last axis of a rank ≤ 3 blob is ``softmax`` (axis -3) of its lifted blob;
* ``flatten`` (CHANNEL_FIRST) of ``[..., C, H, W]`` is ``[..., C·H·W, 1, 1]`` in row-major order, which is the
  order ``reshapeStatic``/``flattenTo2D``/``squeeze`` keep.

A blob of rank ≤ 3 is lifted by appending ``[1, 1]`` (rank 1 also gets a leading 1). ``plan_lift`` grows a region
of layers around a seed; ``regrouping_chain`` says what a chain of reshape-like layers becomes once lifted
(``flatten``, or nothing when it only undoes the lift).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..coreml import ELEMENTWISE_ACTIVATION_KINDS, REGROUPING_KINDS
from ..network import Layer
from .base import NetworkFacts

_SAME_SHAPE_COMBINERS = frozenset({"add", "multiply", "copy"})


def lifted(shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(shape) >= 4:
        return shape
    if len(shape) == 1:
        return (1, shape[0], 1, 1)
    return shape + (1, 1)


def flattened(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    return shape[:-3] + (math.prod(shape[-3:]), 1, 1) if len(shape) >= 3 else None


@dataclass
class Chain:
    """Regrouping layers (reshape, squeeze, expandDims, flattenTo2D) from ``source`` to ``end``, upstream first."""

    layers: list[Layer]
    source: str
    end: str
    becomes: str  # "flatten" or "nothing" (the lift makes it an identity)


@dataclass
class LiftPlan:
    seeds: list[Layer]
    members: dict[int, str] = field(default_factory=dict)  # layer index → "keep" | "convert" | "softmax"
    chains: dict[int, Chain] = field(default_factory=dict)  # index of a chain's last layer → chain

    @property
    def changes_anything(self) -> bool:
        return bool(self.chains) or any(role != "keep" for role in self.members.values())


def regrouping_chain(facts: NetworkFacts, end: Layer) -> Chain | None:
    """The chain of regrouping layers ending at ``end`` and what the lift turns it into, or None if none fits."""
    graph, layers, current = facts.graph, [], end
    while current is not None and current.kind in REGROUPING_KINDS and len(current.inputs) == 1:
        if current.kind == "reshape" and current.params.mode != 0:
            return None  # CHANNEL_LAST reorders the data
        if current is not end:
            consumers = graph.blob_consumers.get(current.outputs[0], [])
            if len(consumers) != 1 or current.outputs[0] in graph.output_names:
                break
        layers.insert(0, current)
        current = graph.blob_producer.get(current.inputs[0])
    if not layers:
        return None
    source, end_blob = layers[0].inputs[0], end.outputs[0]
    if not all(facts.written_once(blob) for layer in layers for blob in layer.outputs):
        return None
    source_shape, end_shape = facts.shape(source), facts.shape(end_blob)
    if source_shape is None or end_shape is None:
        return None
    source_view, end_view = lifted(source_shape), lifted(end_shape)
    if source_view == end_view:
        return Chain(layers, source, end_blob, "nothing")
    if flattened(source_view) == end_view:
        return Chain(layers, source, end_blob, "flatten")
    return None


def role(facts: NetworkFacts, layer: Layer) -> str | None:
    """How ``layer`` takes part in a lift: keep (already rank ≥ 4), convert, softmax (from softmaxND), or None."""
    if not layer.inputs or not layer.outputs or layer.kind in REGROUPING_KINDS:
        return None
    shapes = [facts.shape(blob) for blob in layer.inputs + layer.outputs]
    if any(shape is None for shape in shapes) or not all(facts.written_once(b) for b in layer.outputs):
        return None
    if all(len(shape) >= 4 for shape in shapes):
        return "keep"
    if len(layer.outputs) != 1 or any(len(shape) > 3 for shape in shapes):
        return None
    out = facts.shape(layer.outputs[0])
    if layer.kind == "innerProduct":
        return "convert"
    if layer.kind == "activation" and layer.activation in ELEMENTWISE_ACTIVATION_KINDS:
        return "convert"
    if layer.kind in _SAME_SHAPE_COMBINERS and all(facts.shape(blob) == out for blob in layer.inputs):
        return "convert"
    if layer.kind == "softmaxND" and layer.params.axis % len(out) == len(out) - 1:
        return "softmax"
    return None


def plan_lift(facts: NetworkFacts, seeds: list[Layer]) -> LiftPlan:
    """The region around ``seeds``: upstream through every layer that can take part, downstream through the
    vector layers that follow. Seeds that cannot take part are left out (``changes_anything`` then tells)."""
    plan = LiftPlan(seeds)
    in_chains: set[int] = set()
    queue = list(seeds)
    graph = facts.graph
    while queue:
        layer = queue.pop(0)
        if layer.index in plan.members or layer.index in in_chains:
            continue
        taken = role(facts, layer)
        if taken is None:
            continue
        plan.members[layer.index] = taken
        for blob in layer.inputs:
            producer = graph.blob_producer.get(blob)
            if producer is None:
                continue
            if producer.kind in REGROUPING_KINDS:
                chain = regrouping_chain(facts, producer)
                if chain is None or any(link.index in plan.members for link in chain.layers):
                    continue
                if producer.index not in plan.chains:
                    plan.chains[producer.index] = chain
                    in_chains.update(link.index for link in chain.layers)
                upstream = graph.blob_producer.get(chain.source)
                if upstream is not None:
                    queue.append(upstream)
            else:
                queue.append(producer)
        if taken != "keep":
            for blob in layer.outputs:
                queue.extend(consumer for consumer in graph.blob_consumers.get(blob, [])
                             if role(facts, consumer) in ("convert", "softmax"))
    return plan
