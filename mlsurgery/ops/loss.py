"""Attach the loss layer and the training inputs Core ML needs to feed it."""

from __future__ import annotations

from ..coreml import REGROUPING_KINDS, LossKind, exact_rank_arrays
from ..errors import SurgeryError, UsageError
from ..network import LayerGraph, pipeline_stages, trainable_network
from ..rewrite_matches.base import before_trailing_regrouping
from .changes import Changes

DEFAULT_LOSS_NAME = "lossLayer"

# Layers that keep every element of their input in place, so a loss placed before one of them can take its
# target shape from the model output after it.
_ELEMENT_PRESERVING = frozenset({"activation", "reshape", "flatten", "softmax"})


def default_loss(graph: LayerGraph) -> tuple[LossKind, str]:
    """The loss a user most likely wants: cross-entropy on the softmax that gives a classifier's probabilities, or
    on the class-probability softmax that computes a plain network's single output; otherwise MSE on that
    output, read before a trailing reshape or squeeze (which would stop every gradient)."""
    if graph.is_classifier:
        softmax = graph.probabilities_softmax() or softmax_behind(graph, graph.probabilities_blob())
        if softmax is None:
            raise SurgeryError(
                "the classifier's probabilities are not produced by a softmax layer, which cross-entropy needs; "
                f"pass --loss-input BLOB naming a softmax output, or --loss mse{fix_hint(graph)}")
        return LossKind.CROSS_ENTROPY, softmax.outputs[0]
    outputs = graph.output_names
    if len(outputs) == 1:
        softmax = softmax_behind(graph, outputs[0])
        if softmax is not None and _is_class_vector(graph, softmax.outputs[0]):
            return LossKind.CROSS_ENTROPY, softmax.outputs[0]
    return LossKind.MSE, _default_input_for(LossKind.MSE, graph)


def softmax_behind(graph: LayerGraph, blob: str | None):
    """The softmax layer whose output ``blob`` is, directly or through reshape-like layers, else None."""
    producer = graph.blob_producer.get(blob) if blob else None
    while producer is not None and producer.kind in REGROUPING_KINDS and len(producer.inputs) == 1:
        producer = graph.blob_producer.get(producer.inputs[0])
    return producer if producer is not None and producer.kind == "softmax" else None


def per_pixel_softmax(graph: LayerGraph, blob: str | None):
    """The softmax writing ``blob`` (directly or through reshape-like layers) when it normalises the classes of
    each pixel (a segmentation map: H or W above 1), else None."""
    softmax = softmax_behind(graph, blob)
    if softmax is None or _is_class_vector(graph, softmax.outputs[0]):
        return None
    return softmax


# What Core ML's two losses can express for a per-pixel classifier (NeuralNetwork.proto, LossLayer messages).
PER_PIXEL_SOFTMAX_NOTE = (
    "Core ML's cross-entropy takes one class index per example, not one per pixel, and MSE cannot train through "
    "a softmax; what trains the same classes is MSE on the pre-softmax logits against a one-hot target")


def _is_class_vector(graph: LayerGraph, blob: str) -> bool:
    """A softmax output that holds one class-probability vector per example: softmax normalises axis -3, so the
    two axes after it must be 1, as cross-entropy's one-element class-index target expects (a segmentation
    model's per-pixel softmax is not)."""
    shape = _shapes(graph).get(blob)
    return shape is None or len(shape) < 3 or tuple(shape[-2:]) == (1, 1)


def fix_hint(graph: LayerGraph) -> str:
    """``; --fix …`` naming the rewrites that would let gradients reach further back, or '' when there are none."""
    from ..rewrite_matches import NetworkFacts, find_matches

    fixable = [match for match in find_matches(NetworkFacts(graph)) if match.fixable]
    if not fixable:
        return ""
    named = ", ".join(f"{match.layer!r} ({match.code})" for match in fixable[:3])
    return f"; --fix would rewrite {named} so that Core ML can train through (see mlsurgery fix)"


def _shapes(graph: LayerGraph) -> dict:
    from ..shapes.nd import blob_shapes

    return blob_shapes(graph.model, graph.network)


def resolve_loss(graph: LayerGraph, kind: LossKind | str | None, input: str | None) -> tuple[LossKind, str]:
    """The (loss kind, loss input blob) a request means, with defaults filled in; refuses what cannot work.

    ``kind`` is a ``LossKind`` or its name (``"cross-entropy"``, ``"mse"``); None picks one.
    """
    if kind is not None:
        kind = LossKind.parse(kind)
    if input is None:
        kind, input = default_loss(graph) if kind is None else (kind, _default_input_for(kind, graph))
    producer = graph.blob_producer.get(input)
    if producer is None:
        # Layers such as loop or loopBreak write no blob, so the example is the last blob any layer writes.
        example = next((layer.outputs[-1] for layer in reversed(graph.layers) if layer.outputs), None)
        raise UsageError(f"loss input {input!r} is not produced by any layer of the network; name a layer output"
                         + (f" (e.g. {example!r})" if example else ""))
    if kind is None:
        kind = LossKind.CROSS_ENTROPY if producer.kind == "softmax" else LossKind.MSE
    if kind is LossKind.CROSS_ENTROPY and producer.kind != "softmax":
        raise SurgeryError(
            f"cross-entropy needs a softmax output, but {input!r} comes from {producer.name!r} "
            f"({producer.type_label}); attach it to a softmax output or use --loss mse")
    return kind, input


def set_loss(spec, kind: LossKind | str | None = None, input: str | None = None, *, name: str | None = None,
             target_shape: list[int] | None = None, target_description: str = "", measure=None) -> Changes:
    """Replace the network's loss layer and its training inputs.

    ``kind`` is a ``LossKind`` (or its name, ``cross-entropy`` or ``mse``) and ``input`` the blob the loss reads;
    both default to what ``default_loss`` picks. Training inputs become the model's inputs plus the target: for
    cross-entropy on a classifier's probabilities, the predicted-feature name with the class label type (Core ML
    maps the label to an index itself); otherwise ``<input>_true``, a one-element INT32 index for cross-entropy
    or, for MSE, a DOUBLE array shaped like the loss input. ``target_description`` becomes the target's
    ``shortDescription`` (what ``mlsurgery contract`` shows the app developer), e.g. how a one-hot target is laid out.
    ``measure(model, blob)`` gives a blob's shape by running the network (the jobs pass
    ``mlsurgery.engine.blob_shapes.measure_blob_shape``), for an MSE input whose shape propagation does not know.
    """
    location = trainable_network(spec)
    graph = LayerGraph(location)
    kind, input = resolve_loss(graph, kind, input)
    name = name or _free_loss_name(graph)
    if graph.has_layer(name):
        raise UsageError(f"loss name {name!r} is already a layer name; Core ML requires distinct names")

    changes = Changes("loss")
    network = location.network
    network.updateParams.ClearField("lossLayers")
    loss = network.updateParams.lossLayers.add()
    loss.name = name
    target = f"{input}_true"
    description = location.model.description
    loss_params = getattr(loss, kind.field)
    loss_params.input = input
    loss_params.target = target
    if kind is LossKind.CROSS_ENTROPY:
        label_output = _classifier_label_output(graph, input)
        if label_output is not None:
            target_feature = (label_output.name, label_output.type)
        else:
            target_feature = (target, _array_type(description, [1], "INT32"))
    else:
        shape = target_shape or _target_shape(graph, input, measure)
        target_feature = (target, _array_type(description, shape, "DOUBLE"))
    changes.add(f"loss {name}", f"{kind} on {input!r}, target {target_feature[0]!r}")
    for model in _models_on_path(spec, location.stage_path):
        _set_training_inputs(model.description, target_feature, changes)
        for feature in model.description.trainingInput:
            if target_description and feature.name == target_feature[0]:
                feature.shortDescription = target_description
    return changes


def _default_input_for(kind: LossKind, graph: LayerGraph) -> str:
    if kind is LossKind.CROSS_ENTROPY:
        softmax = graph.probabilities_softmax() or next(
            (layer for layer in reversed(graph.layers) if layer.kind == "softmax"), None)
        if softmax is None:
            raise SurgeryError("cross-entropy needs a softmax output and the network has no softmax layer; "
                               "use --loss mse")
        return softmax.outputs[0]
    outputs = graph.output_names
    if len(outputs) != 1:
        raise UsageError(f"the model has {len(outputs)} outputs ({', '.join(outputs)}); "
                         "choose the one to train with --loss-input BLOB")
    return before_trailing_regrouping(graph, outputs[0])


def _free_loss_name(graph: LayerGraph) -> str:
    name, suffix = DEFAULT_LOSS_NAME, 1
    while graph.has_layer(name):
        name, suffix = f"{DEFAULT_LOSS_NAME}_{suffix}", suffix + 1
    return name


def _classifier_label_output(graph: LayerGraph, loss_input: str):
    """The classifier's label output when the loss reads its probabilities, directly or before reshape-like
    layers (Core ML then accepts the label itself as the target)."""
    if not graph.is_classifier:
        return None
    probabilities = graph.probabilities_blob()
    softmax = softmax_behind(graph, probabilities)
    if loss_input != probabilities and (softmax is None or softmax.outputs[0] != loss_input):
        return None
    description = graph.model.description
    return next((o for o in description.output if o.name == description.predictedFeatureName), None)


def _target_shape(graph: LayerGraph, blob: str, measure=None) -> list[int]:
    """The MSE target's shape, which Core ML expects equal to the loss input's: the blob's own shape when it is a
    model output that declares one, else the shape inferred through the network (``shapes.nd``), else measured by
    running it (``measure``), else a declared output after element-preserving layers. Each is written as a model
    feature declares that blob (``feature_shape``: ``[C]`` or ``[C, H, W]`` under the rank-5 mapping)."""
    from ..shapes.nd import feature_shape

    outputs = {feature.name: feature for feature in graph.model.description.output}
    declared = outputs.get(blob)
    if declared is not None and declared.type.WhichOneof("Type") == "multiArrayType" and len(
            declared.type.multiArrayType.shape):
        return list(declared.type.multiArrayType.shape)
    inferred = _shapes(graph).get(blob)
    if inferred is None and measure is not None:
        inferred = tuple(measure(graph.model, blob))
    if inferred is not None:
        return feature_shape(inferred, exact_rank_arrays(graph.network))
    current = blob
    while True:
        feature = outputs.get(current)
        if feature is not None and feature.type.WhichOneof("Type") == "multiArrayType" and len(
                feature.type.multiArrayType.shape):
            return list(feature.type.multiArrayType.shape)
        consumers = graph.blob_consumers.get(current, [])
        if len(consumers) != 1 or consumers[0].kind not in _ELEMENT_PRESERVING or len(consumers[0].outputs) != 1:
            raise UsageError(f"cannot tell the shape of {blob!r} for the MSE target; pass --target-shape D1,D2,…")
        current = consumers[0].outputs[0]


def _array_type(description, shape: list[int], data_type: str):
    from .._proto import feature_types_pb2

    feature_type = feature_types_pb2().FeatureType()
    array = feature_type.multiArrayType
    array.shape.extend(shape)
    array.dataType = getattr(feature_types_pb2().ArrayFeatureType, data_type)
    return feature_type


def _models_on_path(spec, stage_path: tuple[int, ...]) -> list:
    models = [spec]
    for index in stage_path:
        models.append(pipeline_stages(models[-1])[index])
    return models


def _set_training_inputs(description, target_feature, changes: Changes) -> None:
    """Training inputs = the prediction inputs + the target; descriptions a user gave them before are kept."""
    kept_descriptions = {feature.name: feature.shortDescription for feature in description.trainingInput}
    before = [feature.name for feature in description.trainingInput]
    description.ClearField("trainingInput")
    for feature in description.input:
        description.trainingInput.add().CopyFrom(feature)
    target_name, target_type = target_feature
    target = description.trainingInput.add()
    target.name = target_name
    target.type.CopyFrom(target_type)
    for feature in description.trainingInput:
        if kept_descriptions.get(feature.name):
            feature.shortDescription = kept_descriptions[feature.name]
    after = [feature.name for feature in description.trainingInput]
    if after != before:
        changes.add("training inputs", f"{before or '(none)'} → {after}")
