"""A plain-data summary of a model: what ``mlsurgery inspect`` shows, and the JSON it prints.

The dict returned by ``summarize`` is the documented, stable ``inspect --format json`` shape (see README).
"""

from __future__ import annotations

from .backprop import explain_updatable_layers
from .coreml import (GLM_LOGIT, GLM_ONE_VS_REST, GLM_PROBIT, GLM_REFERENCE_CLASS, LossKind, UpdateParameters,
                     pipeline_message, read_update_parameters)
from .glm import equivalence
from ._proto import enum_name
from .network import LayerGraph, find_networks, pipeline_stages


def feature_type(feature_type_message) -> dict:
    """``{"kind": ..., ...details}`` for a FeatureType: image, multiArray, string, int64, double, dictionary…"""
    kind = feature_type_message.WhichOneof("Type")
    described: dict = {"kind": kind or "unset"}
    if kind == "multiArrayType":
        array = feature_type_message.multiArrayType
        described["data_type"] = enum_name(array.ArrayDataType, array.dataType).lower() if array.dataType else "unset"
        described["shape"] = list(array.shape)
    elif kind == "imageType":
        image = feature_type_message.imageType
        described.update(width=image.width, height=image.height,
                         color_space=enum_name(image.ColorSpace, image.colorSpace))
    elif kind == "dictionaryType":
        described["key"] = feature_type_message.dictionaryType.WhichOneof("KeyType")
    described["optional"] = feature_type_message.isOptional
    return described


def feature_type_label(described: dict) -> str:
    kind = described["kind"]
    if kind == "multiArrayType":
        return f"multiArray {described['data_type']} {described['shape']}"
    if kind == "imageType":
        return f"image {described['width']}×{described['height']} {described['color_space']}"
    if kind == "dictionaryType":
        key = "string" if described["key"] == "stringKeyType" else "int64"
        return f"dictionary {key} → double"
    return kind.removesuffix("Type")


def describe_features(features) -> list[dict]:
    """Name, type (as ``feature_type`` describes it) and description of each feature, in order."""
    return [{"name": f.name, "type": feature_type(f.type), "description": f.shortDescription} for f in features]


def _class_labels(spec) -> list | None:
    for location in find_networks(spec):
        if location.kind == "neuralNetworkClassifier":
            network = location.network
            which = network.WhichOneof("ClassLabels")
            if which == "stringClassLabels":
                return list(network.stringClassLabels.vector)
            if which == "int64ClassLabels":
                return list(network.int64ClassLabels.vector)
    return None


def _layers(graph: LayerGraph) -> list[dict]:
    return [{
        "index": layer.index,
        "name": layer.name,
        "type": layer.type_label,
        "inputs": layer.inputs,
        "outputs": layer.outputs,
        "parameters": layer.parameter_count,
        "storage": layer.storage,
        "updatable": layer.is_updatable,
        "can_be_updatable": layer.can_be_updatable,
        "passes_gradients": layer.passes_gradients,
    } for layer in graph.layers]


def int64_parameter(parameter) -> dict:
    """An ``Int64Parameter`` as ``{"default": int, "allowed_values": [int…] | "allowed_range": [min, max]}``."""
    allowed = parameter.WhichOneof("AllowedValues")
    described: dict = {"default": parameter.defaultValue}
    if allowed == "set":
        described["allowed_values"] = list(parameter.set.values)
    elif allowed == "range":
        described["allowed_range"] = [parameter.range.minValue, parameter.range.maxValue]
    return described


def double_parameter(parameter) -> dict:
    """A ``DoubleParameter`` as ``{"default": float, "allowed_range": [min, max]}`` (no range: any value)."""
    described: dict = {"default": parameter.defaultValue}
    if parameter.HasField("range"):
        described["allowed_range"] = [parameter.range.minValue, parameter.range.maxValue]
    return described


def optimizer_parameters(update: UpdateParameters) -> tuple[str | None, dict[str, dict]]:
    """The optimizer's name and the parameters its spec declares, keyed by field name (= MLParameterKey name),
    in the proto's field order: SGD learningRate, miniBatchSize, momentum; Adam learningRate, miniBatchSize,
    beta1, beta2, eps (upstream: mlmodel/format/NeuralNetwork.proto, SGDOptimizer / AdamOptimizer)."""
    if update.optimizer is None:
        return None, {}
    parameters = {}
    for key, value in update.declared.items():
        if key in update.optimizer.parameter_keys:
            is_int = value.DESCRIPTOR.name == "Int64Parameter"
            parameters[key] = int64_parameter(value) if is_int else double_parameter(value)
    return update.optimizer.value, parameters


def loss_layers(losses) -> list[dict]:
    """The loss layers of a network's ``updateParams`` (``UpdateParameters.losses``): name, type (cross-entropy /
    mse), input and target blob."""
    described = []
    for loss in losses:
        field = loss.WhichOneof("LossLayerType")
        kind = LossKind.from_field(field)
        body = getattr(loss, field) if field else None
        described.append({"name": loss.name, "type": kind.value if kind else (field or "unset"),
                          "input": body.input if body else None, "target": body.target if body else None})
    return described


def _training(graph: LayerGraph) -> dict | None:
    if not graph.model.isUpdatable:
        return None
    update = read_update_parameters(graph.network.updateParams)
    losses = loss_layers(update.losses)
    optimizer_kind, optimizer_values = optimizer_parameters(update)
    optimizer = {"type": optimizer_kind, **optimizer_values} if optimizer_kind else None
    declared = update.declared
    return {
        "inputs": describe_features(graph.model.description.trainingInput),
        "losses": losses,
        "optimizer": optimizer,
        "epochs": int64_parameter(declared["epochs"]) if "epochs" in declared else None,
        "shuffle": declared["shuffle"].defaultValue if "shuffle" in declared else None,
        "seed": declared["seed"].defaultValue if "seed" in declared else None,
        "updatable_layers": [layer.name for layer in graph.layers if layer.is_updatable],
        "layer_gradients": [_gradient_trace(trace) for trace in explain_updatable_layers(graph)],
    }


def _gradient_trace(trace) -> dict:
    blocker = trace.coreml_blocker or trace.first_blocker
    return {
        "name": trace.layer.name,
        "coreml_accepts": trace.coreml_accepts,
        "gradients_reach": trace.gradient_path is not None,
        "blocked_by": blocker.name if blocker is not None else None,
        "path": [layer.name for layer in trace.path],
        "coreml_differs_from_paths": trace.verdict_differs_from_paths,
    }


def _stages(spec, prefix: tuple[int, ...] = ()) -> list[dict]:
    """Every pipeline stage (nested ones flattened), with what it reads, writes and whether it trains."""
    container = pipeline_message(spec)
    found = []
    for index, stage in enumerate(pipeline_stages(spec)):
        path = prefix + (index,)
        names = list(container.names)
        found.append({"where": " › ".join(f"pipeline stage {i + 1}" for i in path),
                      "name": names[index] if len(names) > index else None,
                      "type": stage.WhichOneof("Type"), "is_updatable": stage.isUpdatable,
                      "inputs": [f.name for f in stage.description.input],
                      "outputs": [f.name for f in stage.description.output],
                      "training_inputs": [f.name for f in stage.description.trainingInput]})
        found.extend(_stages(stage, path))
    return found


def _models_with_where(spec, where: str = ""):
    yield where, spec
    for index, stage in enumerate(pipeline_stages(spec)):
        yield from _models_with_where(stage, f"{where} › pipeline stage {index + 1}".removeprefix(" › "))


def _knn(where: str, model) -> dict:
    knn = model.kNearestNeighborsClassifier
    index = knn.nearestNeighborsIndex
    labels = knn.WhichOneof("ClassLabels")
    default = knn.WhichOneof("DefaultClassLabel")
    return {
        "where": where,
        "dimensions": index.numberOfDimensions,
        "number_of_neighbors": int64_parameter(knn.numberOfNeighbors),
        "weighting": {"uniformWeighting": "uniform", "inverseDistanceWeighting": "inverse-distance"}.get(
            knn.WhichOneof("WeightingScheme") or "", None),
        "index": {"linearIndex": "linear", "singleKdTreeIndex": "kd-tree"}.get(index.WhichOneof("IndexType") or "",
                                                                              None),
        "leaf_size": index.singleKdTreeIndex.leafSize if index.WhichOneof("IndexType") == "singleKdTreeIndex"
        else None,
        "labels": "int64" if labels == "int64ClassLabels" or default == "defaultInt64Label" else "string",
        "samples": len(index.floatSamples),
        "default_label": getattr(knn, default) if default else None,
    }


def _glm(where: str, model) -> dict:
    glm = model.glmClassifier
    labels = glm.WhichOneof("ClassLabels")
    return {
        "where": where,
        "classes": len(getattr(glm, labels).vector) if labels else 0,
        "transform": {GLM_LOGIT: "logit", GLM_PROBIT: "probit"}.get(glm.postEvaluationTransform,
                                                                    str(glm.postEvaluationTransform)),
        "encoding": {GLM_REFERENCE_CLASS: "reference-class", GLM_ONE_VS_REST: "one-vs-rest"}.get(
            glm.classEncoding, str(glm.classEncoding)),
        "network_replacement_preserves": equivalence(glm).preserves,
    }


def summarize(spec, path: str | None = None) -> dict:
    """Everything ``inspect`` reports about ``spec``, as JSON-ready data."""
    description = spec.description
    networks = []
    for location in find_networks(spec):
        graph = LayerGraph(location)
        networks.append({"where": location.where, "type": location.kind, "layers": _layers(graph),
                         "training": _training(graph)})
    return {
        "path": path,
        "type": spec.WhichOneof("Type"),
        "specification_version": spec.specificationVersion,
        "is_updatable": spec.isUpdatable,
        "description": description.metadata.shortDescription,
        "inputs": describe_features(description.input),
        "outputs": describe_features(description.output),
        "predicted_feature": description.predictedFeatureName or None,
        "predicted_probabilities": description.predictedProbabilitiesName or None,
        "class_labels": _class_labels(spec),
        "networks": networks,
        "stages": _stages(spec),
        "training_inputs": describe_features(description.trainingInput),
        "knn": [_knn(where, model) for where, model in _models_with_where(spec)
                if model.WhichOneof("Type") == "kNearestNeighborsClassifier"],
        "glm": [_glm(where, model) for where, model in _models_with_where(spec)
                if model.WhichOneof("Type") == "glmClassifier"],
    }
