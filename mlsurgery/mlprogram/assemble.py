"""The NeuralNetwork spec of a converted ML Program: the backend's layers under the package's own description.

The backend writes its own description (fp32 multi-array inputs named after the program's variables); the user
expects the package's: the same input and output names and types, flexible shapes, class labels, metadata. So
the result takes the package's description, the backend's layers, and the preprocessing and classifier fields
rebuilt from what ``_mil`` took out of the program.
"""

from __future__ import annotations

import numpy as np

from .._proto import feature_types_pb2, nn_pb2
from ..coreml import MIN_UPDATABLE_SPEC_VERSION


def assemble(network, description, *, images: dict, classifier, notes: list[str]):
    """``network``: the backend's spec; ``description``: the package's (``convert.interface``); ``images``: input
    name → ``ImagePreprocessing``; ``classifier``: ``ClassifierOutputs`` or ``None``, its probability name
    resolved."""
    result = type(network)()
    result.specificationVersion = max(network.specificationVersion, MIN_UPDATABLE_SPEC_VERSION)
    result.description.CopyFrom(description)
    _fit_description(result.description, notes)
    source = network.neuralNetwork
    target = result.neuralNetworkClassifier if classifier is not None else result.neuralNetwork
    target.layers.extend(source.layers)
    target.arrayInputShapeMapping = source.arrayInputShapeMapping
    target.imageInputShapeMapping = source.imageInputShapeMapping
    if images:
        target.imageInputShapeMapping = nn_pb2().RANK4_IMAGE_MAPPING
    for name, step in images.items():
        _add_preprocessing(target, name, step, _colour(result.description, name), notes)
    if classifier is not None:
        labels = classifier.labels
        if all(isinstance(label, str) for label in labels):
            target.stringClassLabels.vector.extend(labels)
        else:
            target.int64ClassLabels.vector.extend(int(label) for label in labels)
        target.labelProbabilityLayerName = classifier.probability_name
        notes.append(f"classify → neuralNetworkClassifier: {len(labels)} class labels kept, probabilities from "
                     f"blob {classifier.probability_name!r}")
    return result


def _fit_description(description, notes: list[str]) -> None:
    """Types only an ML Program may have, replaced by their NeuralNetwork equivalents."""
    arrays = feature_types_pb2().ArrayFeatureType
    images = feature_types_pb2().ImageFeatureType
    for feature in list(description.input) + list(description.output):
        kind = feature.type.WhichOneof("Type")
        if kind == "multiArrayType" and feature.type.multiArrayType.dataType in (arrays.FLOAT16, arrays.INT8):
            narrow = feature.type.multiArrayType.dataType
            wide = arrays.FLOAT32 if narrow == arrays.FLOAT16 else arrays.INT32
            feature.type.multiArrayType.dataType = wide
            notes.append(f"feature {feature.name!r}: {arrays.ArrayDataType.Name(narrow)} multi-array → "
                         f"{arrays.ArrayDataType.Name(wide)} (a NeuralNetwork's features are 32-bit)")
        elif kind == "imageType" and feature.type.imageType.colorSpace == images.GRAYSCALE_FLOAT16:
            feature.type.imageType.colorSpace = images.GRAYSCALE
            notes.append(f"feature {feature.name!r}: GRAYSCALE_FLOAT16 image → GRAYSCALE (8-bit; NeuralNetwork "
                         "images have no fp16 layout)")
    for feature in description.input:
        flexible = _flexibility(feature.type)
        if flexible:
            notes.append(f"input {feature.name!r}: {flexible} kept")


def _flexibility(feature_type) -> str | None:
    kind = feature_type.WhichOneof("Type")
    if kind == "multiArrayType":
        which = feature_type.multiArrayType.WhichOneof("ShapeFlexibility")
        return {"shapeRange": "shape ranges", "enumeratedShapes": "enumerated shapes"}.get(which)
    if kind == "imageType":
        which = feature_type.imageType.WhichOneof("SizeFlexibility")
        return {"imageSizeRange": "image size ranges", "enumeratedSizes": "enumerated image sizes"}.get(which)
    return None


def _colour(description, name: str) -> int:
    for feature in description.input:
        if feature.name == name:
            return feature.type.imageType.colorSpace
    raise KeyError(name)


def _add_preprocessing(network, name: str, step, colour: int, notes: list[str]) -> None:
    """Core ML's image scaler computes ``channelScale * pixel + bias`` per channel (NeuralNetwork.proto,
    NeuralNetworkImageScaler), the same as the ML Program's ``mul`` then ``add``."""
    if step.scale == 1.0 and not any(step.bias):
        return
    images = feature_types_pb2().ImageFeatureType
    preprocessing = network.preprocessing.add()
    preprocessing.featureName = name
    scaler = preprocessing.scaler
    scaler.channelScale = step.scale
    if colour == images.GRAYSCALE:
        scaler.grayBias = step.bias[0]
    elif colour == images.BGR:
        scaler.blueBias, scaler.greenBias, scaler.redBias = step.bias
    else:
        scaler.redBias, scaler.greenBias, scaler.blueBias = step.bias
    notes.append(f"image input {name!r}: preprocessing scale {step.scale:g}, bias "
                 f"{', '.join(f'{b:g}' for b in step.bias)} kept as the NeuralNetwork scaler")


def store_weights_fp16(spec, notes: list[str]) -> None:
    """Store every fp32 weight of ``spec``'s layers as fp16 (``float16Value``), the frozen part ``keep_fp16``
    asks for."""
    count = 0
    network = getattr(spec, spec.WhichOneof("Type"))
    for layer in network.layers:
        for weights in _weight_params(layer):
            values = np.asarray(weights.floatValue, dtype=np.float32)
            weights.ClearField("floatValue")
            weights.float16Value = values.astype("<f2").tobytes()
            count += 1
    notes.append(f"keep fp16: {count} weight blob(s) stored as fp16 (frozen; train an fp32 head with split)")


def _weight_params(message):
    """Every ``WeightParams`` with fp32 values inside ``message`` (a layer), nested messages included."""
    weight_type = nn_pb2().WeightParams
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        values = value if descriptor.is_repeated else [value]
        for item in values:
            if isinstance(item, weight_type):
                if len(item.floatValue):
                    yield item
            else:
                yield from _weight_params(item)
