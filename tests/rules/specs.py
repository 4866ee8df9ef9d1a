"""Spec builders for validator tests: the models Core ML's own tests build, written again in Python.

They follow mlmodel/tests/ModelCreationUtils.cpp and ParameterTests.cpp of apple/coremltools (same shapes,
names and parameter values) so that the ported upstream tests check the same specs Core ML's tests check.
"""

from __future__ import annotations

from mlsurgery._proto import feature_types_pb2, model_pb2

_ARRAY = feature_types_pb2().ArrayFeatureType
FLOAT32, DOUBLE, INT32 = _ARRAY.FLOAT32, _ARRAY.DOUBLE, _ARRAY.INT32
IOS13 = 4

SGD = "sgdOptimizer"
ADAM = "adamOptimizer"


def new_model():
    return model_pb2().Model()


def add_array_feature(features, name: str, rank: int, data_type: int = FLOAT32):
    feature = features.add()
    feature.name = name
    array = feature.type.multiArrayType
    array.dataType = data_type
    array.shape.extend([1] * rank)
    return feature


def _fill_weights(weights, quantized: bool):
    if quantized:
        weights.quantization.numberOfBits = 1
        weights.quantization.linearQuantization.scale.append(1.0)
        weights.quantization.linearQuantization.bias.append(0.0)
        weights.int8RawValue = b"x01"
    else:
        weights.floatValue.append(1.0)


def _inner_product(layer, updatable: bool, quantized_weights: bool = False, quantized_bias: bool = False):
    params = layer.innerProduct
    params.inputChannels = 1
    params.outputChannels = 1
    _fill_weights(params.weights, quantized_weights)
    params.hasBias = True
    _fill_weights(params.bias, quantized_bias)
    if updatable:
        layer.isUpdatable = True
        params.weights.isUpdatable = True
        params.bias.isUpdatable = True


def basic_network(model=None, *, updatable: bool, inputs=("A", 3), outputs=("B", 1), layers: int = 1,
                  quantized_weights: bool = False, quantized_bias: bool = False):
    """``buildBasicNeuralNetworkModel``: a chain of 1→1 innerProduct layers; returns the NeuralNetwork message."""
    model = model if model is not None else new_model()
    add_array_feature(model.description.input, *inputs)
    add_array_feature(model.description.output, *outputs)
    model.specificationVersion = IOS13
    network = model.neuralNetwork
    for index in range(layers):
        layer = network.layers.add()
        layer.name = "inner_layer" if layers == 1 else f"inner_layer{index}"
        layer.input.append(inputs[0] if index == 0 else f"output{index - 1}")
        layer.output.append(outputs[0] if index == layers - 1 else f"output{index}")
        _inner_product(layer, updatable, quantized_weights, quantized_bias)
    if updatable:
        model.isUpdatable = True
        model.description.trainingInput.extend(model.description.input)
    return network


def add_inner_product(model, *, updatable: bool, name: str, input: str, output: str,
                      quantized_weights: bool = False, quantized_bias: bool = False):
    """``addInnerProductLayer``."""
    layer = model.neuralNetwork.layers.add()
    layer.name = name
    layer.input.append(input)
    layer.output.append(output)
    _inner_product(layer, updatable, quantized_weights, quantized_bias)
    return model.neuralNetwork


def add_softmax(model, name: str, input: str, output: str, network=None):
    """``addSoftmaxLayer`` (on ``network`` when given, else on the model's neuralNetwork)."""
    network = network if network is not None else model.neuralNetwork
    layer = network.layers.add()
    layer.name = name
    layer.input.append(input)
    layer.output.append(output)
    layer.softmax.SetInParent()
    return network


def add_cross_entropy(model, network, name: str, input: str, target: str):
    """``addCategoricalCrossEntropyLoss``: the loss plus an INT32 [1] training input for its target."""
    loss = network.updateParams.lossLayers.add()
    loss.name = name
    loss.categoricalCrossEntropyLossLayer.input = input
    loss.categoricalCrossEntropyLossLayer.target = target
    add_array_feature(model.description.trainingInput, target, 1, INT32)
    return loss


def add_mean_squared_error(model, network, name: str, input: str, target: str):
    """``addMeanSquareError``: the loss plus a copy of output 0, renamed to the target, as a training input."""
    loss = network.updateParams.lossLayers.add()
    loss.name = name
    loss.meanSquaredErrorLossLayer.input = input
    loss.meanSquaredErrorLossLayer.target = target
    training = model.description.trainingInput.add()
    training.CopyFrom(model.description.output[0])
    training.name = target
    return loss


def _optimizer(network, kind: str):
    return getattr(network.updateParams.optimizer, kind)


def _double(parameter, default: float, low: float, high: float):
    parameter.defaultValue = default
    parameter.range.minValue = low
    parameter.range.maxValue = high


def _int64(parameter, default: int, low: int, high: int, allowed=()):
    parameter.defaultValue = default
    if allowed:
        parameter.set.values.extend(sorted(allowed))  # upstream passes a std::set, which iterates sorted
    else:
        parameter.range.minValue = low
        parameter.range.maxValue = high


def add_learning_rate(network, kind: str, default=0.7, low=0.0, high=1.0):
    _double(_optimizer(network, kind).learningRate, default, low, high)


def add_mini_batch_size(network, kind: str, default=10, low=5, high=100, allowed=()):
    _int64(_optimizer(network, kind).miniBatchSize, default, low, high, allowed)


def add_momentum(network, default, low, high):
    _double(network.updateParams.optimizer.sgdOptimizer.momentum, default, low, high)


def add_beta1(network, default=0.7, low=0.0, high=1.0):
    _double(network.updateParams.optimizer.adamOptimizer.beta1, default, low, high)


def add_beta2(network, default=0.7, low=0.0, high=1.0):
    _double(network.updateParams.optimizer.adamOptimizer.beta2, default, low, high)


def add_eps(network, default=0.7, low=0.0, high=1.0):
    _double(network.updateParams.optimizer.adamOptimizer.eps, default, low, high)


def add_epochs(network, default=100, low=1, high=100, allowed=()):
    _int64(network.updateParams.epochs, default, low, high, allowed)


def add_shuffle_and_seed(network, default=2019, low=0, high=2019, allowed=()):
    network.updateParams.shuffle.defaultValue = True
    _int64(network.updateParams.seed, default, low, high, allowed)


def add_sgd_defaults(network):
    """The optimizer settings almost every upstream test uses: SGD 0.7 in [0,1], batch 10 in [5,100], 100 epochs."""
    add_learning_rate(network, SGD)
    add_mini_batch_size(network, SGD)
    add_epochs(network)


def add_cross_entropy_with_softmax_and_sgd(model, softmax_input: str):
    """``addCategoricalCrossEntropyLossWithSoftmaxAndSGDOptimizer``."""
    network = add_softmax(model, "softmax", softmax_input, "softmax_out")
    add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "target")
    add_sgd_defaults(network)
    add_shuffle_and_seed(network)
    return network


def updatable_network_with_softmax_and_cross_entropy(model=None):
    """``buildBasicUpdatableModelWithCategoricalCrossEntropyAndSoftmax`` (no optimizer or epochs yet)."""
    model = model if model is not None else new_model()
    network = basic_network(model, updatable=True)
    add_softmax(model, "softmax", "B", "softmax_out")
    add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    return model


def valid_updatable_network():
    """The smallest valid updatable network of the upstream tests (A → inner_layer → softmax → CCE, SGD)."""
    model = updatable_network_with_softmax_and_cross_entropy()
    add_sgd_defaults(model.neuralNetwork)
    return model


def basic_classifier(model=None, *, updatable: bool, inputs=("InTensor", 3), labels=("1", "2", "3", "4"),
                     include_bias: bool = True):
    """``buildBasicNeuralNetworkClassifierModel`` with String labels: innerProduct → softmax, CCE on scoreVector."""
    model = model if model is not None else new_model()
    name, dimension = inputs
    feature = model.description.input.add()
    feature.name = name
    feature.type.multiArrayType.shape.append(dimension)
    feature.type.multiArrayType.dataType = DOUBLE
    label = model.description.output.add()
    label.name = "predictedClass"
    label.type.stringType.SetInParent()
    probabilities = model.description.output.add()
    probabilities.name = "classProbabilities"
    probabilities.type.dictionaryType.stringKeyType.SetInParent()
    model.description.predictedFeatureName = "predictedClass"
    model.description.predictedProbabilitiesName = "classProbabilities"
    classifier = model.neuralNetworkClassifier
    classifier.stringClassLabels.vector.extend(labels)
    inner = classifier.layers.add()
    inner.name = "inner_product"
    inner.input.append(name)
    inner.output.append("intermediateOutput")
    params = inner.innerProduct
    params.inputChannels = dimension
    params.outputChannels = len(labels)
    params.weights.floatValue.extend([0.5] * (dimension * len(labels)))
    if include_bias:
        params.hasBias = True
        params.bias.floatValue.extend([0.5] * len(labels))
    add_softmax(model, "softmax", "intermediateOutput", "scoreVector", network=classifier)
    if updatable:
        model.isUpdatable = True
        inner.isUpdatable = True
        params.weights.isUpdatable = True
        if include_bias:
            params.bias.isUpdatable = True
        add_cross_entropy(model, classifier, "cross_entropy", "scoreVector", "target")
        add_learning_rate(classifier, SGD)
        add_mini_batch_size(classifier, SGD, 32, 1, 100, allowed=(16, 32, 64, 128))
        add_epochs(classifier)
        add_shuffle_and_seed(classifier)
        del model.description.trainingInput[:]
        model.description.trainingInput.extend(model.description.input)
        model.description.trainingInput.extend(
            [output for output in model.description.output if output.name == "predictedClass"])
    return classifier


def basic_nearest_neighbors(model, *, updatable: bool, inputs, output_name: str):
    """``buildBasicNearestNeighborClassifier``: k=3, kd-tree, one sample labelled 'zero'."""
    name, dimension = inputs
    add_array_feature(model.description.input, name, dimension)
    output = model.description.output.add()
    output.name = output_name
    output.type.stringType.SetInParent()
    model.description.predictedFeatureName = output_name
    model.specificationVersion = IOS13
    knn = model.kNearestNeighborsClassifier
    knn.numberOfNeighbors.set.values.append(3)
    knn.numberOfNeighbors.defaultValue = 3
    index = knn.nearestNeighborsIndex
    index.singleKdTreeIndex.leafSize = 30
    index.squaredEuclideanDistance.SetInParent()
    index.numberOfDimensions = dimension
    index.floatSamples.add().vector.extend(float(i) for i in range(dimension))
    knn.uniformWeighting.SetInParent()
    knn.stringClassLabels.vector.append("zero")
    if updatable:
        model.isUpdatable = True
    return knn


def empty_pipeline(model, *, updatable: bool, inputs, outputs):
    """``buildEmptyPipelineModel``: multi-array in, multi-array out."""
    add_array_feature(model.description.input, *inputs)
    add_array_feature(model.description.output, *outputs)
    model.specificationVersion = IOS13
    model.pipeline.SetInParent()
    model.isUpdatable = updatable
    return model.pipeline


def empty_pipeline_with_string_output(model, *, updatable: bool, inputs, output_name: str):
    """``buildEmptyPipelineModelWithStringOutput``."""
    add_array_feature(model.description.input, *inputs)
    output = model.description.output.add()
    output.name = output_name
    output.type.stringType.SetInParent()
    model.specificationVersion = IOS13
    model.pipeline.SetInParent()
    model.isUpdatable = updatable
    return model.pipeline


def string_feature(features, name: str):
    feature = features.add()
    feature.name = name
    feature.type.stringType.SetInParent()
    return feature


def valid_nearest_neighbors(*, updatable: bool = False):
    """A valid k-NN classifier on its own: D=[1,1,1] in, String label E out."""
    model = new_model()
    basic_nearest_neighbors(model, updatable=updatable, inputs=("D", 3), output_name="E")
    return model


def valid_classifier():
    """``buildBasicNeuralNetworkClassifierModel`` made updatable, at specification version 4."""
    model = new_model()
    basic_classifier(model, updatable=True)
    model.specificationVersion = IOS13
    return model


def four_stage_pipeline(*, updatable: bool = False, updatable_stages=()):
    """Three networks and a k-NN classifier, A→B→C→D→E (the upstream pipeline tests' spec)."""
    spec = new_model()
    pipeline = empty_pipeline_with_string_output(spec, updatable=updatable, inputs=("A", 3), output_name="E")
    stages = [pipeline.models.add() for _ in range(4)]
    for index, (inputs, outputs) in enumerate([(("A", 3), ("B", 1)), (("B", 1), ("C", 1)), (("C", 1), ("D", 3))]):
        basic_network(stages[index], updatable=index + 1 in updatable_stages, inputs=inputs, outputs=outputs)
        if index + 1 in updatable_stages:
            add_cross_entropy_with_softmax_and_sgd(stages[index], outputs[0])
    basic_nearest_neighbors(stages[3], updatable=4 in updatable_stages, inputs=("D", 3), output_name="E")
    return spec


def updatable_network_through(configure_middle):
    """A → inner_layer (updatable) → B → middle → M → softmax → CCE; ``configure_middle(layer)`` sets its type."""
    model = new_model()
    network = basic_network(model, updatable=True)
    middle = network.layers.add()
    middle.name = "middle"
    middle.input.append("B")
    middle.output.append("M")
    configure_middle(middle)
    add_softmax(model, "softmax", "M", "softmax_out")
    add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    add_sgd_defaults(network)
    return model


def relu(layer):
    layer.activation.ReLU.SetInParent()


def absolute(layer):
    layer.unary.type = type(layer.unary).ABS


def batchnorm(layer):
    params = layer.batchnorm
    params.channels = 1
    for name in ("gamma", "beta", "mean", "variance"):
        getattr(params, name).floatValue.append(1.0)


def loss(model):
    """The first loss layer of the model's network."""
    return getattr(model, model.WhichOneof("Type")).updateParams.lossLayers[0]


def lstm_then_updatable_dense(*, lstm_updatable: bool = False):
    """x[4] (+ optional h_in, c_in [3]) → uniDirectionalLSTM → fc (updatable, 3→2) → softmax → CCE."""
    model = new_model()
    for name, size in (("x", 4), ("h_in", 3), ("c_in", 3)):
        feature = model.description.input.add()
        feature.name = name
        feature.type.multiArrayType.shape.append(size)
        feature.type.multiArrayType.dataType = DOUBLE
        feature.type.isOptional = name != "x"
    output = model.description.output.add()
    output.name = "y"
    output.type.multiArrayType.shape.append(2)
    output.type.multiArrayType.dataType = DOUBLE
    model.specificationVersion = IOS13
    model.isUpdatable = True
    network = model.neuralNetwork
    lstm = network.layers.add()
    lstm.name = "lstm"
    lstm.input.extend(["x", "h_in", "c_in"])
    lstm.output.extend(["h", "h_out", "c_out"])
    params = lstm.uniDirectionalLSTM
    params.inputVectorSize, params.outputVectorSize = 4, 3
    for activation in ("sigmoid", "tanh", "tanh"):
        getattr(params.activations.add(), activation).SetInParent()
    params.params.hasBiasVectors = True
    params.params.cellClipThreshold = 50000
    weights = params.weightParams
    for gate in ("inputGate", "forgetGate", "blockInput", "outputGate"):
        getattr(weights, f"{gate}WeightMatrix").floatValue.extend([0.1] * 12)
        getattr(weights, f"{gate}RecursionMatrix").floatValue.extend([0.1] * 9)
        getattr(weights, f"{gate}BiasVector").floatValue.extend([0.0] * 3)
    lstm.isUpdatable = lstm_updatable
    dense = network.layers.add()
    dense.name = "fc"
    dense.input.append("h")
    dense.output.append("fc_out")
    dense.isUpdatable = not lstm_updatable
    dense.innerProduct.inputChannels, dense.innerProduct.outputChannels = 3, 2
    dense.innerProduct.hasBias = True
    dense.innerProduct.weights.floatValue.extend([1.0] * 6)
    dense.innerProduct.bias.floatValue.extend([0.0] * 2)
    dense.innerProduct.weights.isUpdatable = dense.innerProduct.bias.isUpdatable = True
    add_softmax(model, "softmax", "fc_out", "y")
    add_cross_entropy(model, network, "loss", "y", "label")
    model.description.trainingInput.add().CopyFrom(model.description.input[0])
    add_sgd_defaults(network)
    return model


def lstm_with_two_branches(*, updatable_branch: str):
    """LSTM(x-part, h-part, c_in) whose x and h inputs each come through one layer: an updatable 1→1-sized
    innerProduct on ``updatable_branch`` ("x" or "h"), a unary abs (which blocks gradients) on the other.

    The LSTM is Core ML's only trainable layer with several inputs, so it is where visiting order shows: the walk
    meets the x branch first.
    """
    model = lstm_then_updatable_dense()
    network = model.neuralNetwork
    lstm, dense, softmax = list(network.layers)
    del network.layers[:]
    for branch, size in (("x", 4), ("h", 3)):
        layer = network.layers.add()
        source = "x" if branch == "x" else "h_in"
        layer.input.append(source)
        layer.output.append(f"{branch}_branch")
        if branch == updatable_branch:
            layer.name = f"fc_{branch}"
            params = layer.innerProduct
            params.inputChannels = params.outputChannels = size
            params.hasBias = True
            params.weights.floatValue.extend([0.1] * size * size)
            params.bias.floatValue.extend([0.0] * size)
            layer.isUpdatable = params.weights.isUpdatable = params.bias.isUpdatable = True
        else:
            layer.name = f"abs_{branch}"
            absolute(layer)
    del lstm.input[:]
    lstm.input.extend(["x_branch", "h_branch", "c_in"])
    network.layers.extend([lstm, dense, softmax])
    return model


def after_optional_convolution(with_convolution: bool, output_shape: tuple[int, ...], add_layer):
    """A network from ``x`` [3, 2, 2] to ``out`` (``output_shape``) whose last layer ``add_layer(builder, source)``
    writes ``out``; with ``with_convolution`` a trainable 3×3 → 1×1 convolution comes first, so that layer stands
    between a trainable layer and the output (the rewrite cases MLS505–MLS509)."""
    import numpy as np
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 2, 2))], [("out", datatypes.Array(*output_shape))])
    source = "x"
    if with_convolution:
        builder.add_convolution("conv", 3, 3, 1, 1, 1, 1, "valid", groups=1, W=np.ones((1, 1, 3, 3)), b=None,
                                has_bias=False, input_name="x", output_name="y")
        source = "y"
    add_layer(builder, source)
    builder.spec.specificationVersion = 4
    return builder.spec
