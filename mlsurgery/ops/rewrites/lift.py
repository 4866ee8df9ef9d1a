"""Run the vector part of a converted network on rank-4 ``[N, K, 1, 1]`` blobs, as ``plan_lift``
(``mlsurgery.rewrite_matches.lift``, which says why the lifted network computes the same numbers) planned it.

``apply_lift`` renames the region's lifted blobs, replaces regrouping chains by ``flatten`` (or drops them when
they only undo the lift), turns ``softmaxND`` into ``softmax``, and puts a ``reshapeStatic`` wherever a blob
enters the region from outside or leaves it (to another layer or as a model output), so every blob outside the
region keeps its shape and values.
"""

from __future__ import annotations

from ...changes import Changes
from ...edit import free_name, names_in_use, replace_all_layers
from ...network import Layer
from ...rewrite_matches.base import NetworkFacts
from ...rewrite_matches.lift import LiftPlan, lifted


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
        return blob if lifted(shape) == shape else free_name(taken, f"{blob}_rank{len(lifted(shape))}")

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
            entries[blob] = free_name(taken, f"{blob}_rank{len(lifted(shape))}")
        return entries[blob]

    inputs_of = {index: [source_name(blob) for blob in graph.layers[index].inputs] for index in plan.members}
    chain_inputs = {chain.end: source_name(chain.source) for chain in plan.chains.values()}
    for chain in plan.chains.values():
        source_name(chain.end)

    region = set(plan.members) | chain_layers
    # A classifier reads its probabilities from a blob (labelProbabilityLayerName) that is no declared output.
    outputs = set(graph.output_names) | {graph.probabilities_blob()} - {None}
    exits = [blob for blob, name in view_name.items() if name != blob and (
        blob in outputs or any(c.index not in region for c in graph.blob_consumers.get(blob, [])))]

    def reshape_layer(name: str, source: str, target: str, shape) -> object:
        layer = nn_pb2().NeuralNetworkLayer()
        layer.name = free_name(taken, name)
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
    replace_all_layers(graph.location, new_layers, operation)
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
