"""Structural edits of a neural network, each a small function that returns the ``Changes`` it made.

The few edits that rewrites and pipeline surgery are built from (as in onnx-graphsurgeon): replace a layer,
insert layers, remove a layer and reconnect its blob (or one nothing reads), redirect a blob's readers, rename a
blob, point a loss at another blob, cut the network after a blob, keep only some layers (carving pipeline
stages), lay the network out anew (a rewrite that computes a whole new layout), and ``cleanup`` of layers
nothing reads; plus the one walker over nested layers (``all_layers``) and the one free-name picker
(``free_name``). No code outside this module deletes, inserts or reorders layers or rewires blobs. Each takes a
``NetworkLocation`` (``mlsurgery.network.find_networks`` / ``trainable_network``) or a spec (then its trainable
network) and edits the protobuf in place; build a fresh ``LayerGraph`` afterwards.

A blob name is referred to from more places than layer inputs and outputs, and every edit here keeps them all in
step: the model description's features (inputs, outputs, training inputs, predicted feature and probabilities),
the loss layers' input and target, a classifier's ``labelProbabilityLayerName``, a loop's ``conditionVar``, and
the layers of nested (branch/loop) networks, which read and write the enclosing network's blobs. None of these
edits validates: ``mlsurgery.jobs.run_job`` validates the result as Core ML would.
"""

from __future__ import annotations

from collections.abc import Iterator

from .coreml import CONTROL_FLOW_KINDS
from .errors import SurgeryError, UsageError, did_you_mean
from .network import NetworkLocation, trainable_network
from .changes import Changes


def replace_layer(target, name: str, new_layer) -> Changes:
    """Put ``new_layer`` (a ``NeuralNetworkLayer`` message, copied) where layer ``name`` is.

    An empty name, input list or output list in ``new_layer`` is taken from the replaced layer, so a rewrite
    that only changes the layer's type and parameters gives just those.
    """
    location = _location(target)
    layers = location.network.layers
    index = _index(location.network, name)
    old = layers[index]
    replacement = type(old)()
    replacement.CopyFrom(new_layer)
    replacement.name = replacement.name or old.name
    if replacement.name != old.name and any(layer.name == replacement.name for layer in layers):
        raise UsageError(f"layer name {replacement.name!r} is already taken; give the new layer another name")
    if not replacement.input:
        replacement.input.extend(old.input)
    if not replacement.output:
        replacement.output.extend(old.output)
    detail = f"{_kind(old)} → {_kind(replacement)}"
    if replacement.name != old.name:
        detail += f", renamed {replacement.name!r}"
    if list(replacement.input) != list(old.input) or list(replacement.output) != list(old.output):
        detail += f", reads {list(replacement.input)} writes {list(replacement.output)}"
    layers[index].CopyFrom(replacement)
    changes = Changes("replace-layer")
    changes.add(f"layer {old.name}", f"replaced: {detail}")
    return changes


def remove_layer(target, name: str) -> Changes:
    """Remove layer ``name``, which has one input and one output, and reconnect: what read its output reads its
    input instead. When its output is a model output, the input blob takes the output's name instead (its
    producer then writes the model output directly)."""
    location = _location(target)
    network = location.network
    index = _index(network, name)
    layer = network.layers[index]
    if len(layer.input) != 1 or len(layer.output) != 1:
        raise SurgeryError(f"layer {name!r} has {len(layer.input)} inputs and {len(layer.output)} outputs; "
                           "remove_layer reconnects one input to one output")
    source, result = layer.input[0], layer.output[0]
    kind = _kind(layer)
    features = _feature_names(location.model.description)
    if source != result and result in features and source in features:
        raise SurgeryError(f"cannot remove {name!r}: it connects model feature {source!r} to model feature "
                           f"{result!r}, and a network cannot pass a feature on without a layer")
    del network.layers[index]
    changes = Changes("remove-layer")
    if source == result:
        changes.add(f"layer {name}", f"removed ({kind}); it wrote its input blob {source!r} in place")
    elif result in features:
        _rename_everywhere(location, source, result)
        changes.add(f"layer {name}", f"removed ({kind}); blob {source!r} renamed {result!r}, the model output "
                                     "it produced")
    else:
        _rename_references(location, result, source)
        changes.add(f"layer {name}", f"removed ({kind}); readers of {result!r} now read {source!r}")
    return changes


def remove_unread_layer(target, name: str) -> Changes:
    """Remove layer ``name`` when nothing reads what it writes (no layer, loss, model output or probability);
    otherwise change nothing (a constant still read elsewhere stays)."""
    location = _location(target)
    network = location.network
    index = _index(network, name)
    layer = network.layers[index]
    read = _feature_names(location.model.description, inputs=False) | set(_loss_blobs(network))
    if location.kind == "neuralNetworkClassifier" and network.labelProbabilityLayerName:
        read.add(network.labelProbabilityLayerName)
    for position, other in enumerate(network.layers):
        if position != index:
            read |= _reads(other)
    changes = Changes("remove-layer")
    written, kind = list(layer.output), _kind(layer)
    if not written or any(blob in read for blob in written):
        return changes
    del network.layers[index]
    changes.add(f"layer {name}", f"removed ({kind}): nothing reads {written} any more")
    return changes


def rename_blob(target, old: str, new: str) -> Changes:
    """Call blob ``old`` ``new`` everywhere in the model (a model input or output feature too).

    Inside a pipeline, the stages around this one keep using the old feature name: rename it there as well.
    """
    location = _location(target)
    known = set(_blob_names(location))
    if old not in known:
        raise UsageError(f"no blob named {old!r}; {_blob_hint(old, known)}")
    if new in known or any(layer.name == new for layer in location.network.layers):
        raise UsageError(f"{new!r} is already a blob or layer name; choose a free name")
    is_feature = old in _feature_names(location.model.description)
    count = _rename_everywhere(location, old, new)
    changes = Changes("rename-blob")
    changes.add(f"blob {old}", f"renamed {new!r} ({count} references{', a model feature' if is_feature else ''})")
    return changes


def cut_after(target, blob: str, feature_type=None) -> Changes:
    """Keep only the layers ``blob`` is computed from and make ``blob`` the model's only output.

    The output keeps its description when ``blob`` already is a model output; otherwise ``feature_type`` (a
    ``FeatureType`` message) declares it. Loss layers reading a removed blob are removed too.
    """
    location = _location(target)
    network, description = location.network, location.model.description
    existing = next((feature for feature in description.output if feature.name == blob), None)
    if not any(blob in layer.output for layer in network.layers):
        if blob in (feature.name for feature in description.input):
            raise UsageError(f"blob {blob!r} is a model input; cut after a blob a layer computes")
        raise UsageError(f"no layer writes {blob!r}; {_blob_hint(blob, set(_blob_names(location)))}")
    if existing is None and feature_type is None:
        raise UsageError(f"blob {blob!r} is not a model output; give the type of the new output (feature_type)")
    keep = _live_layers(network, {blob}, keep_control_flow=False)
    changes = Changes("cut")
    removed = [layer.name for index, layer in enumerate(network.layers) if index not in keep]
    _keep_only(network, keep)
    if removed:
        changes.add("network", f"cut after {blob!r}: {len(removed)} layers removed ({_names(removed)})")
    kept_type = type(feature_type)() if existing is None else type(existing.type)()
    kept_type.CopyFrom(feature_type if existing is None else existing.type)
    kept_description = existing.shortDescription if existing is not None else ""
    dropped = [feature.name for feature in description.output if feature.name != blob]
    del description.output[:]
    output = description.output.add()
    output.name, output.shortDescription = blob, kept_description
    output.type.CopyFrom(kept_type)
    if dropped:
        changes.add("outputs", f"{_names(dropped)} removed; {blob!r} is the only output")
    for field in ("predictedFeatureName", "predictedProbabilitiesName"):
        if getattr(description, field) and getattr(description, field) != blob:
            changes.add("description", f"{field} {getattr(description, field)!r} cleared")
            setattr(description, field, "")
    changes.extend(_drop_orphaned_losses(location))
    return changes


def keep_layers(target, names: list[str]) -> Changes:
    """Keep only the layers named in ``names`` (in network order) and delete the others, rewiring nothing: for
    carving a network into pipeline stages, where the caller declares the blobs that cross between them."""
    location = _location(target)
    network = location.network
    wanted = set(names)
    unknown = wanted - {layer.name for layer in network.layers}
    if unknown:
        raise UsageError(f"no layer named {sorted(unknown)[0]!r}; run `mlsurgery inspect MODEL` to list them")
    keep = {index for index, layer in enumerate(network.layers) if layer.name in wanted}
    removed = [layer.name for index, layer in enumerate(network.layers) if index not in keep]
    _keep_only(network, keep)
    changes = Changes("keep-layers")
    if removed:
        changes.add("network", f"{len(removed)} layers removed ({_names(removed)})")
    return changes


def cleanup(target) -> Changes:
    """Remove the layers that no model output, loss layer or classifier probability depends on.

    Control-flow layers, layers without outputs and everything they read are always kept: their effect does not
    show in the blobs they write.
    """
    location = _location(target)
    network = location.network
    needed = _feature_names(location.model.description, inputs=False) | set(_loss_blobs(network))
    if location.kind == "neuralNetworkClassifier" and network.labelProbabilityLayerName:
        needed.add(network.labelProbabilityLayerName)
    keep = _live_layers(network, needed, keep_control_flow=True)
    changes = Changes("cleanup")
    for index, layer in enumerate(network.layers):
        if index not in keep:
            changes.add(f"layer {layer.name}", f"removed ({_kind(layer)}): nothing reads its outputs "
                                               f"{list(layer.output)}")
    _keep_only(network, keep)
    return changes


def insert_layers(target, layers, *, before: str | None = None, after: str | None = None) -> Changes:
    """Insert copies of ``layers`` (``NeuralNetworkLayer`` messages, in order) before or after layer ``before`` /
    ``after`` (neither: at the end). Names must be free (``free_name``); the blobs they read and write are taken
    as given, so rewire with ``rename_blob`` / ``redirect_readers`` as needed."""
    location = _location(target)
    network = location.network
    if before is not None and after is not None:
        raise UsageError("insert before a layer or after one, not both")
    position = len(network.layers)
    if before is not None:
        position = _index(network, before)
    elif after is not None:
        position = _index(network, after) + 1
    taken = {layer.name for layer in all_layers(network)}
    changes = Changes("insert-layers")
    copies = []
    for layer in layers:
        if layer.name in taken or not layer.name:
            raise UsageError(f"layer name {layer.name!r} is empty or already taken; pick one with free_name")
        taken.add(layer.name)
        copies.append(layer)
    # protobuf repeated fields cannot insert in the middle: append, then rotate the new layers into place.
    for layer in copies:
        network.layers.add().CopyFrom(layer)
    _move_tail(network, len(copies), position)
    for layer in copies:
        changes.add(f"layer {layer.name}", f"inserted ({_kind(layer)}), reads {list(layer.input)} writes "
                                           f"{list(layer.output)}")
    return changes


def replace_all_layers(target, layers, operation: str = "relayout") -> Changes:
    """Make the network's layer list exactly copies of ``layers``, in that order: for rewrites that compute a
    whole new layout (``ops.rewrites.lift`` runs a region on lifted blobs, with reshapes at its borders). Layer
    names must be unique; what changed is for the caller to report."""
    location = _location(target)
    names = [layer.name for layer in layers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SurgeryError(f"layer name {duplicates[0]!r} would appear twice; pick new names with free_name")
    copies = []
    for layer in layers:
        copy = type(layer)()
        copy.CopyFrom(layer)
        copies.append(copy)
    network = location.network
    network.ClearField("layers")
    network.layers.extend(copies)
    return Changes(operation)


def redirect_readers(target, old: str, new: str, *, skip: tuple[str, ...] = ()) -> Changes:
    """Make every reader of blob ``old`` (layers other than ``skip``, loops, losses, a classifier's
    probabilities) read ``new`` instead. Model features are left alone."""
    location = _location(target)
    count = _rename_references(location, old, new, skip=set(skip))
    changes = Changes("redirect")
    if count:
        changes.add(f"blob {old}", f"{count} readers now read {new!r}")
    return changes


def set_loss_input(target, loss_name: str, blob: str) -> Changes:
    """Point the loss layer ``loss_name`` at blob ``blob`` (a blob a layer of the network writes)."""
    location = _location(target)
    network = location.network
    loss = next((loss for loss in network.updateParams.lossLayers if loss.name == loss_name), None)
    if loss is None or not loss.WhichOneof("LossLayerType"):
        raise UsageError(f"no loss layer named {loss_name!r}")
    if not any(blob in layer.output for layer in network.layers):
        raise UsageError(f"no layer writes {blob!r}; {_blob_hint(blob, set(_blob_names(location)))}")
    params = getattr(loss, loss.WhichOneof("LossLayerType"))
    old, params.input = params.input, blob
    changes = Changes("loss-input")
    changes.add(f"loss {loss_name}", f"reads {blob!r} instead of {old!r}")
    return changes


def all_layers(network) -> Iterator:
    """Every layer of ``network`` and of the networks nested in its control-flow layers, depth first."""
    for layer in network.layers:
        yield layer
        for nested in nested_networks(layer):
            yield from all_layers(nested)


def names_in_use(network) -> set[str]:
    """Every layer and blob name of ``network`` (nested networks included)."""
    taken: set[str] = set()
    for layer in all_layers(network):
        taken.add(layer.name)
        taken.update(layer.input)
        taken.update(layer.output)
    return taken


def free_name(taken: set[str], wanted: str) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``… whichever is not yet in ``taken`` (then added to it): the one
    name picker for new layers and blobs (give it ``names_in_use`` plus the model's feature names)."""
    name, suffix = wanted, 2
    while name in taken:
        name, suffix = f"{wanted}_{suffix}", suffix + 1
    taken.add(name)
    return name


# --- helpers ---------------------------------------------------------------------------------------------------

def _location(target) -> NetworkLocation:
    return target if isinstance(target, NetworkLocation) else trainable_network(target)


def _index(network, name: str) -> int:
    for index, layer in enumerate(network.layers):
        if layer.name == name:
            return index
    hint = did_you_mean(name, [layer.name for layer in network.layers], cutoff=0.5)
    raise UsageError(f"no layer named {name!r}; {hint or 'run `mlsurgery inspect MODEL` to list them'}")


def _blob_hint(name: str, known: set[str]) -> str:
    return did_you_mean(name, sorted(known)) or "run `mlsurgery inspect MODEL` to list them"


def _kind(layer) -> str:
    kind = layer.WhichOneof("layer") or "unset"
    if kind == "activation":
        return f"activation/{layer.activation.WhichOneof('NonlinearityType')}"
    return kind


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


# The fields of each control-flow layer's parameters that hold a network.
_NESTED_NETWORK_FIELDS = {"branch": ("ifBranch", "elseBranch"), "loop": ("conditionNetwork", "bodyNetwork")}


def nested_networks(layer) -> Iterator:
    """The networks a control-flow layer runs (a branch's if/else, a loop's condition and body)."""
    kind = layer.WhichOneof("layer")
    fields = _NESTED_NETWORK_FIELDS.get(kind, ())
    params = getattr(layer, kind) if fields else None
    for field in fields:
        if params.HasField(field):
            yield getattr(params, field)


def _move_tail(network, count: int, position: int) -> None:
    """Move the last ``count`` layers of ``network`` to ``position`` (the others keep their order)."""
    layers = network.layers
    for _ in range(len(layers) - count - position):
        moved = type(layers[0])()
        moved.CopyFrom(layers[position])
        del layers[position]
        layers.add().CopyFrom(moved)


def _reads(layer) -> set[str]:
    """The blobs a layer reads, those of its nested networks and a loop's condition included."""
    read = set(layer.input)
    if layer.WhichOneof("layer") == "loop" and layer.loop.conditionVar:
        read.add(layer.loop.conditionVar)
    for nested in nested_networks(layer):
        for inner in all_layers(nested):
            read |= _reads(inner)
    return read


def _feature_names(description, inputs: bool = True) -> set[str]:
    features = list(description.output) + (list(description.input) if inputs else [])
    return {feature.name for feature in features}


def _loss_blobs(network) -> Iterator[str]:
    for loss in network.updateParams.lossLayers:
        kind = loss.WhichOneof("LossLayerType")
        if kind:
            yield getattr(loss, kind).input


def _blob_names(location: NetworkLocation) -> Iterator[str]:
    yield from _feature_names(location.model.description)
    for layer in all_layers(location.network):
        yield from layer.input
        yield from layer.output


def _live_layers(network, needed: set[str], *, keep_control_flow: bool) -> set[int]:
    """Indexes of the layers the ``needed`` blobs depend on (backward liveness over the layer order)."""
    live, keep = set(needed), set()
    for index in range(len(network.layers) - 1, -1, -1):
        layer = network.layers[index]
        always = keep_control_flow and (layer.WhichOneof("layer") in CONTROL_FLOW_KINDS or not layer.output)
        if always or any(blob in live for blob in layer.output):
            keep.add(index)
            live = (live - set(layer.output)) | _reads(layer)
    return keep


def _keep_only(network, keep: set[int]) -> None:
    for index in range(len(network.layers) - 1, -1, -1):
        if index not in keep:
            del network.layers[index]


def _rename_references(location: NetworkLocation, old: str, new: str, skip: set[str] = frozenset()) -> int:
    """Point every read of blob ``old`` (layer inputs, loop conditions, losses, probabilities) at ``new``, except
    by the layers named in ``skip``."""
    count = 0
    for layer in all_layers(location.network):
        if layer.name in skip:
            continue
        for position, blob in enumerate(layer.input):
            if blob == old:
                layer.input[position] = new
                count += 1
        if layer.WhichOneof("layer") == "loop" and layer.loop.conditionVar == old:
            layer.loop.conditionVar = new
            count += 1
    for loss in location.network.updateParams.lossLayers:
        kind = loss.WhichOneof("LossLayerType")
        if kind and getattr(loss, kind).input == old:
            getattr(loss, kind).input = new
            count += 1
    if location.kind == "neuralNetworkClassifier" and location.network.labelProbabilityLayerName == old:
        location.network.labelProbabilityLayerName = new
        count += 1
    return count


def _rename_everywhere(location: NetworkLocation, old: str, new: str) -> int:
    """``_rename_references`` plus the layers that write ``old`` and the model features (and loss targets)
    named ``old``."""
    count = _rename_references(location, old, new)
    for layer in all_layers(location.network):
        for position, blob in enumerate(layer.output):
            if blob == old:
                layer.output[position] = new
                count += 1
    description = location.model.description
    for features in (description.input, description.output, description.trainingInput):
        for feature in features:
            if feature.name == old:
                feature.name = new
                count += 1
    for field in ("predictedFeatureName", "predictedProbabilitiesName"):
        if getattr(description, field) == old:
            setattr(description, field, new)
            count += 1
    for loss in location.network.updateParams.lossLayers:
        kind = loss.WhichOneof("LossLayerType")
        if kind and getattr(loss, kind).target == old:
            getattr(loss, kind).target = new
            count += 1
    return count


def _drop_orphaned_losses(location: NetworkLocation) -> Changes:
    changes = Changes("cut")
    network = location.network
    written = {blob for layer in network.layers for blob in layer.output}
    losses = network.updateParams.lossLayers
    for index in range(len(losses) - 1, -1, -1):
        kind = losses[index].WhichOneof("LossLayerType")
        if kind and getattr(losses[index], kind).input not in written:
            changes.add(f"loss {losses[index].name}", "removed: the blob it read was cut away")
            del losses[index]
    return changes
