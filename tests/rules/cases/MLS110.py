"""MLS110 weight-count (NeuralNetworkLayerValidator.cpp: convolution, innerProduct, batchnorm, embedding, …).

Upstream tests: NNValidatorTests.cpp testInvalidEmbedding, testInvalidEmbeddingBias, testInvalidBatchnorm,
testInvalidScaleWeights.
"""

from rules import general_specs as g


def rejects_inner_product_missing_one_weight():
    model = g.plain_network()
    del g.layer_named(model, "dense").innerProduct.weights.floatValue[-1]
    return model


def rejects_inner_product_widened_without_new_weights():
    model = g.plain_network()
    g.layer_named(model, "dense").innerProduct.outputChannels = 5
    return model


def rejects_inner_product_bias_size():
    model = g.plain_network()
    g.layer_named(model, "dense").innerProduct.bias.floatValue.append(0.0)
    return model


def rejects_convolution_weight_count():
    model = g.conv_network()
    g.layer_named(model, "conv").convolution.kernelChannels = 4
    return model


def rejects_convolution_bias_size():
    model = g.conv_network()
    del g.layer_named(model, "conv").convolution.bias.floatValue[-1]
    return model


def rejects_batchnorm_channels():
    model = g.conv_network()
    network = model.neuralNetwork
    network.layers[1].output[0] = "conv_relu"
    batchnorm = g.add_layer(network, "batchnorm", ["conv_relu"], ["relu"])
    params = batchnorm.batchnorm
    params.channels = 4
    for field in ("gamma", "beta", "mean", "variance"):
        getattr(params, field).floatValue.extend([1.0] * 3)
    return _before_pool(model)


def _before_pool(model):
    """Move the last layer to just after the activation (position 2)."""
    layers = model.neuralNetwork.layers
    data = [layer.SerializeToString() for layer in layers]
    data.insert(2, data.pop())
    del layers[:]
    for item in data:
        layers.add().ParseFromString(item)
    return model


def accepts_consistent_inner_product():
    return g.plain_network()


def accepts_grouped_convolution():
    model = g.conv_network()
    conv = g.layer_named(model, "conv").convolution
    conv.outputChannels = 3
    conv.kernelChannels = 1
    conv.nGroups = 3
    del conv.weights.floatValue[:]
    conv.weights.floatValue.extend([0.5] * (3 * 1 * 3 * 3))
    del conv.bias.floatValue[:]
    conv.bias.floatValue.extend([0.1] * 3)
    dense = g.layer_named(model, "dense").innerProduct
    dense.inputChannels = 3
    del dense.weights.floatValue[:]
    dense.weights.floatValue.extend([0.5] * 6)
    return model
