"""Small valid specs for the general interface and neural-network rule cases (MLS0xx, MLS1xx), built as protobuf.

Every builder returns a fresh ``Model`` that Core ML's validator accepts; a case then breaks one thing.
Shapes follow Core ML's iOS 11/12 conventions (rank-5 mapping): vectors are [C], images-like arrays [C, H, W].
"""

from __future__ import annotations

from mlsurgery._proto import feature_types_pb2, model_pb2

_TYPES = feature_types_pb2()
FLOAT32 = _TYPES.ArrayFeatureType.FLOAT32
DOUBLE = _TYPES.ArrayFeatureType.DOUBLE
INT32 = _TYPES.ArrayFeatureType.INT32
FLOAT16 = _TYPES.ArrayFeatureType.FLOAT16
RGB = _TYPES.ImageFeatureType.RGB


def array_feature(features, name: str, shape, data_type: int = FLOAT32):
    feature = features.add()
    feature.name = name
    feature.type.multiArrayType.dataType = data_type
    feature.type.multiArrayType.shape.extend(shape)
    return feature


def image_feature(features, name: str, width: int = 8, height: int = 8, color_space: int = RGB):
    feature = features.add()
    feature.name = name
    feature.type.imageType.width = width
    feature.type.imageType.height = height
    feature.type.imageType.colorSpace = color_space
    return feature


def add_layer(network, name: str, inputs, outputs):
    layer = network.layers.add()
    layer.name = name
    layer.input.extend(inputs)
    layer.output.extend(outputs)
    return layer


def inner_product(network, name: str, source: str, target: str, inputs: int, outputs: int, *, bias: bool = True):
    layer = add_layer(network, name, [source], [target])
    params = layer.innerProduct
    params.inputChannels = inputs
    params.outputChannels = outputs
    params.weights.floatValue.extend([0.5] * (inputs * outputs))
    if bias:
        params.hasBias = True
        params.bias.floatValue.extend([0.1] * outputs)
    return layer


def activation(network, name: str, source: str, target: str):
    layer = add_layer(network, name, [source], [target])
    layer.activation.ReLU.SetInParent()
    return layer


def convolution(network, name: str, source: str, target: str, in_channels: int, out_channels: int, *,
                kernel=(3, 3), bias: bool = True, padding: str = "same"):
    layer = add_layer(network, name, [source], [target])
    params = layer.convolution
    params.kernelChannels = in_channels
    params.outputChannels = out_channels
    params.kernelSize.extend(kernel)
    params.stride.extend([1, 1])
    getattr(params, padding).SetInParent()
    params.weights.floatValue.extend([0.5] * (out_channels * in_channels * kernel[0] * kernel[1]))
    if bias:
        params.hasBias = True
        params.bias.floatValue.extend([0.1] * out_channels)
    return layer


def plain_network(version: int = 1):
    """neuralNetwork: x [4] → innerProduct 4→3 → relu → y [3]."""
    model = model_pb2().Model()
    model.specificationVersion = version
    array_feature(model.description.input, "x", [4])
    array_feature(model.description.output, "y", [3])
    network = model.neuralNetwork
    inner_product(network, "dense", "x", "hidden", 4, 3)
    activation(network, "relu", "hidden", "y")
    return model


def classifier(version: int = 1, *, int64_labels: bool = False):
    """neuralNetworkClassifier: x [4] → dense 4→3 → softmax → probs; labels a/b/c; outputs probs and label."""
    model = model_pb2().Model()
    model.specificationVersion = version
    array_feature(model.description.input, "x", [4])
    probabilities = model.description.output.add()
    probabilities.name = "probs"
    label = model.description.output.add()
    label.name = "label"
    if int64_labels:
        probabilities.type.dictionaryType.int64KeyType.SetInParent()
        label.type.int64Type.SetInParent()
    else:
        probabilities.type.dictionaryType.stringKeyType.SetInParent()
        label.type.stringType.SetInParent()
    model.description.predictedFeatureName = "label"
    model.description.predictedProbabilitiesName = "probs"
    network = model.neuralNetworkClassifier
    inner_product(network, "dense", "x", "logits", 4, 3)
    softmax = add_layer(network, "softmax", ["logits"], ["probs"])
    softmax.softmax.SetInParent()
    if int64_labels:
        network.int64ClassLabels.vector.extend([0, 1, 2])
    else:
        network.stringClassLabels.vector.extend(["a", "b", "c"])
    network.labelProbabilityLayerName = "probs"
    return model


def regressor(version: int = 1):
    """neuralNetworkRegressor: x [4] → dense 4→1 → y [1]; predictedFeatureName y."""
    model = model_pb2().Model()
    model.specificationVersion = version
    array_feature(model.description.input, "x", [4])
    array_feature(model.description.output, "y", [1])
    model.description.predictedFeatureName = "y"
    inner_product(model.neuralNetworkRegressor, "dense", "x", "y", 4, 1)
    return model


def conv_network(version: int = 1, *, image_input: bool = False):
    """neuralNetwork: [3, 8, 8] → conv 3→4 (3×3 same) → relu → global average pool → flatten → dense 4→2.

    With ``image_input`` the input is an 8×8 RGB image instead of a multi-array.
    """
    model = model_pb2().Model()
    model.specificationVersion = version
    if image_input:
        image_feature(model.description.input, "image")
    else:
        array_feature(model.description.input, "image", [3, 8, 8])
    array_feature(model.description.output, "y", [2])
    network = model.neuralNetwork
    convolution(network, "conv", "image", "conv", 3, 4)
    activation(network, "relu", "conv", "relu")
    pool = add_layer(network, "pool", ["relu"], ["pool"])
    pool.pooling.type = pool.pooling.AVERAGE
    pool.pooling.globalPooling = True
    pool.pooling.valid.SetInParent()
    flatten = add_layer(network, "flatten", ["pool"], ["flat"])
    flatten.flatten.SetInParent()
    inner_product(network, "dense", "flat", "y", 4, 2)
    return model


def nd_network(version: int = 4):
    """neuralNetwork with EXACT_ARRAY_MAPPING: x [2, 4] → batchedMatmul (4→3, with bias) → y [2, 3]."""
    model = model_pb2().Model()
    model.specificationVersion = version
    array_feature(model.description.input, "x", [2, 4])
    array_feature(model.description.output, "y", [2, 3])
    network = model.neuralNetwork
    network.arrayInputShapeMapping = 1  # EXACT_ARRAY_MAPPING
    layer = add_layer(network, "matmul", ["x"], ["y"])
    params = layer.batchedMatmul
    params.weightMatrixFirstDimension = 4
    params.weightMatrixSecondDimension = 3
    params.weights.floatValue.extend([0.5] * 12)
    params.hasBias = True
    params.bias.floatValue.extend([0.1] * 3)
    return model


def network_of(model):
    return getattr(model, model.WhichOneof("Type"))


def layer_named(model, name: str):
    return next(layer for layer in network_of(model).layers if layer.name == name)
