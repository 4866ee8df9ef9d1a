"""``split``: a pipeline of the frozen network up to a blob and a trainable fp32 head after it.

Why: a network holding any fp16 weight is compiled to run entirely in FP16 and cannot be trained (coremltools
#604), and an LSTM upstream of the trained layers fails on the device (MLS901). Core ML trains only a pipeline's
last stage (PipelineValidator.cpp) and compiles each stage on its own, so moving the layers below the blob into a
first, frozen stage leaves them as they are — fp16, quantized, LSTM — while the head after the blob becomes its own
network, widened to fp32 and made updatable.

The two stages meet at the blob, declared with its exact run-time shape from Core ML's shape inference ([C] for
a vector, [C, H, W] otherwise) on both sides: Core ML compares the descriptions exactly, and a declared shape that
differs from the blob's real one reaches the next stage as a rank-5 array (hollance/coreml-training#4). The head
must read nothing from below the blob but the blob itself; a network whose head also reads other blobs (a skip
connection across the cut) is refused, naming the layer.
"""

from __future__ import annotations

from .._proto import model_pb2
from ..errors import SurgeryError, UsageError
from ..coreml import PIPELINE_KINDS
from ..network import LayerGraph, pipeline_stages, trainable_network
from .changes import Changes
from .features import array_type, blob_shape, check_blob, layers_up_to
from .precision import convert_fp16_to_fp32, dequantize_layers, fp16_layers, quantized_layers

_PIPELINE_OF = {"neuralNetworkClassifier": "pipelineClassifier", "neuralNetworkRegressor": "pipelineRegressor",
                "neuralNetwork": "pipeline"}
_NETWORK_FIELDS = ("arrayInputShapeMapping", "imageInputShapeMapping")
_CLASSIFIER_FIELDS = ("stringClassLabels", "int64ClassLabels", "labelProbabilityLayerName")


def split_network(spec, at: str, *, source: str = "model") -> Changes:
    """Split ``spec``'s trainable network (the root one, or a pipeline's last stage) after blob ``at``, in place.

    The first stage keeps the layers up to ``at`` byte for byte; the second holds the rest, with fp16 weights
    widened and quantized weights expanded to fp32. Nothing is made updatable here: run ``make_updatable`` on the
    result (``mlsurgery split`` does).
    """
    location = trainable_network(spec, source)
    graph = LayerGraph(location)
    check_blob(graph, at)
    if at not in graph.blob_producer:
        raise UsageError(f"blob {at!r} is a model input; split after a blob a layer computes")
    shape = blob_shape(location, at)
    backbone = layers_up_to(graph, at)
    backbone_ids = {id(layer) for layer in backbone}
    head = [layer for layer in graph.layers if id(layer) not in backbone_ids]
    if not head:
        raise UsageError(f"no layer reads {at!r}: the head after it would be empty; split at an earlier blob")
    _refuse_crossing_reads(head, at)

    model = location.model
    outputs_by_name = {feature.name: feature for feature in model.description.output}
    # An output the backbone computes (and the head does not overwrite) comes from stage 1; all others, a
    # classifier's label and probabilities included, from the head.
    head_outputs = {out for layer in head for out in layer.outputs}
    from_backbone = {out for layer in backbone for out in layer.outputs} - head_outputs
    feature_type = outputs_by_name[at].type if at in outputs_by_name else array_type(shape.dims)
    first = _backbone_stage(location, backbone, at, feature_type,
                            [f for f in model.description.output if f.name in from_backbone])
    second = _head_stage(location, head, at, feature_type,
                         [f for f in model.description.output if f.name not in from_backbone])

    changes = Changes("split")
    changes.add("stage 1 (frozen)", f"{len(backbone)} layers up to {at!r}, weights unchanged; output {at!r} "
                                    f"[{', '.join(map(str, shape.dims))}]")
    changes.add("stage 2 (head)", f"{len(head)} layers after {at!r}, input {at!r}")
    pipeline = _pipeline(model, location.kind, first, second)
    _put_in_place(spec, location.stage_path, pipeline, changes)
    head_stage = trainable_network(spec).network
    if fp16_layers(head_stage):
        changes.extend(convert_fp16_to_fp32(spec))
    quantized = quantized_layers(head_stage)
    if quantized:
        changes.extend(dequantize_layers(spec, quantized))
    return changes


def _refuse_crossing_reads(head, at: str) -> None:
    produced = {at}
    for layer in head:
        for blob in layer.inputs:
            if blob not in produced:
                raise SurgeryError(
                    f"layer {layer.name!r} after the cut reads {blob!r}, which is computed before {at!r} (or is a "
                    f"model input): the head must read only {at!r}; split at a blob every path passes through")
        produced.update(layer.outputs)


def _copy_network_fields(source_network, target_network) -> None:
    for field in _NETWORK_FIELDS:
        setattr(target_network, field, getattr(source_network, field))


def _backbone_stage(location, layers, at: str, feature_type, other_outputs):
    stage = model_pb2().Model()
    stage.specificationVersion = location.model.specificationVersion
    stage.description.input.extend(location.model.description.input)
    network = stage.neuralNetwork
    network.preprocessing.extend(location.network.preprocessing)
    _copy_network_fields(location.network, network)
    for layer in layers:
        copy = network.layers.add()
        copy.CopyFrom(layer.proto)
        if copy.isUpdatable:
            copy.isUpdatable = False
    feature = stage.description.output.add()
    feature.name = at
    feature.type.CopyFrom(feature_type)
    stage.description.output.extend(f for f in other_outputs if f.name != at)
    return stage


def _head_stage(location, layers, at: str, feature_type, outputs):
    source = location.model
    stage = model_pb2().Model()
    stage.specificationVersion = source.specificationVersion
    description = stage.description
    feature = description.input.add()
    feature.name = at
    feature.type.CopyFrom(feature_type)
    description.output.extend(outputs)
    description.predictedFeatureName = source.description.predictedFeatureName
    description.predictedProbabilitiesName = source.description.predictedProbabilitiesName
    network = getattr(stage, location.kind)
    _copy_network_fields(location.network, network)
    if location.kind == "neuralNetworkClassifier":
        for field in _CLASSIFIER_FIELDS:
            if field == "labelProbabilityLayerName":
                network.labelProbabilityLayerName = location.network.labelProbabilityLayerName
            elif location.network.HasField(field):
                getattr(network, field).CopyFrom(getattr(location.network, field))
    for layer in layers:
        network.layers.add().CopyFrom(layer.proto)
    return stage


def _pipeline(model, kind: str, first, second):
    pipeline = model_pb2().Model()
    pipeline.specificationVersion = max(model.specificationVersion, first.specificationVersion)
    description = pipeline.description
    description.CopyFrom(model.description)
    description.ClearField("trainingInput")
    models = getattr(pipeline, _PIPELINE_OF[kind]).pipeline if kind != "neuralNetwork" else pipeline.pipeline
    models.models.add().CopyFrom(first)
    models.models.add().CopyFrom(second)
    models.names.extend(["frozenBackbone", "trainableHead"])
    return pipeline


def _put_in_place(spec, stage_path: tuple[int, ...], pipeline, changes: Changes) -> None:
    """Replace the network at ``stage_path`` by the two stages: at the root the spec becomes the pipeline; inside a
    pipeline the stages take the network's place in it (with the stage names kept unique)."""
    if not stage_path:
        changes.add("model", f"{spec.WhichOneof('Type')} → {pipeline.WhichOneof('Type')} of 2 stages")
        spec.CopyFrom(pipeline)
        return
    parent = spec
    for index in stage_path[:-1]:
        parent = pipeline_stages(parent)[index]
    kind = parent.WhichOneof("Type")
    container = parent.pipeline if kind == "pipeline" else getattr(parent, kind).pipeline
    position = stage_path[-1]
    first, second = pipeline_stages(pipeline)
    stages = list(container.models)
    stages[position:position + 1] = [first, second]
    names = list(container.names)
    container.ClearField("models")
    container.models.extend(stages)
    if names:
        taken = set(names)
        new = [_unique("frozenBackbone", taken), _unique("trainableHead", taken)]
        names[position:position + 1] = new
        container.ClearField("names")
        container.names.extend(names)
    if parent.WhichOneof("Type") in PIPELINE_KINDS:
        parent.specificationVersion = max(parent.specificationVersion, pipeline.specificationVersion)
    changes.add("model", f"pipeline stage {position + 1} split into stages {position + 1} and {position + 2}")


def _unique(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    taken.add(candidate)
    return candidate

