"""Run the vector part of a converted network on rank-4 ``[N, K, 1, 1]`` blobs, where Core ML's trainable layers work.

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
of layers around a seed; ``apply_lift`` renames the region's lifted blobs, replaces regrouping chains by ``flatten``
(or drops them when they only undo the lift), turns ``softmaxND`` into ``softmax``, and puts a ``reshapeStatic``
wherever a blob enters the region from outside or leaves it (to another layer or as a model output), so every
blob outside the region keeps its shape and values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ...network import Layer
from ..changes import Changes
from .base import REGROUPING_KINDS, NetworkFacts, names_in_use, unique_name

# Activations computed element by element, whatever the rank (PReLU and parametric softplus have per-channel
# parameters on axis -3, which moves when the rank changes).
_ELEMENTWISE_ACTIVATIONS = frozenset({"ReLU", "leakyReLU", "tanh", "scaledTanh", "sigmoid", "sigmoidHard", "linear",
                                      "ELU", "softplus", "thresholdedReLU", "softsign"})
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
    if layer.kind == "activation" and layer.activation in _ELEMENTWISE_ACTIVATIONS:
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


def apply_lift(facts: NetworkFacts, plan: LiftPlan, operation: str) -> Changes:
    """Rewrite the network of ``facts`` as ``plan`` says (in place); returns what changed."""
    from ..._proto import nn_pb2

    changes = Changes(operation)
    graph = facts.graph
    network = graph.network
    taken = names_in_use(network)
    chain_layers = {link.index for chain in plan.chains.values() for link in chain.layers}
    chain_by_end = {chain.end: chain for chain in plan.chains.values()}
    view_name: dict[str, str] = {}  # blob → its name in the lifted region
    entries: dict[str, str] = {}  # blob from outside the region → name of its lifted copy

    def lifted_name(blob: str) -> str:
        shape = facts.shape(blob)
        return blob if lifted(shape) == shape else unique_name(taken, f"{blob}_rank{len(lifted(shape))}")

    for index in sorted(plan.members):
        for blob in graph.layers[index].outputs:
            view_name[blob] = lifted_name(blob)

    def source_name(blob: str) -> str:
        if blob in view_name:
            return view_name[blob]
        chain = chain_by_end.get(blob)
        if chain is not None:
            if chain.becomes == "nothing":
                view_name[blob] = source_name(chain.source)
            else:
                view_name[blob] = lifted_name(blob)
            return view_name[blob]
        shape = facts.shape(blob)
        if lifted(shape) == shape:
            return blob
        if blob not in entries:
            entries[blob] = unique_name(taken, f"{blob}_rank{len(lifted(shape))}")
        return entries[blob]

    inputs_of = {index: [source_name(blob) for blob in graph.layers[index].inputs] for index in plan.members}
    chain_inputs = {chain.end: source_name(chain.source) for chain in plan.chains.values()}
    for chain in plan.chains.values():
        source_name(chain.end)

    region = set(plan.members) | chain_layers
    outputs = set(graph.output_names)
    exits = [blob for blob, name in view_name.items() if name != blob and (
        blob in outputs or any(c.index not in region for c in graph.blob_consumers.get(blob, [])))]

    def reshape_layer(name: str, source: str, target: str, shape) -> object:
        layer = nn_pb2().NeuralNetworkLayer()
        layer.name = unique_name(taken, name)
        layer.input.append(source)
        layer.output.append(target)
        layer.reshapeStatic.targetShape.extend(shape)
        return layer

    def entry_layers(blob: str) -> list:
        if blob not in entries:
            return []
        shape = lifted(facts.shape(blob))
        changes.add(f"blob {blob}", f"enters the rank-{len(shape)} region through reshapeStatic → {list(shape)}")
        return [reshape_layer(f"{blob}_to_rank{len(shape)}", blob, entries[blob], shape)]

    def exit_layers(blobs: list[str]) -> list:
        made = []
        for blob in blobs:
            if blob in exits:
                shape = facts.shape(blob)
                changes.add(f"blob {blob}", f"leaves the region through reshapeStatic → {list(shape)}")
                made.append(reshape_layer(f"{blob}_to_rank{len(shape)}", view_name[blob], blob, shape))
        return made

    new_layers = []
    for feature in graph.model.description.input:
        new_layers.extend(entry_layers(feature.name))
    for layer in graph.layers:
        proto = layer.proto
        if layer.index in plan.members:
            member_role = plan.members[layer.index]
            if member_role != "keep" or inputs_of[layer.index] != layer.inputs:
                proto = _rewired(layer, inputs_of[layer.index], [view_name[b] for b in layer.outputs], member_role)
                if member_role == "softmax":
                    changes.add(f"layer {layer.name}", f"softmaxND (axis {layer.params.axis}) → softmax over the "
                                f"channel axis of a rank-{len(lifted(facts.shape(layer.outputs[0])))} blob")
                elif member_role == "convert":
                    changes.add(f"layer {layer.name}", f"{layer.type_label} now runs on rank-4/5 blobs")
            new_layers.append(proto)
            new_layers.extend(exit_layers(layer.outputs))
        elif layer.index in chain_layers:
            chain = chain_by_end.get(layer.outputs[0])
            if chain is None:
                continue
            names = ", ".join(repr(link.name) for link in chain.layers)
            if chain.becomes == "flatten":
                flatten = nn_pb2().NeuralNetworkLayer()
                flatten.name = layer.name
                flatten.input.append(chain_inputs[chain.end])
                flatten.output.append(view_name[chain.end])
                flatten.flatten.mode = 0  # CHANNEL_FIRST: row-major, the order reshape keeps
                new_layers.append(flatten)
                changes.add(f"layer {layer.name}", f"{names} → flatten (channel-first), which passes gradients")
            else:
                changes.add(f"layer {layer.name}", f"{names} removed: on the rank-4 blobs it changes nothing")
            new_layers.extend(exit_layers([chain.end]))
        else:
            new_layers.append(proto)
        new_layers.extend(entry_layers_after(layer, entries, entry_layers))
    copies = [_copy(proto) for proto in new_layers]
    network.ClearField("layers")
    network.layers.extend(copies)
    return changes


def entry_layers_after(layer: Layer, entries: dict, make) -> list:
    return [made for blob in layer.outputs if blob in entries for made in make(blob)]


def _rewired(layer: Layer, inputs: list[str], outputs: list[str], member_role: str):
    proto = _copy(layer.proto)
    del proto.input[:]
    proto.input.extend(inputs)
    del proto.output[:]
    proto.output.extend(outputs)
    # Declared ranks no longer hold for lifted blobs; Core ML infers them when these are absent.
    proto.ClearField("inputTensor")
    proto.ClearField("outputTensor")
    if member_role == "softmax":
        proto.softmax.SetInParent()
    return proto


def _copy(proto):
    copy = type(proto)()
    copy.CopyFrom(proto)
    return copy
